// Cost models as files: reading one back (validated, every refusal naming its field), the shipped
// default calibrations of the memory backend and the emulators, and a model fitted from the run
// records a user made with `raceday run --profile --out DIR`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { RunRecord } from '../reports/record/schema.ts';
import { OPERATIONS, type CostModel, type LinearCost, type OperationName, type PlanTarget, type UslFit } from './contracts.ts';
import { fitLinear, fitUsl, USL_LEVELS_MIN } from './fit.ts';
import { formatPlanError, planErr, type PlanResult } from './plan-error.ts';
import { OPERATION_TERMS, type ProfileSample, type RunProfile } from './profile.ts';
import { issuePath, parseProfileSection } from './profile-record.ts';

const nonNeg = z.number().finite().nonnegative();

const linearCostSchema = z.object({ baseUs: nonNeg, perUs: z.record(z.string(), nonNeg), cv: nonNeg, samples: z.number().int().nonnegative() });

const uslSchema = z.object({
  concurrency: z.string().min(1),
  throughput: z.string().min(1),
  lambda: z.number().finite().positive(),
  sigma: nonNeg,
  kappa: nonNeg,
  // JSON has no Infinity: a peak that never comes (kappa 0) is written as null.
  peakN: z
    .number()
    .finite()
    .positive()
    .nullable()
    .transform((v) => v ?? Number.POSITIVE_INFINITY),
  r2: z.number().finite().max(1),
  levels: z.array(z.object({ n: z.number().finite().min(1), throughput: z.number().finite().positive() })),
});

const costModelSchema = z.object({
  schemaVersion: z.literal(1),
  target: z.enum(['memory', 'emulators', 'google']),
  measuredAt: z.iso.datetime({ offset: true }),
  sources: z.array(z.string().min(1)).min(1),
  operations: z.record(z.string(), linearCostSchema).superRefine((ops, ctx) => {
    for (const k of Object.keys(ops)) if (!(OPERATIONS as readonly string[]).includes(k)) ctx.addIssue({ code: 'custom', message: `unknown operation "${k}" (one of ${OPERATIONS.join(', ')})`, path: [k] });
  }),
  usl: z.array(uslSchema),
  parallelism: z.object({
    transactionsPerUnit: z.number().int().positive(),
    processCapacity: z.number().finite().positive().optional(),
    writesPerSecondPerNode: z.number().finite().positive().optional(),
    readsPerSecondPerNode: z.number().finite().positive().optional(),
    maxCpuShare: z.number().finite().positive().max(1).optional(),
  }),
  calibratedMax: z.object({ users: z.number().int().nonnegative(), tickets: z.number().int().nonnegative() }),
  startupMs: nonNeg.optional(),
  startupPerPairRunMs: nonNeg.optional(),
  runSpread: nonNeg.optional(),
  concurrencyScale: z
    .object({ exponent: z.number().finite().min(-1).max(1), referenceN: z.number().finite().positive(), minN: z.number().finite().positive(), maxN: z.number().finite().positive() })
    .refine((c) => c.minN <= c.maxN, { message: 'minN must be at most maxN' })
    .optional(),
});

/** A cost model from parsed JSON: PLAN.CALIBRATION_INVALID naming the first bad field. */
export function parseCostModel(json: unknown): PlanResult<CostModel> {
  const r = costModelSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issuePath('', issue?.path ?? []);
    return planErr('PLAN.CALIBRATION_INVALID', `${path === '' ? '(root)' : path}: ${issue?.message ?? 'invalid'}`, path);
  }
  return { ok: true, value: r.data as CostModel };
}

/** The model as JSON text (an unbounded peak written as null). */
export function costModelJson(model: CostModel): string {
  return `${JSON.stringify(model, (_k, v: unknown) => (v === Number.POSITIVE_INFINITY ? null : v), 2)}\n`;
}

/** A cost model file: PLAN.CALIBRATION_UNREADABLE when it cannot be read or is not JSON. */
export function loadCostModel(path: string): PlanResult<CostModel> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return planErr('PLAN.CALIBRATION_UNREADABLE', `${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return planErr('PLAN.CALIBRATION_UNREADABLE', `${path} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r = parseCostModel(json);
  return r.ok ? r : planErr(r.error.code, `${path}: ${r.error.message}`, r.error.path);
}

/** The shipped calibration of a local target (planner/calibrations/TARGET.json), measured by `raceday plan calibrate`. */
export function defaultCostModel(target: Extract<PlanTarget, 'memory' | 'emulators'>): CostModel {
  const r = loadCostModel(fileURLToPath(new URL(`./calibrations/${target}.json`, import.meta.url)));
  if (!r.ok) throw new Error(`invariant violated: the shipped calibration of ${target} is broken: ${formatPlanError(r.error)}`);
  return r.value;
}

/** Which runs a settle-concurrency USL is fitted over: those of the most common shard count. */
function settleLevels(runs: readonly RunProfile[]): { n: number; throughput: number }[] {
  const byShards = new Map<number, RunProfile[]>();
  for (const r of runs) byShards.set(r.knobs.shards, [...(byShards.get(r.knobs.shards) ?? []), r]);
  const best = [...byShards.values()].sort((a, b) => new Set(b.map((r) => r.concurrency)).size - new Set(a.map((r) => r.concurrency)).size)[0] ?? [];
  return best.filter((r) => r.run.throughputUsersPerSecond > 0).map((r) => ({ n: r.concurrency, throughput: r.run.throughputUsersPerSecond }));
}

/** Shards as concurrency: runs at one settle concurrency over several shard counts. */
function shardLevels(runs: readonly RunProfile[]): { n: number; throughput: number }[] {
  const byConcurrency = new Map<number, RunProfile[]>();
  for (const r of runs) byConcurrency.set(r.concurrency, [...(byConcurrency.get(r.concurrency) ?? []), r]);
  const best = [...byConcurrency.values()].sort((a, b) => new Set(b.map((r) => r.knobs.shards)).size - new Set(a.map((r) => r.knobs.shards)).size)[0] ?? [];
  return best.filter((r) => r.run.throughputUsersPerSecond > 0).map((r) => ({ n: r.knobs.shards, throughput: r.run.throughputUsersPerSecond }));
}

export const SETTLE_USL_LABELS = { concurrency: 'settle workers x maxInFlight', throughput: 'users settled per second' } as const;
export const SHARD_USL_LABELS = { concurrency: 'spanner shards', throughput: 'users settled per second' } as const;

/**
 * The bus's own delivery overhead: the lower half of the publish -> handler waits. Why: a wait
 * includes the backlog in front of the message (the virtual-time model queues that itself), and
 * the messages that met no backlog are the fast ones.
 */
function deliveryCost(samples: readonly ProfileSample[]): LinearCost {
  const sorted = [...samples].sort((a, b) => a.durationUs - b.durationUs);
  const low = sorted.slice(0, Math.max(1, Math.ceil(sorted.length / 2)));
  return { ...fitLinear(low, []), samples: samples.length };
}

export interface FittedModel {
  readonly model: CostModel;
  readonly warnings: readonly string[];
}

export interface FitOptions {
  readonly target: PlanTarget;
  readonly sources: readonly string[];
  readonly measuredAt?: string;
  /** Where the USL comes from when the runs hold fewer than USL_LEVELS_MIN levels (the shipped default). */
  readonly fallbackUsl?: () => readonly UslFit[];
}

/** Fits every operation's cost over all the runs' samples, and the USL over their concurrency levels. */
export function fitCostModel(runs: readonly RunProfile[], o: FitOptions): PlanResult<FittedModel> {
  if (runs.length === 0) return planErr('PLAN.NO_PROFILE', 'no profiled runs to fit (write them with raceday run --profile --out DIR)');
  const operations: Partial<Record<OperationName, LinearCost>> = {};
  for (const [op, terms] of Object.entries(OPERATION_TERMS) as [OperationName, readonly string[]][]) {
    const samples = runs.flatMap((r) => r.operations[op]?.samples ?? []);
    if (samples.length === 0) continue;
    operations[op] = op === 'deliver.message' ? deliveryCost(samples) : fitLinear(samples, terms);
  }
  const warnings: string[] = [];
  const usl: UslFit[] = [];
  const settle = settleLevels(runs);
  const fitted = fitUsl(settle, SETTLE_USL_LABELS);
  if (fitted.ok) usl.push(fitted.value);
  else {
    const fallback = o.fallbackUsl?.() ?? [];
    warnings.push(`the runs hold ${new Set(settle.map((l) => l.n)).size} settle concurrency levels, fewer than the ${USL_LEVELS_MIN} a USL fit needs: costs are fitted from the runs, the USL (contention) is ${fallback.length === 0 ? 'missing' : "the shipped default calibration's"}`);
    usl.push(...fallback.filter((u) => u.concurrency === SETTLE_USL_LABELS.concurrency));
  }
  const shards = fitUsl(shardLevels(runs), SHARD_USL_LABELS);
  if (shards.ok) usl.push(shards.value);
  const target = o.target;
  const model: CostModel = {
    schemaVersion: 1,
    target,
    measuredAt: o.measuredAt ?? new Date().toISOString(),
    sources: [...o.sources, ...warnings.map((w) => `warning: ${w}`)],
    operations,
    usl,
    // One read-write transaction per database at a time on the emulator (measured there: a second one stalls and aborts);
    // the memory backend runs every handler on one thread, its unit.
    parallelism: { transactionsPerUnit: 1 },
    calibratedMax: { users: Math.max(...runs.map((r) => r.run.users)), tickets: Math.max(...runs.map((r) => r.run.tickets)) },
  };
  return { ok: true, value: { model, warnings } };
}

/** The profiled runs of run records (`raceday run --profile --out DIR`): PLAN.NO_PROFILE when one has none. */
export function profilesOfRecords(records: readonly RunRecord[]): PlanResult<RunProfile[]> {
  const runs: RunProfile[] = [];
  for (const [i, rec] of records.entries()) {
    if (rec.profile === undefined) return planErr('PLAN.NO_PROFILE', `run record ${i + 1} (${rec.command} on ${rec.backend}, ${rec.startedAt}) has no profile: write it with raceday run --profile --out DIR`);
    const p = parseProfileSection(rec.profile);
    if (!p.ok) return planErr(p.error.code, `run record ${i + 1}: ${p.error.message}`, p.error.path);
    runs.push(...p.value.runs);
  }
  return { ok: true, value: runs };
}

/**
 * A cost model from the user's own profiled runs. With fewer than USL_LEVELS_MIN concurrency
 * levels among them the costs are still fitted and the USL is the shipped default's, with a
 * warning in the model's sources that says so.
 */
export function costModelFromRecords(records: readonly RunRecord[]): PlanResult<CostModel> {
  const r = fittedFromRecords(records);
  return r.ok ? { ok: true, value: r.value.model } : r;
}

/** costModelFromRecords with its warnings apart (the plan command prints them). */
export function fittedFromRecords(records: readonly RunRecord[]): PlanResult<FittedModel> {
  const runs = profilesOfRecords(records);
  if (!runs.ok) return runs;
  const targets = new Set(runs.value.map((r) => r.target));
  if (targets.size > 1) return planErr('PLAN.CALIBRATION_INVALID', `the run records mix targets (${[...targets].join(', ')}): calibrate one target at a time`);
  const target = runs.value[0]?.target ?? 'memory';
  const fallback = target === 'memory' || target === 'emulators' ? () => defaultCostModel(target).usl : undefined;
  return fitCostModel(runs.value, {
    target,
    sources: records.map((rec) => `run record: raceday ${rec.argv.join(' ')} (${rec.backend}, started ${rec.startedAt})`),
    measuredAt: records.map((rec) => rec.startedAt).sort()[0] ?? new Date().toISOString(),
    ...(fallback === undefined ? {} : { fallbackUsl: fallback }),
  });
}
