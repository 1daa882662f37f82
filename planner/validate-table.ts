// The validation's error table: for each held-out configuration, what each predictor said and
// what the real run measured, the error of each, and the totals the issue's targets are judged
// on. Pure arithmetic and text, no I/O, so the figures a test checks are the figures printed.
import type { Interval, Prediction } from './contracts.ts';
import type { MeasuredRun, ValidationCase } from './real-run.ts';
import type { OperationCheck } from './validate-diagnose.ts';

/** The targets a held-out emulator validation must meet. */
export const VALIDATION_TARGETS = {
  /** Every held-out makespan predicted within this many percent of the measured one. */
  makespanErrorPct: 20,
  /** Mean absolute percentage error of the predicted throughput, at most. */
  throughputMapePct: 10,
  /** Held-out configurations at least (the full validation; --small runs fewer). */
  heldOutMin: 6,
  /** A prediction this many times beyond the largest calibrated run is flagged. */
  extrapolationFlag: 2,
} as const;

export interface PredictedFigures {
  readonly method: Prediction['method'];
  readonly makespanMs: Interval;
  readonly throughputUsersPerSecond: number;
  readonly bottleneck: string;
  /** (predicted - measured) / measured, in percent. */
  readonly makespanErrorPct: number;
  readonly throughputErrorPct: number;
  /** The measured makespan lies inside the prediction interval. */
  readonly withinInterval: boolean;
  readonly warnings: readonly string[];
}

export interface ValidationRow {
  readonly case: ValidationCase;
  readonly tickets: number;
  /** The real run (with --repeat: the run of the median makespan). */
  readonly measured: MeasuredRun;
  /** With --repeat: every run's makespan and their spread, (max - min) / median in percent: the measurement's own noise. */
  readonly repeats?: { readonly makespansMs: readonly number[]; readonly spreadPct: number };
  /** With --diagnose: each operation's held-out cost against the model's. */
  readonly operations?: readonly OperationCheck[];
  /** With --diagnose: the settle transactions' summed service time over makespan x units (above 1: the samples overlap, they are waits). */
  readonly settleBusyShare?: number;
  /** users / the largest calibrated run's users. */
  readonly extrapolation: number;
  /** More than 2x beyond the largest calibrated run. */
  readonly flagged: boolean;
  /** The virtual-time model (the one the targets judge). */
  readonly virtual: PredictedFigures;
  /** The closed-form queueing cross-check, beside it. */
  readonly closedForm: PredictedFigures;
}

export interface PredictorTotals {
  readonly throughputMapePct: number;
  readonly makespanMapePct: number;
  readonly makespansWithin20: number;
  readonly withinInterval: number;
}

export interface ValidationTotals {
  readonly heldOut: number;
  readonly flagged: number;
  readonly virtual: PredictorTotals;
  readonly closedForm: PredictorTotals;
}

export interface TargetVerdict {
  readonly met: boolean;
  /** One sentence per missed target, with the numbers. */
  readonly missed: readonly string[];
}

/** (predicted - measured) / measured in percent; a measured 0 cannot be judged (Infinity). */
export function errorPct(predicted: number, measured: number): number {
  if (!(measured > 0)) return Number.POSITIVE_INFINITY;
  return ((predicted - measured) / measured) * 100;
}

export function extrapolationOf(users: number, calibratedMaxUsers: number): number {
  if (!(calibratedMaxUsers > 0)) throw new Error('invariant violated: a calibration has a largest run with users');
  return users / calibratedMaxUsers;
}

/** More than 2x beyond the largest calibrated run: the prediction is extrapolated, and says so. */
export function isFlagged(extrapolation: number): boolean {
  return extrapolation > VALIDATION_TARGETS.extrapolationFlag;
}

export function figuresOf(p: Prediction, measured: MeasuredRun): PredictedFigures {
  return {
    method: p.method,
    makespanMs: p.makespanMs,
    throughputUsersPerSecond: p.throughputUsersPerSecond,
    bottleneck: p.bottleneck,
    makespanErrorPct: errorPct(p.makespanMs.p50, measured.makespanMs),
    throughputErrorPct: errorPct(p.throughputUsersPerSecond, measured.throughputUsersPerSecond),
    withinInterval: measured.makespanMs >= p.makespanMs.low && measured.makespanMs <= p.makespanMs.high,
    warnings: p.warnings,
  };
}

/** The run of the median makespan (the lower middle one of an even count). */
export function medianRun(runs: readonly MeasuredRun[]): MeasuredRun {
  const sorted = [...runs].sort((a, b) => a.makespanMs - b.makespanMs);
  const m = sorted[Math.floor((sorted.length - 1) / 2)];
  if (m === undefined) throw new Error('invariant violated: a held-out configuration has at least one run');
  return m;
}

/** (max - min) / median in percent. */
export function spreadPct(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
  return median > 0 ? (((sorted[sorted.length - 1] ?? 0) - (sorted[0] ?? 0)) / median) * 100 : 0;
}

const mean = (xs: readonly number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

function predictorTotals(figures: readonly PredictedFigures[]): PredictorTotals {
  return {
    throughputMapePct: mean(figures.map((f) => Math.abs(f.throughputErrorPct))),
    makespanMapePct: mean(figures.map((f) => Math.abs(f.makespanErrorPct))),
    makespansWithin20: figures.filter((f) => Math.abs(f.makespanErrorPct) <= VALIDATION_TARGETS.makespanErrorPct).length,
    withinInterval: figures.filter((f) => f.withinInterval).length,
  };
}

export function totalsOf(rows: readonly ValidationRow[]): ValidationTotals {
  return {
    heldOut: rows.length,
    flagged: rows.filter((r) => r.flagged).length,
    virtual: predictorTotals(rows.map((r) => r.virtual)),
    closedForm: predictorTotals(rows.map((r) => r.closedForm)),
  };
}

/** The issue's targets, judged on the virtual-time model; `full` adds the held-out count. */
export function verdictOf(rows: readonly ValidationRow[], totals: ValidationTotals, full: boolean): TargetVerdict {
  const t = VALIDATION_TARGETS;
  const missed: string[] = [];
  const failedRuns = rows.filter((r) => !r.measured.ok);
  if (failedRuns.length > 0) missed.push(`${failedRuns.length} held-out run(s) failed an invariant or timed out: their figures judge nothing`);
  if (full && rows.length < t.heldOutMin) missed.push(`only ${rows.length} held-out configurations (at least ${t.heldOutMin})`);
  const off = rows.filter((r) => !(Math.abs(r.virtual.makespanErrorPct) <= t.makespanErrorPct));
  if (off.length > 0) missed.push(`makespan beyond ${t.makespanErrorPct}% on ${off.length} of ${rows.length}: ${off.map((r) => `${caseName(r.case)} ${signed(r.virtual.makespanErrorPct)}%`).join(', ')}`);
  if (!(totals.virtual.throughputMapePct <= t.throughputMapePct)) missed.push(`throughput MAPE ${totals.virtual.throughputMapePct.toFixed(1)}% > ${t.throughputMapePct}%`);
  return { met: missed.length === 0, missed };
}

/** users/workers/shards, and messages in flight per worker where not the default 256: 1000u/2w/4s, 500u/1w/2s/16f. */
export function caseName(c: ValidationCase): string {
  return `${c.users}u/${c.workers}w/${c.shards}s${c.maxInFlight === 256 ? '' : `/${c.maxInFlight}f`}`;
}

function signed(x: number): string {
  if (!Number.isFinite(x)) return 'inf';
  return `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
}

const ms = (x: number): string => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);

/** One row per held-out configuration, then the totals and the verdict. */
export function renderRows(rows: readonly ValidationRow[], totals: ValidationTotals, verdict: TargetVerdict): string[] {
  const head = ['config', 'users', 'tickets', 'measured', 'virtual [interval]', 'err', 'closed-form', 'err', 'thr meas/s', 'thr virt', 'err', 'thr cf', 'err', 'x calib', 'load'];
  const body = rows.map((r) => [
    caseName(r.case),
    String(r.case.users),
    String(r.tickets),
    ms(r.measured.makespanMs) + (r.repeats === undefined ? '' : ` ±${(r.repeats.spreadPct / 2).toFixed(0)}%`) + (r.measured.ok ? '' : ' FAILED'),
    `${ms(r.virtual.makespanMs.p50)} [${ms(r.virtual.makespanMs.low)}..${ms(r.virtual.makespanMs.high)}]`,
    `${signed(r.virtual.makespanErrorPct)}%`,
    ms(r.closedForm.makespanMs.p50),
    `${signed(r.closedForm.makespanErrorPct)}%`,
    r.measured.throughputUsersPerSecond.toFixed(0),
    r.virtual.throughputUsersPerSecond.toFixed(0),
    `${signed(r.virtual.throughputErrorPct)}%`,
    r.closedForm.throughputUsersPerSecond.toFixed(0),
    `${signed(r.closedForm.throughputErrorPct)}%`,
    `${r.extrapolation.toFixed(1)}x${r.flagged ? ' FLAG >2x' : ''}`,
    r.measured.loadAverage1m.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const v = totals.virtual;
  const cf = totals.closedForm;
  return [
    line(head),
    ...body.map(line),
    '',
    `virtual-time: throughput MAPE ${v.throughputMapePct.toFixed(1)}% (target <= ${VALIDATION_TARGETS.throughputMapePct}%), makespans within ${VALIDATION_TARGETS.makespanErrorPct}%: ${v.makespansWithin20}/${totals.heldOut}, inside the interval: ${v.withinInterval}/${totals.heldOut}`,
    `closed-form:  throughput MAPE ${cf.throughputMapePct.toFixed(1)}%, makespans within ${VALIDATION_TARGETS.makespanErrorPct}%: ${cf.makespansWithin20}/${totals.heldOut}`,
    `flagged (more than ${VALIDATION_TARGETS.extrapolationFlag}x the largest calibrated run): ${totals.flagged}/${totals.heldOut}`,
    verdict.met ? 'targets: met' : `targets: MISSED: ${verdict.missed.join('; ')}`,
  ];
}
