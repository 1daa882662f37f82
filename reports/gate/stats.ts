// Distribution-free statistics for comparing two samples of a wall-clock figure (A: the base,
// B: the candidate): the Mann-Whitney U test, the Hodges-Lehmann shift with its confidence
// interval, and Holm's correction when several figures are gated at once. Wall-clock timings on a
// shared machine are skewed and heavy-tailed, so nothing here assumes a normal distribution.
//
// Small samples (both sides together at most EXACT_MAX) use the exact permutation distribution of
// the rank sum, conditional on the ties actually present (mid-ranks), so ties never need an
// approximation there; larger ones use the normal approximation with the tie-corrected variance
// and a continuity correction.

/** Pooled sample sizes up to this use the exact distribution (its table is N x n x N^2 at most). */
export const EXACT_MAX = 50;

export type TestMethod = 'exact' | 'normal';

export interface MannWhitney {
  /** U of B: the number of pairs (a, b) with b > a, ties counting one half. */
  readonly uB: number;
  /** U of A: n_A * n_B - uB. */
  readonly uA: number;
  /** Two-sided p-value. */
  readonly p: number;
  readonly method: TestMethod;
  /** Whether any value occurs more than once in the pooled sample. */
  readonly ties: boolean;
}

export interface ShiftEstimate {
  /** Hodges-Lehmann estimate of the shift B - A: the median of every difference b - a. */
  readonly shift: number;
  /** The distribution-free interval for the shift, or null when the samples are too small for one. */
  readonly low: number | null;
  readonly high: number | null;
  /** The interval's actual coverage (the discrete distribution rarely hits the asked level). */
  readonly coverage: number | null;
}

function assertSample(name: string, xs: readonly number[]): void {
  if (xs.length === 0) throw new RangeError(`sample ${name} is empty`);
  for (const x of xs) if (!Number.isFinite(x)) throw new RangeError(`sample ${name} holds a non-finite value ${x}`);
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('the median of an empty sample');
  const s = [...xs].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Twice the mid-rank of every value of the pooled sample (integers, so sums stay exact). */
function doubledRanks(pooled: readonly number[]): { ranks: number[]; tieGroups: number[] } {
  const order = pooled.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  const ranks = new Array<number>(pooled.length);
  const tieGroups: number[] = [];
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && (order[j + 1] as readonly [number, number])[0] === (order[i] as readonly [number, number])[0]) j++;
    // Positions i..j (1-based i+1..j+1) share the mid-rank (i+1+j+1)/2; doubled: i+j+2.
    for (let k = i; k <= j; k++) ranks[(order[k] as readonly [number, number])[1]] = i + j + 2;
    tieGroups.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, tieGroups };
}

/**
 * The exact null distribution of the doubled rank sum of `n` items drawn from `ranks`: index s
 * holds P(sum = s). Dynamic programming over the items (how many chosen, their sum).
 */
export function rankSumDistribution(ranks: readonly number[], n: number): Float64Array {
  const maxSum = ranks.reduce((s, r) => s + r, 0);
  // ways[j][s]: subsets of size j of the items seen so far with doubled rank sum s.
  let ways: Float64Array[] = Array.from({ length: n + 1 }, () => new Float64Array(maxSum + 1));
  (ways[0] as Float64Array)[0] = 1;
  for (const r of ranks) {
    const next = ways.map((row) => row.slice());
    for (let j = 0; j < n; j++) {
      const from = ways[j] as Float64Array;
      const to = next[j + 1] as Float64Array;
      for (let s = 0; s + r <= maxSum; s++) if (from[s] !== 0) to[s + r] = (to[s + r] as number) + (from[s] as number);
    }
    ways = next;
  }
  const last = ways[n] as Float64Array;
  const total = last.reduce((s, w) => s + w, 0);
  return last.map((w) => w / total);
}

/** The standard normal distribution function, from erfc (a Chebyshev fit, relative error below 1.2e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + x / 2);
  const poly =
    -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const erfc = t * Math.exp(poly);
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** The z with normalCdf(z) = q, by bisection (only a handful of levels are ever asked for). */
export function normalQuantile(q: number): number {
  if (!(q > 0 && q < 1)) throw new RangeError(`a normal quantile needs 0 < q < 1, got ${q}`);
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Mann-Whitney U test of A against B, two-sided; `method` forces one way of computing p (default: by size). */
export function mannWhitney(a: readonly number[], b: readonly number[], method: TestMethod | 'auto' = 'auto'): MannWhitney {
  assertSample('A', a);
  assertSample('B', b);
  const m = a.length;
  const n = b.length;
  const { ranks, tieGroups } = doubledRanks([...a, ...b]);
  const ties = tieGroups.some((t) => t > 1);
  const rankSumB2 = ranks.slice(m).reduce((s, r) => s + r, 0);
  const uB = (rankSumB2 - n * (n + 1)) / 2;
  const uA = m * n - uB;
  const N = m + n;
  if (method === 'exact' || (method === 'auto' && N <= EXACT_MAX)) {
    const dist = rankSumDistribution(ranks, n);
    const mean2 = n * (N + 1); // the doubled rank sum's mean
    const observed = Math.abs(rankSumB2 - mean2);
    let p = 0;
    // As extreme as observed: every sum at least as far from the mean (a small slack for rounding).
    for (let s = 0; s < dist.length; s++) if (Math.abs(s - mean2) >= observed - 1e-9) p += dist[s] as number;
    return { uB, uA, p: Math.min(1, p), method: 'exact', ties };
  }
  const tieTerm = tieGroups.reduce((s, t) => s + (t * t * t - t), 0) / (N * (N - 1));
  const variance = ((m * n) / 12) * (N + 1 - tieTerm);
  if (variance <= 0) return { uB, uA, p: 1, method: 'normal', ties }; // every value equal
  const z = Math.max(0, Math.abs(uB - (m * n) / 2) - 0.5) / Math.sqrt(variance);
  return { uB, uA, p: Math.min(1, 2 * (1 - normalCdf(z))), method: 'normal', ties };
}

/**
 * The rank k of the interval's ends among the sorted differences: the largest k with
 * P(U <= k - 1) <= (1 - confidence) / 2 under the null (no ties), so the interval
 * [d(k), d(mn + 1 - k)] covers the true shift with at least `confidence`. 0 when none exists.
 */
export function intervalRank(m: number, n: number, confidence: number): { k: number; coverage: number } {
  const alphaHalf = (1 - confidence) / 2;
  if (m + n <= EXACT_MAX) {
    // The doubled rank sum of B without ties is 2U + n(n+1): read U's distribution off it.
    const ranks = Array.from({ length: m + n }, (_, i) => 2 * (i + 1));
    const dist = rankSumDistribution(ranks, n);
    const offset = n * (n + 1);
    let cumulative = 0; // P(U <= k - 1)
    let k = 0;
    for (let u = 0; u <= m * n; u++) {
      const next = cumulative + (dist[2 * u + offset] ?? 0);
      if (next > alphaHalf + 1e-12) break;
      cumulative = next;
      k = u + 1;
    }
    return { k, coverage: 1 - 2 * cumulative };
  }
  const sd = Math.sqrt((m * n * (m + n + 1)) / 12);
  const k = Math.max(0, Math.floor((m * n) / 2 + 0.5 - normalQuantile(1 - alphaHalf) * sd));
  const coverage = k === 0 ? 1 : 1 - 2 * normalCdf((k - 0.5 - (m * n) / 2) / sd);
  return { k, coverage };
}

/** Hodges-Lehmann shift B - A with its distribution-free interval (default 95%). */
export function hodgesLehmann(a: readonly number[], b: readonly number[], confidence = 0.95): ShiftEstimate {
  assertSample('A', a);
  assertSample('B', b);
  const diffs = new Float64Array(a.length * b.length);
  let i = 0;
  for (const y of b) for (const x of a) diffs[i++] = y - x;
  diffs.sort();
  const shift = median(Array.from(diffs));
  const { k, coverage } = intervalRank(a.length, b.length, confidence);
  if (k < 1) return { shift, low: null, high: null, coverage: null };
  return { shift, low: diffs[k - 1] as number, high: diffs[diffs.length - k] as number, coverage };
}

/** Holm's step-down adjustment: adjusted p-values, in the order given, controlling the family-wise error. */
export function holm(ps: readonly number[]): number[] {
  const order = ps.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const adjusted = new Array<number>(ps.length);
  let running = 0;
  order.forEach(([p, idx], rank) => {
    running = Math.max(running, Math.min(1, (ps.length - rank) * p));
    adjusted[idx] = running;
  });
  return adjusted;
}

export interface Comparison {
  readonly nA: number;
  readonly nB: number;
  readonly medianA: number;
  readonly medianB: number;
  readonly test: MannWhitney;
  readonly hl: ShiftEstimate;
  /** The shift and its interval relative to A's median (0.1 is B 10% above A); null when A's median is 0. */
  readonly relShift: number | null;
  readonly relLow: number | null;
  readonly relHigh: number | null;
}

/** Everything the gate needs about one figure measured on both sides. */
export function compareSamples(a: readonly number[], b: readonly number[], confidence = 0.95): Comparison {
  const test = mannWhitney(a, b);
  const hl = hodgesLehmann(a, b, confidence);
  const medianA = median(a);
  const rel = (x: number | null): number | null => (x === null || medianA === 0 ? null : x / Math.abs(medianA));
  return { nA: a.length, nB: b.length, medianA, medianB: median(b), test, hl, relShift: rel(hl.shift), relLow: rel(hl.low), relHigh: rel(hl.high) };
}
