// Fitting measured runs: a linear service-time cost per operation (least squares, non-negative
// coefficients) and the Universal Scalability Law over concurrency levels. Plain arithmetic on
// small systems (a handful of terms), so no numeric library is needed.
import type { LinearCost, UslFit } from './contracts.ts';
import { planErr, type PlanResult } from './plan-error.ts';

export interface CostSample {
  readonly durationUs: number;
  readonly sizes: Readonly<Record<string, number>>;
}

/** The fewest distinct concurrency levels a USL fit is made from (three parameters, and a shape to see). */
export const USL_LEVELS_MIN = 6;

/**
 * Solves the square system A x = b by Gaussian elimination with partial pivoting. A column whose
 * pivot vanishes (a term collinear with others, e.g. a size that never varies) gets 0 and is
 * reported in `dropped`, so the fit still answers with the remaining terms.
 */
function solve(a: number[][], b: number[]): { x: number[]; dropped: Set<number> } {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i] as number]);
  const dropped = new Set<number>();
  const scale = Math.max(1e-300, ...m.map((row, i) => Math.abs(row[i] as number)));
  const pivotRow: number[] = new Array<number>(n).fill(-1);
  let row = 0;
  for (let col = 0; col < n; col++) {
    let best = -1;
    for (let r = row; r < n; r++) if (best < 0 || Math.abs((m[r] as number[])[col] as number) > Math.abs((m[best] as number[])[col] as number)) best = r;
    if (best < 0 || Math.abs((m[best] as number[])[col] as number) <= scale * 1e-10) {
      dropped.add(col);
      continue;
    }
    [m[row], m[best]] = [m[best] as number[], m[row] as number[]];
    const p = m[row] as number[];
    for (let r = 0; r < n; r++) {
      if (r === row) continue;
      const q = m[r] as number[];
      const f = (q[col] as number) / (p[col] as number);
      if (f !== 0) for (let c = col; c <= n; c++) q[c] = (q[c] as number) - f * (p[c] as number);
    }
    pivotRow[col] = row;
    row++;
  }
  const x = new Array<number>(n).fill(0);
  for (let col = 0; col < n; col++) {
    const r = pivotRow[col] as number;
    if (r >= 0) x[col] = ((m[r] as number[])[n] as number) / ((m[r] as number[])[col] as number);
  }
  return { x, dropped };
}

/** Ordinary least squares of y on the columns (each row one observation), only over `active` columns. */
function leastSquares(rows: readonly (readonly number[])[], y: readonly number[], active: readonly number[]): number[] {
  const k = active.length;
  const ata = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const aty = new Array<number>(k).fill(0);
  rows.forEach((row, i) => {
    for (let p = 0; p < k; p++) {
      const vp = row[active[p] as number] as number;
      aty[p] = (aty[p] as number) + vp * (y[i] as number);
      const ap = ata[p] as number[];
      for (let q = 0; q < k; q++) ap[q] = (ap[q] as number) + vp * (row[active[q] as number] as number);
    }
  });
  const { x } = solve(ata, aty);
  const full = new Array<number>((rows[0] ?? []).length).fill(0);
  active.forEach((c, i) => (full[c] = x[i] as number));
  return full;
}

/**
 * Least squares with every coefficient >= 0: a cost cannot be negative, and a noisy negative slope
 * would predict negative times at scale. Active set: the most negative coefficient leaves the fit
 * and the rest is refitted, until none is negative.
 */
export function nonNegativeLeastSquares(rows: readonly (readonly number[])[], y: readonly number[]): number[] {
  const width = (rows[0] ?? []).length;
  let active = Array.from({ length: width }, (_, i) => i);
  for (;;) {
    const x = leastSquares(rows, y, active);
    let worst = -1;
    for (const c of active) if ((x[c] as number) < 0 && (worst < 0 || (x[c] as number) < (x[worst] as number))) worst = c;
    if (worst < 0) return x;
    active = active.filter((c) => c !== worst);
    if (active.length === 0) return new Array<number>(width).fill(0);
  }
}

/**
 * Fits durationUs = baseUs + sum(perUs[t] * sizes[t]) over the samples (a size missing from a
 * sample counts 0). cv is the residuals' standard deviation over the mean duration.
 * Throws RangeError on no samples: a cost of nothing measured would be a made-up figure.
 */
export function fitLinear(samples: readonly CostSample[], terms: readonly string[]): LinearCost {
  if (samples.length === 0) throw new RangeError('PLAN.NO_SAMPLES: fitLinear needs at least one sample');
  for (const [i, s] of samples.entries()) {
    if (!Number.isFinite(s.durationUs) || s.durationUs < 0) throw new RangeError(`PLAN.SAMPLE_INVALID: samples[${i}].durationUs ${s.durationUs} must be a finite number >= 0`);
  }
  // Columns scaled to at most 1 so the normal equations stay well conditioned (sizes run to thousands).
  const raw = samples.map((s) => [1, ...terms.map((t) => s.sizes[t] ?? 0)]);
  const scales = [1, ...terms.map((_, j) => Math.max(1e-12, ...raw.map((r) => Math.abs(r[j + 1] as number))))];
  const rows = raw.map((r) => r.map((v, j) => v / (scales[j] as number)));
  const y = samples.map((s) => s.durationUs);
  const beta = nonNegativeLeastSquares(rows, y).map((b, j) => b / (scales[j] as number));
  const predicted = raw.map((r) => r.reduce((acc, v, j) => acc + v * (beta[j] as number), 0));
  const n = samples.length;
  const mean = y.reduce((a, b) => a + b, 0) / n;
  const sse = y.reduce((acc, v, i) => acc + (v - (predicted[i] as number)) ** 2, 0);
  const sd = Math.sqrt(sse / n);
  return {
    baseUs: beta[0] as number,
    perUs: Object.fromEntries(terms.map((t, j) => [t, beta[j + 1] as number])),
    cv: mean > 0 ? sd / mean : 0,
    samples: n,
  };
}

/** The USL's throughput at concurrency n. */
export function uslThroughput(fit: Pick<UslFit, 'lambda' | 'sigma' | 'kappa'>, n: number): number {
  return (fit.lambda * n) / (1 + fit.sigma * (n - 1) + fit.kappa * n * (n - 1));
}

/** N of the USL's peak: sqrt((1 - sigma) / kappa); Infinity without coherency cost, 1 when contention alone makes more N slower. */
export function uslPeakN(sigma: number, kappa: number): number {
  if (sigma >= 1) return 1;
  if (kappa <= 0) return Number.POSITIVE_INFINITY;
  return Math.sqrt((1 - sigma) / kappa);
}

type Level = { readonly n: number; readonly throughput: number };

function sseOf(levels: readonly Level[], p: { lambda: number; sigma: number; kappa: number }): number {
  return levels.reduce((acc, l) => acc + (l.throughput - uslThroughput(p, l.n)) ** 2, 0);
}

/**
 * The USL through the linearisation N/X = (1 + sigma(N-1) + kappa N(N-1)) / lambda: least squares
 * on a = 1/lambda, b = sigma/lambda, c = kappa/lambda with b, c >= 0, so sigma and kappa cannot go
 * negative. Exact on noiseless data; on noisy data the residuals are weighted toward small N,
 * which is where the calibration runs are most repeatable.
 */
function linearisedUsl(levels: readonly Level[]): { lambda: number; sigma: number; kappa: number } {
  const rows = levels.map((l) => [1, l.n - 1, l.n * (l.n - 1)]);
  const y = levels.map((l) => l.n / l.throughput);
  const scales = [1, Math.max(1, ...rows.map((r) => r[1] as number)), Math.max(1, ...rows.map((r) => r[2] as number))];
  const [a, b, c] = nonNegativeLeastSquares(rows.map((r) => r.map((v, j) => v / (scales[j] as number))), y).map((v, j) => v / (scales[j] as number)) as [number, number, number];
  // a = 0 only on degenerate input (validated away): fall back to the best single-level rate.
  if (!(a > 0)) {
    const lambda = Math.max(...levels.map((l) => l.throughput / l.n));
    return { lambda, sigma: 0, kappa: 0 };
  }
  return { lambda: 1 / a, sigma: b / a, kappa: c / a };
}

/**
 * A few rounds of coordinate search on the throughput-scale squared error, from the linearised
 * fit: the linearisation weights the levels unevenly, and the planner predicts throughput itself.
 * Only a step that lowers the error is taken, so the result is never worse than the start.
 */
function refine(levels: readonly Level[], start: { lambda: number; sigma: number; kappa: number }): { lambda: number; sigma: number; kappa: number } {
  let p = { ...start };
  let best = sseOf(levels, p);
  let step = 0.25;
  for (let round = 0; round < 200 && step > 1e-7; round++) {
    let improved = false;
    for (const key of ['lambda', 'sigma', 'kappa'] as const) {
      for (const dir of [1, -1]) {
        const base = p[key] === 0 ? (key === 'kappa' ? 1e-6 : 1e-3) : p[key];
        const value = Math.max(0, p[key] + dir * step * base);
        const q = { ...p, [key]: value };
        const e = sseOf(levels, q);
        if (e < best) {
          p = q;
          best = e;
          improved = true;
        }
      }
    }
    if (!improved) step /= 2;
  }
  return p;
}

/**
 * Fits X(N) = lambda N / (1 + sigma (N-1) + kappa N (N-1)) with sigma, kappa >= 0 over at least
 * USL_LEVELS_MIN distinct concurrency levels (repeats at a level are welcome).
 */
export function fitUsl(levels: readonly Level[], labels: { concurrency: string; throughput: string }): PlanResult<UslFit> {
  for (const [i, l] of levels.entries()) {
    if (!Number.isFinite(l.n) || l.n < 1) return planErr('PLAN.LEVELS_INVALID', `levels[${i}].n ${l.n} must be a finite number >= 1`, `levels[${i}].n`);
    if (!Number.isFinite(l.throughput) || l.throughput <= 0) return planErr('PLAN.LEVELS_INVALID', `levels[${i}].throughput ${l.throughput} must be a finite number > 0`, `levels[${i}].throughput`);
  }
  const distinct = new Set(levels.map((l) => l.n)).size;
  if (distinct < USL_LEVELS_MIN) {
    return planErr('PLAN.TOO_FEW_LEVELS', `a USL fit of ${labels.throughput} against ${labels.concurrency} needs at least ${USL_LEVELS_MIN} distinct concurrency levels, got ${distinct}`);
  }
  // Starts: the linearised fit, and the two extremes it weights badly on noisy data: a flat line
  // (sigma 1: every unit serialised) at the mean throughput, and pure linear scaling.
  const meanX = levels.reduce((a, l) => a + l.throughput, 0) / levels.length;
  const meanPerN = levels.reduce((a, l) => a + l.throughput / l.n, 0) / levels.length;
  const starts = [linearisedUsl(levels), { lambda: meanX, sigma: 1, kappa: 0 }, { lambda: meanPerN, sigma: 0, kappa: 0 }];
  const start = starts.reduce((best, c) => (sseOf(levels, c) < sseOf(levels, best) ? c : best));
  const p = sseOf(levels, start) === 0 ? start : refine(levels, start);
  const mean = levels.reduce((a, l) => a + l.throughput, 0) / levels.length;
  const sst = levels.reduce((a, l) => a + (l.throughput - mean) ** 2, 0);
  const sse = sseOf(levels, p);
  return {
    ok: true,
    value: {
      concurrency: labels.concurrency,
      throughput: labels.throughput,
      lambda: p.lambda,
      sigma: p.sigma,
      kappa: p.kappa,
      peakN: uslPeakN(p.sigma, p.kappa),
      r2: sst > 0 ? 1 - sse / sst : sse === 0 ? 1 : 0,
      levels: [...levels].sort((a, b) => a.n - b.n).map((l) => ({ n: l.n, throughput: l.throughput })),
    },
  };
}
