// `raceday run --variant NAME=SETTINGS ... [--repeat K] --out DIR`: the smoke day settled once per
// variant and repeat, interleaved (sim/variants.ts), into one run record with every sample
// (`variants[].samples`, in run order), plus a table of each variant's medians on stdout.
import { join } from 'node:path';
import { median } from '../reports/gate/stats.ts';
import { RunRecorder } from '../reports/record/recorder.ts';
import type { RunRecord } from '../reports/record/schema.ts';
import { effectiveSettings, parseVariant, runVariants, type BaseSettings, type SampleResult, type VariantSpec } from '../sim/variants.ts';
import { UsageError } from './args.ts';
import { finishRecording, sampleProgress } from './run-record.ts';
import { createSampleProfiler, finishProfiledRecording } from '../planner/profile-run.ts';
import { profileSummary } from '../planner/profile-record.ts';

/** Figures the table shows per variant (the record holds them all). */
const SHOWN = ['makespanMs', 'notifyMakespanMs', 'rankingMakespanMs', 'settleP99Ms', 'settledTickets'] as const;

/** Settings only the Spanner backends use: refused on memory rather than ignored. */
const SPANNER_ONLY = ['spannerShards', 'settlementsPerCommit'] as const;

export function parseVariantFlags(texts: readonly string[], backend: string): VariantSpec[] {
  const specs: VariantSpec[] = [];
  for (const t of texts) {
    const r = parseVariant(t);
    if (!r.ok) throw new UsageError(`--variant ${r.error.message}`);
    const spannerOnly = backend === 'memory' ? SPANNER_ONLY.find((k) => r.value.parsed[k] !== undefined) : undefined;
    if (spannerOnly !== undefined) throw new UsageError(`--variant ${r.value.name}: ${spannerOnly} applies to the Spanner backends (use --backend emulators)`);
    if (specs.some((s) => s.name === r.value.name)) throw new UsageError(`--variant: the name "${r.value.name}" is given twice`);
    specs.push(r.value);
  }
  return specs;
}

/** Every sample's invariants folded into one result per checker: it holds only if it held in every sample. */
function invariantsOf(samples: readonly SampleResult[]): RunRecord['invariants'] {
  const byName = new Map<string, string[]>();
  for (const s of samples) {
    for (const inv of s.invariants) {
      const list = byName.get(inv.name) ?? [];
      if (!inv.ok) list.push(...inv.violations.slice(0, 3).map((v) => `${s.variant} #${s.repeat}: ${v}`));
      byName.set(inv.name, list);
    }
  }
  return [...byName].map(([name, violations]) => ({ name, ok: violations.length === 0, violations }));
}

function table(specs: readonly VariantSpec[], samples: readonly SampleResult[]): string {
  const lines = [`raceday run: ${specs.length} variants x ${samples.length / specs.length} samples, interleaved; medians:`, `  ${'variant'.padEnd(16)} ${SHOWN.map((k) => k.padStart(18)).join('')}`];
  for (const spec of specs) {
    const mine = samples.filter((s) => s.variant === spec.name);
    const cells = SHOWN.map((k) => {
      const xs = mine.map((s) => s.figures[k]).filter((x): x is number => x !== undefined);
      return (xs.length === 0 ? '-' : String(Math.round(median(xs) * 1000) / 1000)).padStart(18);
    });
    lines.push(`  ${spec.name.padEnd(16)} ${cells.join('')}`);
  }
  return lines.join('\n');
}

export interface VariantRunFlags {
  readonly base: BaseSettings;
  readonly specs: readonly VariantSpec[];
  readonly repeat: number;
  readonly out: string | undefined;
  readonly json: boolean;
  readonly argv: readonly string[];
  /** --profile: every sample's Store and bus operations timed into the record's profile section (planner/). */
  readonly profile?: boolean;
}

export async function runVariantsCommand(f: VariantRunFlags): Promise<number> {
  const configuration = { users: f.base.users, repeat: f.repeat, order: 'ABBA', variants: Object.fromEntries(f.specs.map((s) => [s.name, effectiveSettings(f.base, s)])) };
  const recorder = new RunRecorder({ command: 'run', argv: f.argv, scenario: 'smoke', backend: f.base.backend, seed: f.base.seed, configuration }).start();
  const progress = f.json ? () => undefined : sampleProgress(`run: ${f.specs.length} variants`);
  const profiler = f.profile === true ? createSampleProfiler() : undefined;
  const samples = await runVariants({ base: f.base, specs: f.specs, repeat: f.repeat, warmup: 1, onSample: progress, ...(profiler === undefined ? {} : { instrument: profiler.instrument }) });
  for (const s of samples) {
    const spec = f.specs.find((x) => x.name === s.variant) as VariantSpec;
    recorder.sample(s.variant, effectiveSettings(f.base, spec), { repeat: s.repeat, order: s.order, figures: s.figures });
  }
  const invariants = invariantsOf(samples);
  for (const inv of invariants) recorder.invariant(inv);
  const ok = invariants.every((i) => i.ok);
  const quiet = f.json ? () => undefined : undefined;
  const finished = f.out === undefined ? undefined : profiler === undefined ? await finishRecording(recorder, ok, f.out, quiet) : await finishProfiledRecording(recorder, ok, f.out, profiler.runs(), quiet);
  const record = finished?.record ?? recorder.stop(ok);
  const profile = profiler === undefined ? {} : { profile: profiler.runs().map(profileSummary) };
  if (f.json) process.stdout.write(`${JSON.stringify({ variants: record.variants, invariants, ok, ...profile, ...(f.out === undefined ? {} : { record: join(f.out, 'metrics.json') }) })}\n`);
  else process.stdout.write(`${table(f.specs, samples)}\n${f.out === undefined ? '' : `  run record: ${join(f.out, 'metrics.json')}\n`}`);
  return ok ? 0 : 1;
}
