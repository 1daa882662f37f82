// `raceday bench gate`: how the gate behaves on this machine. It runs the statistical gate N times
// on the same code against itself (A/A: it must never fail) and N times against a copy slowed by
// the documented test knob (A/B, testSlowdown=0.25: it should fail every time), each gate exactly
// as `raceday gate --variant A= --variant B=... --rules FILE` runs it (the smoke day on the
// memory backend, one warm-up round, samples interleaved A B B A, more rounds while inconclusive),
// and prints one JSON object: the verdicts per rule and per gate, the samples taken, the shifts.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs, UsageError, withUsage } from '../cmdline/args.ts';
import { GATE_EXIT, gateExitCode, type GateResult } from '../reports/gate/result.ts';
import { parseRules, type Rules } from '../reports/gate/rules.ts';
import { runVariantGate } from '../sim/variant-gate.ts';
import { parseVariant, type VariantSpec } from '../sim/variants.ts';

/** The default rules: the settle makespan (wall clock) and the main thread's CPU time. */
export const BENCH_GATE_RULES = {
  version: 1,
  defaults: { threshold: 0.1, alpha: 0.05, minSamples: 8, inconclusive: 'warn' },
  rules: [
    { name: 'settle makespan', kind: 'statistical', figure: 'makespanMs' },
    { name: 'main-thread CPU', kind: 'statistical', figure: 'sampleCpuMs' },
  ],
} as const;

const DEFAULTS = { runs: 20, users: 1_000, slowdown: '0.25', repeat: 8, maxRepeat: 16 } as const;

export const usage = `usage: raceday bench gate [--runs N] [--users N] [--slowdown F] [--repeat K] [--max-repeat M] [--rules FILE] [--json]

Runs the statistical gate N times (default ${DEFAULTS.runs}) A/A (this code against itself: it must
never fail) and N times A/B (B with the test knob testSlowdown=F, default ${DEFAULTS.slowdown}: B's
main thread does 25% more CPU work; the gate should fail every time), each as
"raceday gate --variant A= --variant B=... --rules FILE --users N --repeat K --max-repeat M" runs
it, and prints one JSON object with the verdicts. Default rules: statistical rules on makespanMs
(wall clock) and sampleCpuMs (main-thread CPU time), 10% threshold, 8 samples a side to start,
up to ${DEFAULTS.maxRepeat} while inconclusive; --users default ${DEFAULTS.users}. Per rule: the verdicts, and
per gate the shift (relShift) and its interval's lower bound (relCiLow), as fractions of A's median.`;

interface GateRun {
  readonly exitCode: number;
  readonly repeats: number;
  readonly verdicts: Record<string, string>;
  readonly relShift: Record<string, number | null>;
  readonly relCiLow: Record<string, number | null>;
  readonly wallMs: number;
}

function summarise(runs: readonly GateRun[], ruleNames: readonly string[]) {
  const count = (pred: (r: GateRun) => boolean) => runs.filter(pred).length;
  const perRule = Object.fromEntries(
    ruleNames.map((n) => {
      const verdicts: Record<string, number> = {};
      for (const r of runs) verdicts[r.verdicts[n] ?? 'missing'] = (verdicts[r.verdicts[n] ?? 'missing'] ?? 0) + 1;
      const shifts = runs.map((r) => r.relShift[n]).filter((x): x is number => typeof x === 'number').sort((a, b) => a - b);
      const round = (x: number | null | undefined) => (typeof x === 'number' ? Math.round(x * 1000) / 1000 : null);
      return [n, { verdicts, relShiftMin: round(shifts[0]), relShiftMedian: round(shifts[Math.floor(shifts.length / 2)]), relShiftMax: round(shifts[shifts.length - 1]), relShift: runs.map((r) => round(r.relShift[n])), relCiLow: runs.map((r) => round(r.relCiLow[n])) }];
    }),
  );
  return {
    gates: runs.length,
    failed: count((r) => r.exitCode === GATE_EXIT.regression || r.exitCode === GATE_EXIT.breach),
    passed: count((r) => r.exitCode === GATE_EXIT.pass),
    samplesPerSide: runs.map((r) => r.repeats),
    perRule,
    exitCodes: runs.map((r) => r.exitCode),
    secondsPerGate: Math.round(runs.reduce((s, r) => s + r.wallMs, 0) / Math.max(1, runs.length) / 100) / 10,
  };
}

async function oneGate(rules: Rules, specs: readonly VariantSpec[], o: { users: number; repeat: number; maxRepeat: number }): Promise<GateRun> {
  const start = performance.now();
  const { results, repeats } = await runVariantGate({ rules, specs, users: o.users, seed: 1, repeat: o.repeat, maxRepeat: o.maxRepeat });
  const byName = <T>(f: (r: GateResult) => T) => Object.fromEntries(results.map((r) => [r.name, f(r)]));
  return { exitCode: gateExitCode(results, rules.settings.inconclusive === 'fail'), repeats, verdicts: byName((r) => r.verdict), relShift: byName((r) => r.numbers['relShift'] ?? null), relCiLow: byName((r) => r.numbers['relCiLow'] ?? null), wallMs: performance.now() - start };
}

function variant(text: string): VariantSpec {
  const r = parseVariant(text);
  if (!r.ok) throw new UsageError(r.error.message);
  return r.value;
}

export function runBench(argv: readonly string[]): Promise<number> {
  return withUsage(usage, async () => {
    const { flags } = parseArgs(argv, {
      runs: { type: 'int', min: 1, max: 1_000 },
      users: { type: 'int', min: 10, max: 200_000 },
      slowdown: { type: 'string' },
      repeat: { type: 'int', min: 2, max: 1_000 },
      'max-repeat': { type: 'int', min: 2, max: 1_000 },
      rules: { type: 'string' },
      json: { type: 'boolean' },
    });
    const parsed = parseRules(typeof flags['rules'] === 'string' ? readFileSync(flags['rules'], 'utf8') : BENCH_GATE_RULES);
    if (!parsed.ok) throw new UsageError(parsed.error.message);
    const rules = parsed.value;
    const o = { users: Number(flags['users'] ?? DEFAULTS.users), repeat: Number(flags['repeat'] ?? DEFAULTS.repeat), maxRepeat: Number(flags['max-repeat'] ?? DEFAULTS.maxRepeat) };
    if (o.maxRepeat < o.repeat) throw new UsageError(`--max-repeat ${o.maxRepeat} is below --repeat ${o.repeat}`);
    const runs = Number(flags['runs'] ?? DEFAULTS.runs);
    const slowdown = String(flags['slowdown'] ?? DEFAULTS.slowdown);
    const pairs = { aa: [variant('A='), variant('B=')], ab: [variant('A='), variant(`B=testSlowdown=${slowdown}`)] };
    const loadStart = loadavg()[0];
    const out: Record<'aa' | 'ab', GateRun[]> = { aa: [], ab: [] };
    // A/A and A/B gates alternate, so a machine that gets busier partway affects both alike.
    for (let i = 0; i < runs; i++) {
      for (const kind of ['aa', 'ab'] as const) {
        const g = await oneGate(rules, pairs[kind], o);
        out[kind].push(g);
        process.stderr.write(`bench gate ${kind.toUpperCase()} ${i + 1}/${runs}: exit ${g.exitCode}, ${g.repeats} samples a side, ${Object.entries(g.verdicts).map(([k, v]) => `${k} ${v}`).join(', ')} (${Math.round(g.wallMs / 100) / 10} s)\n`);
      }
    }
    const names = rules.rules.map((r) => r.name);
    const report = {
      bench: 'gate',
      command: `raceday bench gate --runs ${runs} --users ${o.users} --slowdown ${slowdown} --repeat ${o.repeat} --max-repeat ${o.maxRepeat}${typeof flags['rules'] === 'string' ? ` --rules ${flags['rules']}` : ''}`,
      rules: rules.rules,
      settings: rules.settings,
      aa: summarise(out.aa, names),
      ab: summarise(out.ab, names),
      loadAverage1m: { start: loadStart, end: loadavg()[0] },
    };
    process.stdout.write(`${JSON.stringify(report, null, flags['json'] === true ? undefined : 2)}\n`);
    return 0;
  });
}
