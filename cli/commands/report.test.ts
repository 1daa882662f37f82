// `raceday run --scenario smoke --out DIR` writes a valid run record and every output, and
// `raceday report` rebuilds the same outputs from the record alone; a bad record is refused with
// the field named; --baseline and --merge.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readRunRecord } from '../../reports/record/write.ts';
import { capture } from '../_fixtures/capture.ts';
import { command as report } from './report.ts';
import { command as run } from './run.ts';
import { command as sim } from './sim.ts';

afterEach(() => vi.restoreAllMocks());

const OUTPUTS = ['summary.md', 'junit.xml', 'metrics.prom', 'report.html'] as const;

describe('raceday run --out and raceday report', () => {
  it('a smoke run writes a valid record, and report rebuilds the same outputs from it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'raceday-report-'));
    const ran = await capture(() => run.run(['--scenario', 'smoke', '--users', '300', '--json', '--out', join(dir, 'run')]));
    expect(ran.code).toBe(0);
    expect(ran.err).toMatch(/run: wrote metrics\.json, summary\.md, junit\.xml, metrics\.prom, report\.html to .* in \d+ ms/);
    const rec = await readRunRecord(join(dir, 'run', 'metrics.json'));
    if (!rec.ok) throw new Error(rec.error.message);
    const printed = JSON.parse(ran.out) as { makespanMs: number; settledTickets: number };
    expect(rec.value).toMatchObject({ command: 'run', scenario: 'smoke', backend: 'memory', seed: 1, ok: true, clock: 'wall' });
    expect(rec.value.figures['makespanMs']).toBe(printed.makespanMs);
    expect(rec.value.figures['settledTickets']).toBe(printed.settledTickets);
    expect(rec.value.figures['settle.count']).toBe(300);
    expect(rec.value.figures['notify.count']).toBe(300);
    expect(rec.value.stages.map((s) => s.name)).toEqual(['settle', 'notify', 'ranking']);
    expect(rec.value.series.some((s) => s.kind === 'backlog' && s.points.length > 0)).toBe(true);
    expect(rec.value.series.find((s) => s.name === 'settled-per-s')?.points.reduce((n, p) => n + p.value / 10, 0)).toBeCloseTo(300, 6);
    expect(rec.value.invariants.length).toBeGreaterThan(5);
    expect(rec.value.invariants.every((i) => i.ok)).toBe(true);

    const rebuilt = await capture(() => report.run([join(dir, 'run', 'metrics.json'), '--out', join(dir, 'again')]));
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.out).toMatch(/^raceday report: PASS /);
    for (const f of OUTPUTS) expect(await readFile(join(dir, 'again', f), 'utf8'), f).toBe(await readFile(join(dir, 'run', f), 'utf8'));
  });

  it('a replayed scenario writes its record too: settle latencies as they committed, backlogs, invariants', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'raceday-report-'));
    const scenario = join(dir, 'tiny.json');
    await writeFile(scenario, JSON.stringify({ name: 'tiny', users: 300, tickets: 2_000, races: [{ raceId: 'r1', venue: 'v', sport: 'keirin', riders: 9, postMinute: 600 }] }));
    const ran = await capture(() => run.run(['--scenario', scenario, '--json', '--out', join(dir, 'run')]));
    expect(ran.code).toBe(0);
    const printed = JSON.parse(ran.out) as { races: { settledUsers: number }[] };
    const rec = await readRunRecord(join(dir, 'run', 'metrics.json'));
    if (!rec.ok) throw new Error(rec.error.message);
    expect(rec.value).toMatchObject({ command: 'run', scenario: 'tiny', ok: true });
    expect(rec.value.figures['settle.count']).toBe(printed.races[0]?.settledUsers);
    expect(rec.value.invariants.length).toBeGreaterThan(5);
    const again = await capture(() => report.run([join(dir, 'run', 'metrics.json'), '--out', join(dir, 'again')]));
    expect(again.code).toBe(0);
    for (const f of OUTPUTS) expect(await readFile(join(dir, 'again', f), 'utf8'), f).toBe(await readFile(join(dir, 'run', f), 'utf8'));
  });

  it('refuses a record with a bad field, naming it, and a missing one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'raceday-report-'));
    await capture(() => sim.run(['--seeds', '2', '--out', join(dir, 'sim')]));
    const good = JSON.parse(await readFile(join(dir, 'sim', 'metrics.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ ...good, environment: { ...(good['environment'] as object), cpuCount: -2 } }));
    const bad = await capture(() => report.run([join(dir, 'bad.json'), '--out', join(dir, 'x')]));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/bad\.json: environment\.cpuCount: .*\[RECORD\.INVALID\]/);
    const missing = await capture(() => report.run([join(dir, 'none.json'), '--out', join(dir, 'x')]));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/none\.json: cannot read the run record \(ENOENT\) \[RECORD\.UNREADABLE\]/);
    const noOut = await capture(() => report.run([join(dir, 'sim', 'metrics.json')]));
    expect(noOut.err).toMatch(/--out DIR is required/);
  });

  it('compares with a baseline and merges records', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'raceday-report-'));
    await capture(() => sim.run(['--seeds', '2', '--out', join(dir, 'a')]));
    await capture(() => sim.run(['--seeds', '3', '--from', '3', '--out', join(dir, 'b')]));
    const a = join(dir, 'a', 'metrics.json');
    const b = join(dir, 'b', 'metrics.json');
    const compared = await capture(() => report.run([b, '--baseline', a, '--out', join(dir, 'cmp'), '--json']));
    expect(JSON.parse(compared.out)).toMatchObject({ verdict: 'PASS', files: [...OUTPUTS] });
    expect(await readFile(join(dir, 'cmp', 'summary.md'), 'utf8')).toContain('| seeds | 2 | 3 | +50.0% |');
    const merged = await capture(() => report.run([a, b, '--merge', '--out', join(dir, 'merged')]));
    expect(merged.code).toBe(0);
    const m = await readRunRecord(join(dir, 'merged', 'metrics.json'));
    expect(m.ok && m.value.figures['seeds']).toBe(5);
  });
});
