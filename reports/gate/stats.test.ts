import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareSamples, EXACT_MAX, hodgesLehmann, holm, intervalRank, mannWhitney, median, normalCdf, normalQuantile } from './stats.ts';

describe('Mann-Whitney U: published values', () => {
  it('two groups of 5 and 4 with no ties: U 17, exact two-sided p 1/9', () => {
    // The males/females example of SciPy's mannwhitneyu documentation: U1 = 17, p = 0.1111 (exact).
    const males = [19, 22, 16, 29, 24];
    const females = [20, 11, 17, 12];
    const r = mannWhitney(females, males);
    expect(r.uB).toBe(17);
    expect(r.uA).toBe(3);
    expect(r.method).toBe('exact');
    expect(r.p).toBeCloseTo(0.1111111111, 9);
  });

  it('the same groups by the normal approximation with continuity correction: p 0.111347', () => {
    // SciPy gives 0.11134688653314041 for method="asymptotic" (no ties, so no tie correction).
    const r = mannWhitney([20, 11, 17, 12], [19, 22, 16, 29, 24], 'normal');
    expect(r.method).toBe('normal');
    expect(r.p).toBeCloseTo(0.1113468865, 6);
  });

  it('the tie correction shrinks the variance: heavy ties give a smaller normal p than without it', () => {
    // A = 4 x 1 and 4 x 2, B = 8 x 2: U_B = 48 of 64. Two tie groups (sizes 4 and 12) shrink the
    // variance, so z grows and p falls below the uncorrected answer.
    const a = [1, 1, 1, 1, 2, 2, 2, 2];
    const b = [2, 2, 2, 2, 2, 2, 2, 2];
    const r = mannWhitney(a, b, 'normal');
    expect(r.uB).toBe(48);
    const N = 16;
    const tie = (4 ** 3 - 4 + 12 ** 3 - 12) / (N * (N - 1));
    const z = (48 - 32 - 0.5) / Math.sqrt((64 / 12) * (N + 1 - tie));
    expect(r.p).toBeCloseTo(2 * (1 - normalCdf(z)), 12);
    const zNoTies = (48 - 32 - 0.5) / Math.sqrt((64 / 12) * (N + 1));
    expect(r.p).toBeLessThan(2 * (1 - normalCdf(zNoTies)));
  });

  it('permeability constants (Hollander and Wolfe): W 35, one-sided p 0.1272, so two-sided 0.2544', () => {
    // R's wilcox.test example: x has W = 35 against y, p-value = 0.1272 for alternative "greater".
    const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
    const y = [1.15, 0.88, 0.9, 0.74, 1.21];
    const r = mannWhitney(y, x);
    expect(r.uB).toBe(35);
    expect(r.p).toBeCloseTo(0.2544, 4);
  });

  it('complete separation of 5 and 5: p = 2 / C(10, 5)', () => {
    const r = mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(r.uB).toBe(25);
    expect(r.p).toBeCloseTo(2 / 252, 12);
  });

  it('ties use mid-ranks and the exact distribution conditional on them', () => {
    // A = {1, 2}, B = {2, 3}: doubled ranks 2, 5, 5, 8. The six ways to pick B's two ranks give the
    // doubled sums 7, 7, 10, 10, 13, 13; B's observed 13 is 3 from the mean 10, as are both 7s: p = 4/6.
    const r = mannWhitney([1, 2], [2, 3]);
    expect(r.ties).toBe(true);
    expect(r.uB).toBe(3.5);
    expect(r.p).toBeCloseTo(4 / 6, 12);
  });

  it('large samples use the normal approximation, close to the exact answer', () => {
    const a = Array.from({ length: 30 }, (_, i) => 100 + ((i * 37) % 23));
    const b = Array.from({ length: 30 }, (_, i) => 104 + ((i * 29) % 23));
    const large = mannWhitney(a, b);
    expect(large.method).toBe('normal');
    const small = mannWhitney(a.slice(0, 20), b.slice(0, 20));
    expect(small.method).toBe('exact');
    // The first 20 a side by both methods: the exact p and the approximation agree to a few percent.
    const m = 20;
    const z = (Math.abs(small.uB - (m * m) / 2) - 0.5) / Math.sqrt((m * m * (2 * m + 1)) / 12 - 0); // few ties here
    expect(Math.abs(small.p - 2 * (1 - normalCdf(z)))).toBeLessThan(0.02);
  });

  it('refuses empty and non-finite samples', () => {
    expect(() => mannWhitney([], [1])).toThrow(/sample A is empty/);
    expect(() => mannWhitney([1], [Number.NaN])).toThrow(/non-finite/);
  });
});

describe('Hodges-Lehmann interval: critical values', () => {
  it('the interval ranks match the published two-sided 5% critical values of U', () => {
    // Critical U (two-sided, alpha 0.05): n=5,5 -> 2; n=8,8 -> 13; n=10,10 -> 23; n=20,20 -> 127.
    expect(intervalRank(5, 5, 0.95).k).toBe(3);
    expect(intervalRank(8, 8, 0.95).k).toBe(14);
    expect(intervalRank(10, 10, 0.95).k).toBe(24);
    expect(intervalRank(20, 20, 0.95).k).toBe(128);
    expect(intervalRank(3, 3, 0.95).k).toBe(0); // 2/20 > 0.05: no 95% interval exists
  });

  it('the normal approximation of the rank past the exact range stays near the exact one', () => {
    const exact = intervalRank(25, 25, 0.95).k; // N = 50: exact
    expect(50).toBe(EXACT_MAX);
    const approx = intervalRank(26, 25, 0.95).k; // N = 51: normal
    expect(Math.abs(approx - (exact + 12.5))).toBeLessThan(4); // one more A value adds about n/2 pairs
  });

  it('a shift of 10 between two spread-out samples of 8 is estimated as 10 with an interval around it', () => {
    const a = [100, 103, 98, 101, 99, 105, 97, 102];
    const b = a.map((x) => x + 10);
    const r = hodgesLehmann(a, b);
    expect(r.shift).toBe(10);
    expect(r.low).not.toBeNull();
    expect(r.low as number).toBeLessThan(10);
    expect(r.high as number).toBeGreaterThan(10);
    expect(r.coverage as number).toBeGreaterThanOrEqual(0.95);
  });

  it('normal quantiles and the distribution function agree', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(-1.959964)).toBeCloseTo(0.025, 6);
  });
});

describe('Holm correction', () => {
  it('multiplies the smallest p by m, the next by m - 1, keeping the order monotone', () => {
    expect(holm([0.01, 0.04, 0.03])).toEqual([0.03, 0.06, 0.06]);
    expect(holm([0.5])).toEqual([0.5]);
    expect(holm([0.9, 0.8])).toEqual([1, 1]);
  });
});

const sample = fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 14 });

describe('properties', () => {
  it('shifting B by c shifts the Hodges-Lehmann estimate and its interval by c', () => {
    fc.assert(
      fc.property(sample, sample, fc.integer({ min: -500, max: 500 }), (a, b, c) => {
        const before = hodgesLehmann(a, b);
        const after = hodgesLehmann(a, b.map((x) => x + c));
        expect(after.shift).toBe(before.shift + c);
        if (before.low !== null) {
          expect(after.low).toBe(before.low + c);
          expect(after.high).toBe((before.high as number) + c);
        }
      }),
    );
  });

  it('p-values lie in [0, 1] and do not depend on which side is called A', () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const r = mannWhitney(a, b);
        expect(r.p).toBeGreaterThanOrEqual(0);
        expect(r.p).toBeLessThanOrEqual(1);
        expect(mannWhitney(b, a).p).toBeCloseTo(r.p, 10);
        expect(r.uA + r.uB).toBe(a.length * b.length);
      }),
    );
  });

  it('identical samples are never significant and shift by nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }), (a) => {
        const r = compareSamples(a, [...a]);
        expect(r.test.p).toBeCloseTo(1, 9);
        expect(r.hl.shift).toBe(0);
      }),
    );
  });

  it('the interval holds the estimate, and swapping the sides negates both', () => {
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const r = hodgesLehmann(a, b);
        const s = hodgesLehmann(b, a);
        expect(s.shift).toBe(-r.shift + 0); // +0 turns -0 into 0
        if (r.low !== null) {
          expect(r.low).toBeLessThanOrEqual(r.shift);
          expect(r.high as number).toBeGreaterThanOrEqual(r.shift);
          expect(s.low).toBe(-(r.high as number) + 0);
        }
      }),
    );
  });

  it('Holm never lowers a p-value, never exceeds 1, and keeps the order of the raw p-values', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 10 }), (ps) => {
        const adj = holm(ps);
        ps.forEach((p, i) => {
          expect(adj[i] as number).toBeGreaterThanOrEqual(p);
          expect(adj[i] as number).toBeLessThanOrEqual(1);
          ps.forEach((q, j) => {
            if (p < q) expect(adj[i] as number).toBeLessThanOrEqual(adj[j] as number);
          });
        });
      }),
    );
  });

  it('medians: odd and even sizes', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
