// The virtual-time predictor: runs the real pipeline in virtual time (virtual-run.ts) with the
// cost model's service times, once per seed, and turns the runs into a Prediction.
//
// Slices: a virtual run costs about 0.25-0.5 ms of wall time per user here, so a race above
// SLICE_USERS_DEFAULT users runs a slice of that many users (tickets per user kept) and is scaled
// by the slice's steady rate: the full race has (U - n) more users, which pass the bottleneck at
// the rate the slice measured between its 10th and 90th percentile user, so
//   makespan(U) = makespan(n) + (U - n) / X_settle,
//   notify makespan likewise with X_notify, and
//   latency(q)  = latency_n(q) + q (U - n) / X_notify for the user at quantile q
// (every user is "published" at once; the q-th user's notification waits for the q U users before
// it; a notify stage that lags behind the settlements is scaled in two phases, see notifyTimes).
// This holds while the bottleneck stays the same as the race grows, which it does for the
// resources modelled here (their service times do not depend on how many users came before);
// the fill (first page, first commits) and the drain (ranking) are kept from the slice.
//
// Interval: K runs (seeds seed..seed+K-1) give the spread that the service-time variation makes;
// the mean cost itself is uncertain too: a mean fitted from m samples of spread cv is off by
// about cv / sqrt(m), and a bottleneck-bound makespan moves with the bottleneck's cost, so the
// [min, max] of the runs is widened by 2 cv / sqrt(m) of the bottleneck's main operation, plus
// twice the calibration runs' own scatter around the model (runSpread: the measurement's noise).
import { createLatencyHistogram } from '../reports/latency.ts';
import type { CostModel, Interval, OperationName, PlanConfiguration, Prediction, Predict, Workload } from './contracts.ts';
import { atConcurrency } from './cost-scale.ts';
import { extrapolationOf } from './extrapolation.ts';
import { unpricedOperations, unsizedTerms } from './service-times.ts';
import { runVirtual, type VirtualRun } from './virtual-run.ts';

export interface VirtualOptions {
  readonly seed?: number;
  /** Runs (seeds) per prediction; default samplesFor(the users run). */
  readonly samples?: number;
  /** Users settled so far over all the runs (a slice's users, times the samples), every 1% of a run. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Largest race run whole; above it a slice of this many users is run and scaled. */
  readonly sliceUsers?: number;
}

export const SLICE_USERS_DEFAULT = 40_000;
export const SAMPLES_DEFAULT = 3;
/**
 * Users a prediction simulates at least, over its samples, up to SAMPLES_MAX runs. A virtual run
 * draws every service time, so a small race's makespan is a few draws' worth and moves from seed
 * to seed: measured with the shipped emulators model, 800 users at 3 workers over 4 shards had a
 * median of 696 ms over 3 seeds, 653 over 9 and 568 over 25, while 5,000 users moved by 4%. With
 * this budget a small race gets as many draws as a large one.
 */
export const SIMULATED_USERS_MIN = 20_000;
export const SAMPLES_MAX = 25;

/** Runs per prediction of `users` users: SAMPLES_DEFAULT at least, more for a small race (SIMULATED_USERS_MIN). */
export function samplesFor(users: number): number {
  return Math.min(SAMPLES_MAX, Math.max(SAMPLES_DEFAULT, Math.ceil(SIMULATED_USERS_MIN / Math.max(1, users))));
}

/** Users per ms between the 10th and the 90th percentile of ascending times (the steady part). */
export function steadyRate(timesMs: readonly number[]): number {
  const n = timesMs.length;
  if (n < 2) return Infinity;
  const i10 = Math.floor(0.1 * (n - 1));
  const i90 = Math.ceil(0.9 * (n - 1));
  const span = (timesMs[i90] as number) - (timesMs[i10] as number);
  return span > 0 ? (i90 - i10) / span : Infinity;
}

export interface Scaled {
  readonly makespanMs: number;
  readonly notifyMakespanMs: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
}

type SliceRun = Pick<VirtualRun, 'users' | 'commitsMs' | 'shownMs' | 'makespanMs' | 'notifyMakespanMs'>;

/** Notifications shown per ms while the slice's settlements run steadily (10th to 90th percentile settlement). */
function notifyRateWhileSettling(run: SliceRun): number {
  const c = run.commitsMs;
  if (c.length < 2) return Infinity;
  const from = c[Math.floor(0.1 * (c.length - 1))] as number;
  const to = c[Math.ceil(0.9 * (c.length - 1))] as number;
  if (!(to > from)) return Infinity;
  return run.shownMs.filter((t) => t >= from && t <= to).length / (to - from);
}

/**
 * Each slice notification's time in the full race (the rule in the header). When notify keeps up
 * with settlement, the user at quantile q is shifted by q (U - n) / X_notify. When it lags (shows
 * fewer than 90% of the settlement rate while settlements run), the full race has two phases: while
 * its settlements run (to makespan(U)) notifications are shown at the lagging rate r1, then the
 * backlog drains at the rate r2 the slice drained its own after its last settlement.
 */
function notifyTimes(run: SliceRun, users: number, xSettle: number, makespanU: number): number[] {
  const s = run.shownMs;
  const n = s.length;
  const extra = Math.max(0, users - run.users);
  if (n === 0 || extra === 0) return [...s];
  const r1 = notifyRateWhileSettling(run);
  if (!(r1 < 0.9 * xSettle)) {
    const xNotify = steadyRate(s);
    return s.map((t, i) => t + ((n > 1 ? i / (n - 1) : 1) * extra) / xNotify);
  }
  const m = run.makespanMs;
  const shownBy = s.filter((t) => t <= m).length;
  const last = s[n - 1] as number;
  const r2 = last > m ? (n - shownBy) / (last - m) : Infinity;
  const phase1 = Math.min(users, shownBy + r1 * (makespanU - m));
  return s.map((t, i) => {
    const k = ((i + 1) * users) / n;
    if (k <= shownBy) return t;
    if (k <= phase1) return m + (k - shownBy) / r1;
    return makespanU + (k - phase1) / r2;
  });
}

/** A run scaled to `users` by the rule above (no change when the run was whole). */
export function scaleRun(run: SliceRun, users: number): Scaled {
  const extra = Math.max(0, users - run.users);
  const makespanMs = run.makespanMs + extra / steadyRate(run.commitsMs);
  const times = notifyTimes(run, users, steadyRate(run.commitsMs), makespanMs);
  const h = createLatencyHistogram();
  for (const t of times) h.recordValue(Math.max(1, Math.round(t * 1000)));
  const at = (p: number): number => (times.length === 0 ? 0 : Math.min(h.getValueAtPercentile(p), h.maxValue) / 1000);
  return { makespanMs, notifyMakespanMs: extra === 0 ? run.notifyMakespanMs : times.reduce((a, b) => Math.max(a, b), 0), latencyP50Ms: at(50), latencyP99Ms: at(99) };
}

/**
 * The resource that limits the run: the busiest server (a database, the CPU, a rate) when it is
 * nearly saturated; else the busiest of everything, flow-control slots and the fan-out included
 * (a pipeline held back by too few slots leaves its servers idle part of the time).
 */
export function bottleneckOf(utilisation: Readonly<Record<string, number>>, servers: readonly string[], busyTotals: Readonly<Record<string, number>> = {}): string {
  // Equally saturated servers (shards at 1.0) are told apart by their busy time over the whole run.
  const score = (k: string): number => Math.round((utilisation[k] ?? 0) * 100) * 1e12 + (busyTotals[k] ?? 0);
  const busiest = (names: readonly string[]): string | undefined => names.reduce<string | undefined>((best, k) => (best === undefined || score(k) > score(best) ? k : best), undefined);
  const server = busiest(servers);
  if (server !== undefined && (utilisation[server] ?? 0) >= 0.85) return server;
  return busiest(Object.keys(utilisation)) ?? 'none';
}

const SLOT_OPS: Readonly<Record<string, OperationName>> = { fanout: 'fanout.page', 'settle.slots': 'settle.commit', 'postSettle.slots': 'postSettle.commit', 'notify.slots': 'notify.append' };

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function interval(values: readonly number[], widen: number): Interval {
  return { p50: round(median(values)), low: round(Math.min(...values) * (1 - widen)), high: round(Math.max(...values) * (1 + widen)) };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Relative uncertainty of an operation's fitted mean: 2 cv / sqrt(samples). */
function meanUncertainty(model: CostModel, op: OperationName | undefined): number {
  const c = op === undefined ? undefined : model.operations[op];
  const mean = c === undefined || c.samples < 1 ? 0 : (2 * c.cv) / Math.sqrt(c.samples);
  // The calibration runs' own scatter around the model (normalise.ts): a run measured again moves that much.
  return Math.min(0.9, mean + 2 * (model.runSpread ?? 0));
}

function checkWorkload(workload: Workload): void {
  if (!Number.isSafeInteger(workload.users) || workload.users < 1) throw new Error(`PLAN.INPUT_INVALID: workload.users must be a positive integer, got ${workload.users}`);
  if (!Number.isSafeInteger(workload.tickets) || workload.tickets < workload.users) throw new Error(`PLAN.INPUT_INVALID: workload.tickets must be an integer >= users, got ${workload.tickets}`);
}

export async function predictVirtualWith(given: CostModel, configuration: PlanConfiguration, workload: Workload, options: VirtualOptions = {}): Promise<Prediction> {
  checkWorkload(workload);
  const model = atConcurrency(given, configuration);
  const seed = options.seed ?? 1;
  const sliceMax = Math.max(1_000, options.sliceUsers ?? SLICE_USERS_DEFAULT);
  const users = Math.min(workload.users, sliceMax);
  const samples = Math.max(1, Math.floor(options.samples ?? samplesFor(users)));
  const tickets = users === workload.users ? workload.tickets : Math.max(users, Math.round((workload.tickets * users) / workload.users));
  const runs: VirtualRun[] = [];
  for (let k = 0; k < samples; k++) {
    const progress = options.onProgress;
    runs.push(await runVirtual(model, configuration, users, tickets, seed + k, progress === undefined ? undefined : (n) => progress(k * users + n, samples * users)));
  }
  const scaled = runs.map((r) => scaleRun(r, workload.users));
  const first = runs[0] as VirtualRun;
  const utilisation: Record<string, number> = {};
  for (const name of Object.keys(first.utilisation)) utilisation[name] = round3(runs.reduce((a, r) => a + (r.utilisation[name] ?? 0), 0) / runs.length);
  const servers = Object.keys(first.mainOp);
  const busyTotals: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.busyTotals)) busyTotals[k] = (busyTotals[k] ?? 0) + v;
  const bottleneck = bottleneckOf(utilisation, servers, busyTotals);
  const widen = meanUncertainty(model, first.mainOp[bottleneck] ?? SLOT_OPS[bottleneck]);
  const makespans = scaled.map((s) => s.makespanMs);
  const warnings = warningsOf(model, workload, users, runs);
  const p99s = scaled.map((s) => s.latencyP99Ms);
  const makespanMs = interval(makespans, widen);
  return {
    configuration,
    workload,
    makespanMs,
    notifyMakespanMs: interval(scaled.map((s) => s.notifyMakespanMs), widen),
    notifyLatencyMs: { p50: round(median(scaled.map((s) => s.latencyP50Ms))), p99: round(median(p99s)), p99High: round(Math.max(...p99s) * (1 + widen)) },
    throughputUsersPerSecond: makespanMs.p50 > 0 ? Math.round((workload.users / makespanMs.p50) * 1000 * 10) / 10 : 0,
    bottleneck,
    utilisation,
    method: 'virtual-time',
    extrapolation: extrapolationOf(model, workload).extrapolation,
    warnings,
  };
}

function warningsOf(model: CostModel, workload: Workload, users: number, runs: readonly VirtualRun[]): string[] {
  const out: string[] = [...extrapolationOf(model, workload).warnings];
  if (users < workload.users) {
    out.push(`PLAN.SLICED: ran ${users} of ${workload.users} users and scaled by the slice's steady rate; contention that grows with the race's size (index depth, hot splits) is not in the slice`);
  }
  for (const t of unsizedTerms(model)) out.push(`PLAN.TERM_IGNORED: cost term ${t} has no size in the virtual world and was ignored`);
  for (const op of unpricedOperations(model)) {
    out.push(`PLAN.OPERATION_UNPRICED: the cost model has no ${op} (calibrated before the pipeline performed it, or never measured): it costs 0 in this prediction, which is too fast by its share; recalibrate (raceday plan calibrate) to price it`);
  }
  for (const r of runs) {
    if (!r.idle) out.push(`PLAN.NOT_DRAINED: a virtual run was still busy after its step limit`);
    if (r.settledUsers !== r.users) out.push(`PLAN.INCOMPLETE: a virtual run settled ${r.settledUsers} of ${r.users} users`);
    if (r.handlerErrors.length > 0) out.push(`PLAN.HANDLER_ERRORS: ${r.handlerErrors.length} handler errors in a virtual run: ${r.handlerErrors[0]}`);
  }
  return [...new Set(out)];
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The virtual-time predictor (Predict, with the optional run options as a 4th argument). */
export const predictVirtual = ((model: CostModel, configuration: PlanConfiguration, workload: Workload, options?: VirtualOptions): Promise<Prediction> =>
  predictVirtualWith(model, configuration, workload, options)) satisfies Predict;
