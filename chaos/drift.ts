// Drift over a soak: does a metric (a process's RSS, a stage's p99) keep growing with time? A
// least-squares slope per minute with its 95% interval, and a verdict against a stated threshold.
// Samples come in groups (one per process incarnation: a killed worker comes back with a fresh
// heap), so the slope is the pooled within-group slope: each incarnation is compared with its own
// mean, a restart's drop is not read as shrinking and its fresh start is not read as growth.
//
// Samples taken every few seconds are not independent: a process's RSS moves in steps and
// sawteeth (the heap grows in chunks, a major GC hands memory back), so neighbouring samples share
// their error. Least squares' interval, which assumes independent errors, is then far too narrow:
// a 30-minute soak read a settle worker's heap steps as "growing" at [1.34, 1.64] MB/min while the
// other settle worker, running the same code, was flat. The interval is therefore widened by the
// residuals' lag-1 autocorrelation rho (the AR(1) variance inflation (1 + rho) / (1 - rho), with
// the degrees of freedom shrunk by the same factor): a series that cannot tell is inconclusive.

export interface DriftPoint {
  readonly tMs: number;
  readonly value: number;
  /** Which incarnation (a pid) the sample belongs to; one group when absent. */
  readonly group?: string;
}

export type DriftVerdict = 'no unbounded growth' | 'growing' | 'inconclusive' | 'too few samples';

export interface Drift {
  readonly metric: string;
  /** Of the value: "MB" or "ms"; the slope is in unit per minute. */
  readonly unit: string;
  readonly samples: number;
  /** Samples left out as warm-up (the first part of the soak). */
  readonly warmupSamples: number;
  readonly slopePerMin: number;
  /** 95% interval of the slope (Student's t on the residuals). */
  readonly lowPerMin: number;
  readonly highPerMin: number;
  readonly thresholdPerMin: number;
  /** The median value over the fitted samples, for scale. */
  readonly median: number;
  readonly verdict: DriftVerdict;
}

export interface DriftOptions {
  readonly metric: string;
  readonly unit: string;
  /** Growth per minute judged unbounded. */
  readonly thresholdPerMin: number;
  /** Samples before this time (ms since the soak began) are warm-up and not fitted (default 0). */
  readonly warmupMs?: number;
}

/** Two-sided 95% quantile of Student's t for `df` degrees of freedom. */
export function t975(df: number): number {
  const table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];
  if (df < 1) return Number.POSITIVE_INFINITY;
  if (df <= table.length) return table[Math.floor(df) - 1] as number;
  // Cornish-Fisher expansion around the normal quantile: within 0.001 of the table beyond 30.
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

const medianOf = (xs: readonly number[]): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

interface Fit {
  readonly slopePerMs: number;
  /** Standard error, widened for the residuals' autocorrelation. */
  readonly sePerMs: number;
  /** Effective degrees of freedom. */
  readonly df: number;
  /** Lag-1 autocorrelation of the residuals within incarnations (0 when negative). */
  readonly rho: number;
}

/** Residuals' lag-1 autocorrelation is taken at most this high (inflation factor about 10). */
const RHO_MAX = 0.98;

/** Pooled within-group least squares: slope = Σ(x-x̄g)(y-ȳg) / Σ(x-x̄g)². */
function pooledFit(points: readonly DriftPoint[]): Fit | undefined {
  const groups = new Map<string, DriftPoint[]>();
  for (const p of points) {
    const g = p.group ?? '';
    const list = groups.get(g);
    if (list === undefined) groups.set(g, [p]);
    else list.push(p);
  }
  let sxx = 0;
  let sxy = 0;
  const centred: { dx: number; dy: number }[][] = [];
  for (const list of groups.values()) {
    const mx = list.reduce((a, p) => a + p.tMs, 0) / list.length;
    const my = list.reduce((a, p) => a + p.value, 0) / list.length;
    const mine = [...list].sort((a, b) => a.tMs - b.tMs).map((p) => ({ dx: p.tMs - mx, dy: p.value - my }));
    for (const c of mine) {
      sxx += c.dx * c.dx;
      sxy += c.dx * c.dy;
    }
    centred.push(mine);
  }
  const df = points.length - groups.size - 1;
  if (sxx === 0 || df < 1) return undefined;
  const slope = sxy / sxx;
  let sse = 0;
  let lagged = 0;
  for (const mine of centred) {
    let previous: number | undefined;
    for (const c of mine) {
      const r = c.dy - slope * c.dx;
      sse += r * r;
      if (previous !== undefined) lagged += r * previous;
      previous = r;
    }
  }
  const rho = sse === 0 ? 0 : Math.min(RHO_MAX, Math.max(0, lagged / sse));
  const inflation = (1 + rho) / (1 - rho);
  return { slopePerMs: slope, sePerMs: Math.sqrt((sse / df / sxx) * inflation), df: Math.max(1, df / inflation), rho };
}

/**
 * The drift of one metric. "growing" when the whole 95% interval lies above the threshold,
 * "no unbounded growth" when the whole interval lies at or below it, "inconclusive" when the
 * interval straddles it (a longer soak decides).
 */
export function fitDrift(points: readonly DriftPoint[], o: DriftOptions): Drift {
  const warmupMs = o.warmupMs ?? 0;
  const fitted = points.filter((p) => p.tMs >= warmupMs);
  const base = { metric: o.metric, unit: o.unit, samples: fitted.length, warmupSamples: points.length - fitted.length, thresholdPerMin: o.thresholdPerMin, median: medianOf(fitted.map((p) => p.value)) };
  const fit = pooledFit(fitted);
  if (fit === undefined) return { ...base, slopePerMin: 0, lowPerMin: 0, highPerMin: 0, verdict: 'too few samples' };
  const perMin = 60_000;
  const half = t975(fit.df) * fit.sePerMs * perMin;
  const slopePerMin = fit.slopePerMs * perMin;
  const lowPerMin = slopePerMin - half;
  const highPerMin = slopePerMin + half;
  const verdict: DriftVerdict = lowPerMin > o.thresholdPerMin ? 'growing' : highPerMin <= o.thresholdPerMin ? 'no unbounded growth' : 'inconclusive';
  return { ...base, slopePerMin, lowPerMin, highPerMin, verdict };
}

/** The thresholds a soak judges by (stated in its report and in docs/chaos.md). */
export const DRIFT_THRESHOLDS = {
  /** A process's resident memory growing faster than this, MB per minute, is a leak (30 MB over a 30-minute soak). */
  rssMbPerMin: 1,
  /** A stage's p99 growing faster than this share of its median per minute (60% over 30 minutes)... */
  p99RelativePerMin: 0.02,
  /** ...and at least this many ms per minute. */
  p99MinMsPerMin: 1,
} as const;
