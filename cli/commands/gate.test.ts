// `raceday gate` as a CI job sees it: the real CLI (bin/raceday.mjs, a child process) run on
// crafted run records and rules files, checked by its exit code and what it prints; then the
// in-process variant mode and --compare against this repository's HEAD, both kept small.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { around, singleRun, twoVariants } from '../../reports/gate/_fixtures/records.ts';
import { parseRunRecord } from '../../reports/record/schema.ts';
import { capture } from '../_fixtures/capture.ts';
import { command as gate } from './gate.ts';

const root = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'raceday-gate-test-'));
const file = (name: string, value: unknown): string => {
  const p = join(dir, name);
  writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
  return p;
};

function cli(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(root, 'bin', 'raceday.mjs'), 'gate', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => done({ code: code ?? -1, out, err }));
  });
}

const statRules = (inconclusive: 'warn' | 'fail') => ({ version: 1, defaults: { inconclusive }, rules: [{ name: 'makespan', kind: 'statistical', figure: 'makespanMs' }, { name: 'tickets', kind: 'exact', figure: 'settledTickets', variant: 'B', value: 100 }] });
const noisyA = [800, 1200, 950, 1100, 900, 1300, 1000, 850];
const noisyB = [900, 1350, 1050, 1250, 1000, 1450, 1100, 950];

afterEach(() => vi.restoreAllMocks());

describe('raceday gate exit codes (the CLI as a process)', () => {
  let results: Record<string, { code: number; out: string; err: string }> = {};
  beforeAll(async () => {
    const detRules = file('det.json', { version: 1, rules: [{ name: 'tickets', kind: 'exact', figure: 'settledTickets', value: 5006 }, { name: 'invariants', kind: 'invariants' }] });
    const cases: Record<string, string[]> = {
      pass: ['--rules', detRules, file('good.json', singleRun({ settledTickets: 5006 }))],
      breach: ['--rules', detRules, file('short.json', singleRun({ settledTickets: 5000 }))],
      regression: ['--rules', file('stat-warn.json', statRules('warn')), file('slow.json', twoVariants('makespanMs', around(1000, 8), around(1250, 8, 3)))],
      inconclusiveWarn: ['--rules', file('stat-warn2.json', statRules('warn')), file('noisy.json', twoVariants('makespanMs', noisyA, noisyB))],
      inconclusiveFail: ['--rules', file('stat-fail.json', statRules('fail')), join(dir, 'noisy.json'), '--json'],
      badRules: ['--rules', file('bad.json', { version: 1, rules: [{ name: 'x', kind: 'tolerance', figure: 'f' }] }), join(dir, 'good.json')],
    };
    const entries = Object.entries(cases);
    const done = await Promise.all(entries.map(([, args]) => cli(args)));
    results = Object.fromEntries(entries.map(([k], i) => [k, done[i] as { code: number; out: string; err: string }]));
  }, 120_000);

  it('0 when every rule passes', () => {
    expect(results['pass']?.code).toBe(0);
    expect(results['pass']?.out).toContain('PASS         tickets: settledTickets = 5006');
  });

  it('99 on a breached threshold (as k6), with the numbers in the message', () => {
    expect(results['breach']?.code).toBe(99);
    expect(results['breach']?.out).toContain('BREACH       tickets: settledTickets is 5000, the rule requires exactly 5006');
  });

  it('98 on a statistical regression', () => {
    expect(results['regression']?.code).toBe(98);
    expect(results['regression']?.out).toMatch(/REGRESSION {3}makespan: makespanMs: B vs A 2\d\.\d% worse \(95% CI \+\d+\.\d% \.\. \+\d+\.\d%, positive is worse/);
  });

  it('inconclusive warns with 0, or exits 97 when the rules ask for it to fail', () => {
    expect(results['inconclusiveWarn']?.code).toBe(0);
    expect(results['inconclusiveWarn']?.out).toContain('INCONCLUSIVE');
    expect(results['inconclusiveFail']?.code).toBe(97);
    const json = JSON.parse(results['inconclusiveFail']?.out ?? '{}') as { exitCode: number; results: { name: string; verdict: string }[] };
    expect(json.exitCode).toBe(97);
    expect(json.results.map((r) => r.verdict)).toEqual(['inconclusive', 'pass']);
  });

  it('2 with one line naming the field of an invalid rules file', () => {
    expect(results['badRules']?.code).toBe(2);
    expect(results['badRules']?.err).toMatch(/GATE\.RULES_INVALID: rules\[0\]: a tolerance rule needs at least one of min, max/);
  });
});

describe('raceday gate usage and outputs', () => {
  it('refuses a missing rules file, a missing record, and compare-only options on a record', async () => {
    const rules = file('ok.json', { version: 1, rules: [{ name: 'inv', kind: 'invariants' }] });
    expect((await capture(() => gate.run([join(dir, 'good.json')]))).err).toMatch(/--rules FILE is required/);
    expect((await capture(() => gate.run(['--rules', rules]))).err).toMatch(/give the run record to judge/);
    expect((await capture(() => gate.run(['--rules', rules, join(dir, 'nope.json')]))).err).toMatch(/cannot read the run record .*nope\.json \(ENOENT\)/);
    expect((await capture(() => gate.run(['--rules', rules, '--repeat', '4', join(dir, 'good.json')]))).code).toBe(2);
    const needsBase = file('base-rule.json', { version: 1, rules: [{ name: 'same', kind: 'exact', figure: 'settledTickets' }] });
    expect((await capture(() => gate.run(['--rules', needsBase, join(dir, 'good.json')]))).err).toMatch(/rule "same" compares to a baseline: give --baseline/);
    const withBase = await capture(() => gate.run(['--rules', needsBase, join(dir, 'good.json'), '--baseline', join(dir, 'short.json')]));
    expect(withBase.code).toBe(99);
  });

  it('--out writes the results and the record with its gates attached', async () => {
    const out = join(dir, 'out');
    const { code } = await capture(() => gate.run(['--rules', join(dir, 'stat-warn.json'), join(dir, 'slow.json'), '--out', out]));
    expect(code).toBe(98);
    const record = parseRunRecord(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(record.ok && record.value.gates.map((g) => g.status)).toEqual(['fail', 'pass']);
    expect((JSON.parse(readFileSync(join(out, 'gate.json'), 'utf8')) as { exitCode: number }).exitCode).toBe(98);
  });
});

describe('raceday gate measuring its own samples', () => {
  const rules = () => file('small.json', { version: 1, defaults: { minSamples: 2 }, rules: [{ name: 'makespan', kind: 'statistical', figure: 'makespanMs' }, { name: 'tickets', kind: 'exact', figure: 'settledTickets', variant: 'B', value: 131 }, { name: 'inv', kind: 'invariants' }] });

  it('--variant: two variants of this tree, interleaved, in one record', async () => {
    const out = join(dir, 'variants');
    const r = await capture(() => gate.run(['--rules', rules(), '--variant', 'A=', '--variant', 'B=workers=3', '--users', '50', '--repeat', '2', '--max-repeat', '2', '--out', out, '--json']));
    const json = JSON.parse(r.out) as { results: { verdict: string; message: string }[] };
    expect(json.results.map((x) => x.verdict)).toEqual(['inconclusive', 'pass', 'pass']); // 2 samples a side give no 95% interval
    const record = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { variants: { name: string; settings: Record<string, unknown>; samples: { order: number }[] }[] };
    expect(record.variants.map((v) => [v.name, v.samples.map((s) => s.order)])).toEqual([['A', [0, 3]], ['B', [1, 2]]]);
    expect(record.variants[1]?.settings['workers']).toBe(3);
  }, 60_000);

  it('--compare HEAD: a checkout of HEAD against this tree, sharing node_modules', async () => {
    const isRepo = spawnSync('git', ['rev-parse', '--verify', 'HEAD'], { cwd: root }).status === 0;
    const r = await capture(() => gate.run(['--rules', rules(), '--compare', 'HEAD', '--users', '50', '--repeat', '2', '--max-repeat', '2', '--json']));
    if (!isRepo) {
      expect(r.err).toMatch(/--compare HEAD: not a commit/);
      return;
    }
    expect(r.err).toMatch(/sharing node_modules \(package-lock\.json is the same\)/);
    const json = JSON.parse(r.out) as { exitCode: number; results: { verdict: string }[] };
    expect(json.results.map((x) => x.verdict)).toEqual(['inconclusive', 'pass', 'pass']); // 2 samples a side give no 95% interval
    // The temporary checkout is gone afterwards.
    expect(spawnSync('git', ['worktree', 'list'], { cwd: root, encoding: 'utf8' }).stdout).not.toContain('raceday-gate-');
  }, 120_000);
});
