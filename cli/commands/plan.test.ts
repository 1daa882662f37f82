// `raceday plan`: misuse is a usage error (exit 2) naming the option; --json prints the plan's
// section shape; --out writes a run record with its capacityPlan section and a report.html that
// shows it; --params overrides reach the plan; an infeasible target exits 1 with its reason.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { capacityPlanOf } from '../../reports/record/capacity-plan.ts';
import { readRunRecord } from '../../reports/record/write.ts';
import { capture } from '../_fixtures/capture.ts';
import { command as plan } from './plan.ts';

afterEach(() => vi.restoreAllMocks());

// Small enough that the virtual-time confirmation runs whole in well under a second per run.
const SMALL = ['--users', '300', '--tickets', '3000', '--slo-seconds', '30'];

describe('raceday plan: misuse', () => {
  const cases: [string, string[], RegExp][] = [
    ['missing --users', ['--tickets', '10', '--slo-seconds', '5'], /--users U is required/],
    ['missing --tickets', ['--users', '10', '--slo-seconds', '5'], /--tickets T is required/],
    ['missing --slo-seconds', ['--users', '10', '--tickets', '10'], /--slo-seconds S is required/],
    ['a word for a number', ['--users', 'many', '--tickets', '10', '--slo-seconds', '5'], /option --users must be an integer, got "many"/],
    ['zero users', ['--users', '0', '--tickets', '10', '--slo-seconds', '5'], /option --users must be at least 1, got 0/],
    ['a fractional SLO', ['--users', '10', '--tickets', '10', '--slo-seconds', '2.5'], /option --slo-seconds must be an integer/],
    ['a zero notification SLO', [...SMALL, '--notify-p99-seconds', '0'], /option --notify-p99-seconds must be at least 1, got 0/],
    ['fewer tickets than users', ['--users', '10', '--tickets', '5', '--slo-seconds', '5'], /--tickets must be at least --users/],
    ['an unknown target', [...SMALL, '--target', 'aws'], /option --target must be one of memory, emulators, google, got "aws"/],
    ['a preset and --users', ['--preset', 'grand-prix', '--users', '5', '--slo-seconds', '5'], /give either --preset or --users and --tickets, not both/],
    ['an unknown preset', ['--preset', 'no-such-race', '--slo-seconds', '5'], /--preset: scenario "no-such-race" is neither a preset/],
    ['a missing calibration run', [...SMALL, '--calibrate', '/no/such/run.json'], /--calibrate .*no\/such\/run\.json: cannot read the run record .*RECORD\.UNREADABLE/],
  ];
  for (const [what, argv, message] of cases) {
    it(`refuses ${what} with exit 2 and one line`, async () => {
      const r = await capture(() => plan.run(argv));
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(message);
      expect(r.err).toMatch(/\(raceday help plan lists the options\)\n$/);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    });
  }

  it('refuses a --params file with an unknown parameter, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'raceday-plan-'));
    await writeFile(join(dir, 'p.json'), JSON.stringify({ spannerWrites: 1 }));
    const r = await capture(() => plan.run([...SMALL, '--params', join(dir, 'p.json')]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--params PLAN\.PARAMS_INVALID: .*p\.json is invalid/);
    expect(r.err).toMatch(/unknown parameter "spannerWrites"/);
  });

  it('routes plan calibrate and plan --validate to their own commands', async () => {
    const cal = await capture(() => plan.run(['calibrate']));
    expect(cal.code).toBe(2);
    expect(cal.err).toMatch(/--backend memory\|emulators is required \(what to calibrate\)/);
    const val = await capture(() => plan.run(['--validate', '--backend', 'mars']));
    expect(val.code).toBe(2);
    expect(val.err).toMatch(/option --backend must be one of .*got "mars"/);
    expect(await plan.helpFor?.(['calibrate', '--help'])).toMatch(/^usage: raceday plan calibrate --backend/);
    expect(await plan.helpFor?.(['--validate', '--help'])).toMatch(/^usage: raceday plan --validate/);
    expect(await plan.helpFor?.(['--help'])).toMatch(/^usage: raceday plan --users U --tickets T --slo-seconds S/);
  });
});

describe('raceday plan: answers', () => {
  it('--json prints the plan: question, recommendation, prediction with intervals, headroom, curve, parameters with sources', async () => {
    const r = await capture(() => plan.run([...SMALL, '--json']));
    // Progress on stderr, one line per step; stdout is the one JSON object.
    expect(r.err).toMatch(/^raceday plan: searched \d+ configurations with the closed form in \d+ ms\nraceday plan: virtual-time pipeline run 1 \(the closed form's choice at cost [\d.]+\)\n/);
    expect(r.out.trim().split('\n')).toHaveLength(1);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as Record<string, unknown>;
    const section = capacityPlanOf(j);
    expect(section).toBeDefined();
    if (section === undefined) return;
    expect(section.question).toEqual({ users: 300, tickets: 3000, sloSeconds: 30, target: 'emulators' });
    expect(section.feasible).toBe(true);
    expect(Object.keys(section.configuration).sort()).toEqual(['fanout', 'gatewayInstances', 'maxInFlight', 'notifyWorkers', 'postSettleWorkers', 'settleWorkers', 'settlementsPerCommit', 'spannerShards', 'subscriberClients'].sort());
    expect(section.predicted.method).toBe('virtual-time');
    expect(section.predicted.makespanMs.low).toBeLessThanOrEqual(section.predicted.makespanMs.p50);
    expect(section.predicted.makespanMs.high).toBeGreaterThanOrEqual(section.predicted.makespanMs.p50);
    expect(section.predicted.makespanMs.high).toBeLessThanOrEqual(30_000);
    expect(section.headroom.marginMs).toBeCloseTo(30_000 - section.predicted.makespanMs.high, 3);
    expect(section.mainKnob.name).toBe('spannerShards');
    expect(section.curve.some((c) => c.virtualMakespanMs !== null)).toBe(true);
    expect(section.parameters.find((p) => p.name === 'spannerMutationsPerCommitMax')).toMatchObject({ value: 80_000, url: 'https://cloud.google.com/spanner/quotas', asOf: '2026-12-01' });
    expect(j['limits']).toMatchObject({ mutationsPerCommitMax: 80_000 });
  });

  it('--out writes a plan record with its capacityPlan section and report.html shows the section; --params values are used', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'raceday-plan-'));
    await writeFile(join(dir, 'p.json'), JSON.stringify({ useLargeRegion: 0, notificationBytes: 2_000 }));
    const r = await capture(() => plan.run(['--users', '300', '--tickets', '3000', '--slo-seconds', '30', '--target', 'google', '--params', join(dir, 'p.json'), '--out', join(dir, 'out')]));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^raceday plan: 300 users, 3,000 tickets, SLO 30 s on google\nFEASIBLE/);
    expect(r.out).toMatch(/Spanner nodes\s+\d+/);
    expect(r.out).toMatch(/notificationBytes\s+2,000 bytes \(overridden\)/);
    expect(r.out).toMatch(/\| is the SLO \(30 s\)/);
    expect(r.out).toMatch(/wrote metrics\.json, summary\.md, junit\.xml, metrics\.prom, report\.html to /);
    const rec = await readRunRecord(join(dir, 'out', 'metrics.json'));
    if (!rec.ok) throw new Error(rec.error.message);
    expect(rec.value).toMatchObject({ command: 'plan', backend: 'google', ok: true, clock: 'virtual' });
    // The wall time is the plan's own (a virtual-time confirmation takes a few hundred ms at least).
    expect(rec.value.wallMs).toBeGreaterThan(50);
    const section = capacityPlanOf(rec.value.capacityPlan);
    expect(section?.parameters.find((p) => p.name === 'notificationBytes')).toMatchObject({ value: 2_000, overridden: true });
    // 300 users x 3 messages x 2,000 B = 1.8 MB at 50 MB/s.
    expect(section?.assumptions.join(' ')).toMatch(/900 published messages, each counted at max\(1,000 B, 2,000 B\), against 50 MB\/s/);
    expect(rec.value.figures['capacity.spannerNodes']).toBe(section?.configuration['spannerNodes']);
    const html = await readFile(join(dir, 'out', 'report.html'), 'utf8');
    expect(html).toContain('Capacity plan: recommendation');
    expect(html).toContain('Capacity plan: makespan against Spanner nodes');
    expect(html).toContain('(cloud.google.com/pubsub/quotas)');
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('--notify-p99-seconds: the plan meets a notification-latency SLO too, and the text, record and report.html say so', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'raceday-plan-'));
    const r = await capture(() => plan.run([...SMALL, '--notify-p99-seconds', '20', '--out', join(dir, 'out')]));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^raceday plan: 300 users, 3,000 tickets, SLO 30 s, notify latency p99 SLO 20 s on emulators\nFEASIBLE: the configuration below meets both SLOs with [\d.]+ s \([\d.]+%\) of makespan headroom and [\d.]+ s \([\d.]+%\) of notify latency headroom\./);
    expect(r.out).toMatch(/notify latency headroom\s+SLO 20 s - predicted p99 high [\d.]+ s = [\d.]+ s/);
    const rec = await readRunRecord(join(dir, 'out', 'metrics.json'));
    if (!rec.ok) throw new Error(rec.error.message);
    const section = capacityPlanOf(rec.value.capacityPlan);
    expect(section?.question.notifyP99Seconds).toBe(20);
    const notify = section?.headroom.notify;
    expect(notify?.sloMs).toBe(20_000);
    expect(notify?.predictedHighMs).toBe(section?.predicted.notifyLatencyMs.p99High);
    expect(notify?.predictedHighMs).toBeLessThanOrEqual(20_000);
    expect(rec.value.figures['capacity.notifyLatencyHeadroomMs']).toBe(notify?.marginMs);
    const html = await readFile(join(dir, 'out', 'report.html'), 'utf8');
    expect(html).toContain('notify latency p99 SLO 20 s');
    expect(html).toContain('notify latency headroom');
  });

  it('exits 1 and says why when the publish quota cannot carry the race in the SLO', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'raceday-plan-'));
    await writeFile(join(dir, 'p.json'), JSON.stringify({ useLargeRegion: 0, pubsubPublishMBpsSmallRegion: 0.001 }));
    const r = await capture(() => plan.run([...SMALL, '--target', 'google', '--params', join(dir, 'p.json')]));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/INFEASIBLE: no configuration meets the SLO\.\n  PLAN\.PUBLISH_QUOTA: the Pub\/Sub publish quota cannot carry it: 300 users x 3 messages x max\(1,000 B billed minimum, 400 B\) = 0 GB at 0 MB\/s/);
    expect(r.out).toMatch(/takes 900 s, more than the SLO's 30 s/);
  });
});
