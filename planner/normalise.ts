// End-to-end normalisation of a fitted cost model against the very runs it was fitted from.
//
// Why: a profiled sample is a wall-clock time on a shared machine. On the memory backend one
// thread runs every handler, so a call's time includes other handlers' work (overlapping samples
// sum to more than the run took) while the pipeline's own code between the priced calls costs
// nothing in the model; on the emulators every shard database and the bus run in emulator
// processes on the same cores as the client, and the machine's load from elsewhere slows all of
// it. The fitted costs keep what the samples say about each operation RELATIVE to the others
// (what grows with users, tickets, batch size); their common scale is then set so that the
// virtual-time model reproduces the calibration runs' own measured makespans: each calibration
// run is predicted by the model, the ratio measured / predicted taken, and every operation's cost
// multiplied by the median ratio. Nothing from a held-out run is used: only the calibration's.
// The factor and every run's ratio are written into the model's sources, so a reader sees how
// far the raw samples were from the runs.
import type { RunRecord } from '../reports/record/schema.ts';
import { fittedFromRecords, profilesOfRecords } from './calibration.ts';
import type { ConcurrencyScale, CostModel, PlanConfiguration } from './contracts.ts';
import { concurrencyFactor, describeConcurrencyScale, scaleCosts, settleConcurrency } from './cost-scale.ts';
import type { PlanResult } from './plan-error.ts';
import type { RunProfile } from './profile.ts';
import { nonNegativeLeastSquares } from './fit.ts';
import { predictVirtual } from './virtual.ts';

export { describeConcurrencyScale, scaleCosts };

/** The plan configuration a profiled run ran with (every stage at its worker count, as `raceday run --workers` sets them). */
export function configurationOfRun(run: Pick<RunProfile, 'knobs'>): PlanConfiguration {
  const k = run.knobs;
  return {
    settleWorkers: k.workers,
    postSettleWorkers: k.workers,
    notifyWorkers: k.workers,
    maxInFlight: k.maxInFlight,
    spannerShards: k.shards,
    settlementsPerCommit: k.settlementsPerCommit,
    fanout: 'per-user',
    gatewayInstances: 0,
    subscriberClients: k.workers,
  };
}

/**
 * A calibration run as normalisation reads it: its knobs and figures and, on the emulators, how
 * many runs its emulator pair had served before it (the discarded warm-up counts; unknown = absent).
 */
export type NormaliseRun = Pick<RunProfile, 'knobs' | 'run'> & { readonly pairRuns?: number };

export interface Normalised {
  readonly model: CostModel;
  /** The factor every cost was multiplied by (1 when no run could be predicted). */
  readonly factor: number;
  /** The fixed start-up time found, ms (the model's startupMs: on a pair that served no run before). */
  readonly startupMs: number;
  /** Its growth per run the emulator pair served before (the model's startupPerPairRunMs; 0 when the runs' ages are unknown or alike). */
  readonly startupPerPairRunMs: number;
  /** Per calibration run: measured makespan / the raw model's predicted makespan. */
  readonly ratios: readonly number[];
  /** RMS of measured / normalised prediction - 1 over the runs (the model's runSpread). */
  readonly runSpread: number;
  /** Emulators: the process capacity fitted (when the runs span several shard counts). */
  readonly processCapacity?: number;
  /** Emulators: how the costs scale with settle concurrency (when the runs span several; the model's concurrencyScale). */
  readonly concurrencyScale?: ConcurrencyScale;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** A calibration run's predicted and measured makespan and, where known, how many runs its emulator pair served before it. */
export interface ScalePair {
  readonly predicted: number;
  readonly measured: number;
  readonly pairRuns?: number;
  /** The run's settle concurrency N (workers x messages in flight), when a concurrency scale may be fitted. */
  readonly concurrency?: number;
  /** The run's race size (users settled): a concurrency scale needs runs of several sizes. */
  readonly users?: number;
}

/** measured = startupMs + startupPerPairRunMs x pairRuns + factor x c(N) x predicted. */
export interface Scale {
  readonly factor: number;
  readonly startupMs: number;
  readonly startupPerPairRunMs: number;
  /** c(N) = (N / referenceN)^exponent inside the calibrated range; absent: c = 1. */
  readonly concurrency?: ConcurrencyScale;
}

/** The exponents tried for a concurrency scale: -0.5 to 0.5 in steps of 0.01. */
const CONCURRENCY_EXPONENTS = Array.from({ length: 101 }, (_, i) => (i - 50) / 100);
/**
 * A concurrency scale is fitted only over runs at this many settle concurrencies at least,
 * spanning this ratio, and of race sizes spanning sizeRangeMin: with one race size a run at
 * higher N is shorter, so a fixed start-up weighs more in it, and the start-up and a scale with
 * concurrency cannot be told apart (measured: a calibration of 1,000-user runs at N = 16 to 512
 * fitted the steepest exponent tried and a 475 ms start-up, and predicted the held-out runs 34% to
 * 57% too fast).
 */
const CONCURRENCY_FIT = { levelsMin: 3, rangeMin: 4, runsMin: 6, sizeRangeMin: 2 } as const;

/** A pair's prediction under a scale's concurrency term (unchanged without one). */
const scaledPrediction = (p: ScalePair, c: ConcurrencyScale | undefined): number => (c === undefined || p.concurrency === undefined ? p.predicted : p.predicted * concurrencyFactor(c, p.concurrency));

/**
 * fitScaleAt, and on top of it (with `concurrency`) how the costs scale with the runs' settle
 * concurrency: each exponent of CONCURRENCY_EXPONENTS is tried, the start-up and factor fitted
 * for it, and the one the runs scatter least around is kept (0 among them: no scaling). Fitted
 * only when the runs cover CONCURRENCY_FIT's levels, range and race sizes; the scale holds N
 * inside the runs' range, so no prediction extrapolates it.
 */
export function fitScale(pairs: readonly ScalePair[], o: { readonly concurrency?: boolean } = {}): Scale {
  const plain = fitScaleAt(pairs);
  const ok = pairs.filter((p) => p.predicted > 0 && p.measured > 0);
  const ns = ok.map((p) => p.concurrency);
  if (o.concurrency !== true || ns.length < CONCURRENCY_FIT.runsMin || ns.some((n) => n === undefined || !(n > 0))) return plain;
  const sizes = ok.map((p) => p.users ?? 0);
  if (!(Math.min(...sizes) > 0) || Math.max(...sizes) / Math.min(...sizes) < CONCURRENCY_FIT.sizeRangeMin) return plain;
  const levels = ns as number[];
  const minN = Math.min(...levels);
  const maxN = Math.max(...levels);
  if (new Set(levels).size < CONCURRENCY_FIT.levelsMin || maxN / minN < CONCURRENCY_FIT.rangeMin) return plain;
  // The geometric mean of the runs' N: the factor is then the scale at a typical calibrated concurrency.
  const referenceN = Math.round(Math.exp(levels.reduce((a, n) => a + Math.log(n), 0) / levels.length));
  let best = { scale: plain, spread: spreadOf(pairs, plain) };
  for (const exponent of CONCURRENCY_EXPONENTS) {
    if (exponent === 0) continue;
    const concurrency: ConcurrencyScale = { exponent, referenceN, minN, maxN };
    const f = fitScaleAt(pairs.map((p) => ({ ...p, predicted: scaledPrediction(p, concurrency) })));
    const scale = { ...f, concurrency };
    const spread = spreadOf(pairs, scale);
    if (spread < best.spread) best = { scale, spread };
  }
  return best.scale;
}

/**
 * measured = startup + factor x predicted, fitted on relative errors (each run weighs the same,
 * as the validation's percentages do), both >= 0. When the runs cannot separate the two (one
 * size, or a fit with no slope), startup is 0 and the factor is the median ratio.
 * When every run says how many runs its emulator pair served before it and they differ, the
 * start-up may grow with that count (startupPerPairRunMs, >= 0): the Spanner emulator's reads
 * slow down with every transaction it has served (measured: a point read 10.9 ms, then 41.1 ms
 * after 12,320 more transactions; a validation's ingest and fan-out reads 17-22 ms and 7-11 ms in
 * its first run, 119-147 ms and 54-64 ms in its thirtieth), so a run's start path, which is
 * reads, is slower on an older pair whatever the run's size.
 */
function fitScaleAt(pairs: readonly ScalePair[]): Scale {
  const ok = pairs.filter((p) => p.predicted > 0 && p.measured > 0);
  if (ok.length === 0) return { factor: 1, startupMs: 0, startupPerPairRunMs: 0 };
  const byRatio = { factor: median(ok.map((p) => p.measured / p.predicted)), startupMs: 0, startupPerPairRunMs: 0 };
  const spread = Math.max(...ok.map((p) => p.predicted)) / Math.min(...ok.map((p) => p.predicted));
  if (ok.length < 3 || spread < 1.2) return byRatio;
  const ages = ok.map((p) => p.pairRuns);
  const aged = ok.length >= 4 && ages.every((a) => a !== undefined && a >= 0) && new Set(ages).size > 1;
  if (aged) {
    const [a, s, b] = nonNegativeLeastSquares(
      ok.map((p) => [1 / p.measured, (p.pairRuns ?? 0) / p.measured, p.predicted / p.measured]),
      ok.map(() => 1),
    ) as [number, number, number];
    if (b > 0) return { factor: b, startupMs: a, startupPerPairRunMs: s };
  }
  const [a, b] = nonNegativeLeastSquares(
    ok.map((p) => [1 / p.measured, p.predicted / p.measured]),
    ok.map(() => 1),
  ) as [number, number];
  return b > 0 ? { factor: b, startupMs: a, startupPerPairRunMs: 0 } : byRatio;
}

/** The fitted start-up of a run on a pair that served `pairRuns` runs before it. */
const startupAt = (f: Scale, pairRuns: number | undefined): number => f.startupMs + f.startupPerPairRunMs * (pairRuns ?? 0);

/**
 * The model of a run on an emulator pair that served `pairRuns` runs before it: its start-up grown
 * by startupPerPairRunMs for each (and that growth then spent, so applying it twice adds nothing).
 * A model without the term is returned as it is.
 */
export function atPairAge(model: CostModel, pairRuns: number): CostModel {
  const per = model.startupPerPairRunMs;
  if (per === undefined) return model;
  const { startupPerPairRunMs: _spent, ...rest } = model;
  return { ...rest, startupMs: Math.round(((model.startupMs ?? 0) + per * Math.max(0, pairRuns)) * 10) / 10 };
}

/** Predicted makespans of the runs under `model` (a start-up of 0), paired with the measured ones. */
async function pairsOf(model: CostModel, runs: readonly NormaliseRun[], samples: number): Promise<ScalePair[]> {
  const pairs: ScalePair[] = [];
  for (const r of runs) {
    if (!(r.run.makespanMs > 0) || r.run.users < 1 || r.run.tickets < r.run.users) continue;
    const p = await predictVirtual(model, configurationOfRun(r), { users: r.run.users, tickets: r.run.tickets }, { samples });
    if (p.makespanMs.p50 > 0) pairs.push({ predicted: p.makespanMs.p50, measured: r.run.makespanMs, concurrency: settleConcurrency(configurationOfRun(r)), users: r.run.users, ...(r.pairRuns === undefined ? {} : { pairRuns: r.pairRuns }) });
  }
  return pairs;
}

function spreadOf(pairs: readonly ScalePair[], f: Scale): number {
  const residuals = pairs.map((p) => p.measured / (startupAt(f, p.pairRuns) + f.factor * scaledPrediction(p, f.concurrency)) - 1);
  return Math.sqrt(residuals.reduce((a, r) => a + r * r, 0) / Math.max(1, residuals.length));
}

/**
 * One run per configuration (knobs and race): the one of median makespan (the faster of two).
 * A calibration that ran each configuration in several rounds normalises against these, so one
 * run slowed by load from elsewhere does not set the scale; every run's samples still go to the
 * cost fit.
 */
export function medianPerConfiguration<R extends Pick<RunProfile, 'knobs' | 'run'>>(runs: readonly R[]): R[] {
  const groups = new Map<string, R[]>();
  for (const r of runs) {
    const k = r.knobs;
    const key = `${r.run.users}/${r.run.tickets}/${k.workers}/${k.maxInFlight}/${k.shards}/${k.settlementsPerCommit}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => [...g].sort((a, b) => a.run.makespanMs - b.run.makespanMs)[Math.floor((g.length - 1) / 2)] as R);
}

/**
 * The runs a calibration normalises against. When every run says how many runs its emulator pair
 * served before it and those ages differ, all of them: their drift from round to round is the pair
 * ageing, which normalisation fits (fitScale), and a median per configuration would hide it.
 * Otherwise (memory; emulator runs each on a Spanner emulator of its own, all of age 0; a user's
 * records) each configuration's median run, so one run slowed by load from elsewhere does not set
 * the scale.
 */
export function scaleRuns<R extends NormaliseRun>(runs: readonly R[]): R[] {
  const aged = runs.length > 0 && runs.every((r) => r.pairRuns !== undefined) && new Set(runs.map((r) => r.pairRuns)).size > 1;
  return aged ? [...runs] : medianPerConfiguration(runs);
}

/** `costs x0.548, start-up 0.0 ms` with the concurrency scale and the start-up's growth where fitted: the calibrations' progress lines. */
export function describeNormalised(n: Normalised): string {
  const aging = n.startupPerPairRunMs > 0 ? ` + ${n.startupPerPairRunMs.toFixed(2)} ms per run the emulator pair served before` : '';
  return `costs x${n.factor.toFixed(3)}${describeConcurrencyScale(n.concurrencyScale)}, start-up ${n.startupMs.toFixed(1)} ms${aging}`;
}

/** Emulator process capacities tried when the runs span several shard counts (1 = one core's worth; 8 = shards that scale). */
export const PROCESS_CAPACITIES = [1, 1.5, 2, 3, 4, 8] as const;

/**
 * The model with its costs scaled (and a fixed start-up time) so its virtual-time predictions of
 * `runs` match their measured makespans. Every time in the virtual run is a service time, so
 * scaling them all scales the predicted makespan by the same factor, and the start-up delays the
 * whole run: one pass of predictions is enough. On the emulators, when the runs cover several
 * shard counts and the model has no shard USL, the emulator process's capacity is fitted too:
 * each of PROCESS_CAPACITIES is tried and the one whose normalised model the runs scatter least
 * around is kept (on a loaded machine the shards share about one core; on a quiet one they scale).
 */
export async function normaliseToRuns(model: CostModel, runs: readonly NormaliseRun[], o: { readonly samples?: number } = {}): Promise<Normalised> {
  const samples = o.samples ?? 1;
  const shardCounts = new Set(runs.map((r) => r.knobs.shards)).size;
  const fitCapacity = model.target === 'emulators' && shardCounts > 1 && !model.usl.some((u) => u.concurrency === 'spanner shards');
  const candidates: (number | undefined)[] = fitCapacity ? [...PROCESS_CAPACITIES] : [model.parallelism.processCapacity];
  let best: { raw: CostModel; pairs: ScalePair[]; f: Scale; spread: number; capacity: number | undefined } | undefined;
  const tried: string[] = [];
  // The raw model has no start-up or concurrency scale of its own: normalisation finds them (and
  // the start-up's growth with the pair's age).
  const { startupPerPairRunMs: _old, concurrencyScale: _oldScale, ...unstarted } = model;
  // Emulators: the raw model's over-prediction grows with concurrency (docs/capacity-model.md).
  const concurrency = model.target === 'emulators';
  for (const capacity of candidates) {
    const parallelism = capacity === undefined ? model.parallelism : { ...model.parallelism, processCapacity: capacity };
    const raw: CostModel = { ...unstarted, startupMs: 0, parallelism };
    const pairs = await pairsOf(raw, runs, samples);
    if (pairs.length === 0) continue;
    const f = fitScale(pairs, { concurrency });
    const spread = spreadOf(pairs, f);
    if (capacity !== undefined && fitCapacity) tried.push(`${capacity}: ${(spread * 100).toFixed(0)}%`);
    if (best === undefined || spread < best.spread) best = { raw, pairs, f, spread, capacity };
  }
  if (best === undefined) return { model, factor: 1, startupMs: model.startupMs ?? 0, startupPerPairRunMs: model.startupPerPairRunMs ?? 0, runSpread: model.runSpread ?? 0, ratios: [] };
  const { raw, pairs, f, spread } = best;
  const ratios = pairs.map((p) => p.measured / p.predicted);
  const process = fitCapacity ? `; the emulator process runs ${best.capacity} transactions at full speed at once (the runs' scatter for each capacity tried: ${tried.join(', ')})` : '';
  const aging = f.startupPerPairRunMs > 0 ? ` growing by ${f.startupPerPairRunMs.toFixed(2)} ms for each run the emulator pair served before (at 0 runs)` : '';
  const c = f.concurrency;
  const byConcurrency = describeConcurrencyScale(c);
  const line = `normalised: every operation's cost x${f.factor.toFixed(3)}${byConcurrency} and a start-up of ${f.startupMs.toFixed(1)} ms${aging}, fitted so the virtual model reproduces the ${pairs.length} calibration runs' makespans (measured / raw prediction: ${ratios.map((x) => x.toFixed(2)).join(', ')})${process}`;
  const model2: CostModel = {
    ...scaleCosts(raw, f.factor),
    startupMs: Math.round(f.startupMs * 10) / 10,
    ...(f.startupPerPairRunMs > 0 ? { startupPerPairRunMs: Math.round(f.startupPerPairRunMs * 100) / 100 } : {}),
    runSpread: Math.round(spread * 1000) / 1000,
    ...(c === undefined ? {} : { concurrencyScale: c }),
    sources: [...model.sources, `${line}; the runs scatter ${(spread * 100).toFixed(0)}% around it`],
  };
  return { model: model2, factor: f.factor, startupMs: f.startupMs, startupPerPairRunMs: f.startupPerPairRunMs, runSpread: spread, ratios, ...(c === undefined ? {} : { concurrencyScale: c }), ...(fitCapacity && best.capacity !== undefined ? { processCapacity: best.capacity } : {}) };
}

/**
 * The calibration runs a model's USL levels record, as normaliseToRuns takes them: every level was
 * a run of calibratedMax's race at 1 worker x N in flight on one shard (the settle USL), or at the
 * largest settle level over N shards (the shard USL); its makespan is users / throughput. Lets a
 * model calibrated before normalisation existed be normalised against its own measurements.
 */
export function runsOfUslLevels(model: CostModel, settlementsPerCommit: number): Pick<RunProfile, 'knobs' | 'run'>[] {
  const { users, tickets } = model.calibratedMax;
  const settle = model.usl.find((u) => u.concurrency !== 'spanner shards');
  const shards = model.usl.find((u) => u.concurrency === 'spanner shards');
  const top = Math.max(1, ...(settle?.levels ?? []).map((l) => l.n));
  const run = (workers: number, maxInFlight: number, s: number, throughput: number): Pick<RunProfile, 'knobs' | 'run'> => ({
    knobs: { workers, maxInFlight, shards: s, settlementsPerCommit },
    run: { users, tickets, settledUsers: users, makespanMs: (users / throughput) * 1000, throughputUsersPerSecond: throughput },
  });
  return [...(settle?.levels ?? []).map((l) => run(1, l.n, 1, l.throughput)), ...(shards?.levels ?? []).filter((l) => l.n > 1).map((l) => run(1, top, l.n, l.throughput))];
}

/**
 * A cost model from the user's own profiled run records (calibration.ts fittedFromRecords),
 * normalised against those same runs, as `raceday plan calibrate` normalises its own.
 */
export async function normalisedModelFromRecords(records: readonly RunRecord[]): Promise<PlanResult<CostModel>> {
  const fitted = fittedFromRecords(records);
  if (!fitted.ok) return fitted;
  const runs = profilesOfRecords(records);
  if (!runs.ok) return runs;
  return { ok: true, value: (await normaliseToRuns(fitted.value.model, medianPerConfiguration(runs.value))).model };
}
