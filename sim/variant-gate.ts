// A gate over design variants of this tree, measured in this process: the variants' samples are
// taken interleaved (A B B A ...) after one unrecorded warm-up round, more rounds while a
// statistical rule is inconclusive (reports/gate/adaptive.ts), then judged by the rules.
// `raceday gate --variant ...` and the A/A, A/B bench (`raceday bench gate`) run it.
import { sampleUntilDecided, type AdaptiveOutcome } from '../reports/gate/adaptive.ts';
import type { Rules } from '../reports/gate/rules.ts';
import { RunRecorder } from '../reports/record/recorder.ts';
import type { RunRecord } from '../reports/record/schema.ts';
import { DEFAULT_VARIANTS } from '../pipeline/settings.ts';
import { effectiveSettings, runSample, type BaseSettings, type VariantSpec } from './variants.ts';

export interface VariantGateOptions {
  readonly rules: Rules;
  readonly specs: readonly VariantSpec[];
  readonly users: number;
  readonly seed: number;
  readonly repeat: number;
  readonly maxRepeat: number;
  readonly argv?: readonly string[];
  readonly log?: (line: string) => void;
}

/** The smoke day on the memory backend with `raceday run`'s defaults: what every variant starts from. */
export function memoryBase(users: number, seed: number): BaseSettings {
  return { backend: 'memory', seed, users, variants: DEFAULT_VARIANTS, workers: 2, maxInFlight: 256, spannerShards: 1, strategy: 'auto', timeoutMs: 300_000 };
}

export async function runVariantGate(o: VariantGateOptions): Promise<AdaptiveOutcome> {
  const base = memoryBase(o.users, o.seed);
  const quiet = () => undefined;
  for (const spec of o.specs) await runSample(base, spec, quiet); // warm-up: compiles the code paths
  const configuration = { users: o.users, order: 'ABBA', variants: Object.fromEntries(o.specs.map((s) => [s.name, effectiveSettings(base, s)])) };
  const recorder = new RunRecorder({ command: 'gate --variant', argv: o.argv ?? [], scenario: 'smoke', backend: 'memory', seed: o.seed, configuration }).start();
  const held = new Map<string, string[]>();
  const record = (): RunRecord => {
    const invariants = [...held].map(([name, violations]) => ({ name, ok: violations.length === 0, violations }));
    return { ...recorder.stop(invariants.every((i) => i.ok)), invariants };
  };
  return sampleUntilDecided({
    rules: o.rules,
    sides: o.specs.length,
    repeat: o.repeat,
    maxRepeat: o.maxRepeat,
    record,
    ...(o.log === undefined ? {} : { log: o.log }),
    runStep: async (step, order) => {
      const spec = o.specs[step.variant] as VariantSpec;
      const s = await runSample(base, spec, quiet);
      for (const inv of s.invariants) held.set(inv.name, [...(held.get(inv.name) ?? []), ...inv.violations.slice(0, 2).map((v) => `${spec.name} #${step.repeat}: ${v}`)]);
      recorder.sample(spec.name, effectiveSettings(base, spec), { repeat: step.repeat, order, figures: s.figures });
      o.log?.(`raceday gate: sample ${order + 1} (${spec.name} #${step.repeat}): makespan ${s.figures['makespanMs']} ms, main-thread CPU ${s.figures['sampleCpuMs']} ms`);
    },
  });
}
