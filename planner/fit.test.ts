import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitLinear, fitUsl, uslPeakN, uslThroughput } from './fit.ts';

const LABELS = { concurrency: 'N', throughput: 'X' } as const;

/** A seeded uniform noise source in [-1, 1] (fast-check hands the seed). */
function noise(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

describe('fitLinear', () => {
  it('is exact on noiseless data: base and every per-unit cost come back', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 50_000, noNaN: true }),
        fc.double({ min: 0, max: 5_000, noNaN: true }),
        fc.double({ min: 0, max: 500, noNaN: true }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 400 })), { minLength: 8, maxLength: 60 }),
        (base, perUser, perTicket, sizes) => {
          fc.pre(new Set(sizes.map(([u]) => u)).size >= 3 && new Set(sizes.map(([u, t]) => t - 4 * u)).size >= 3);
          const samples = sizes.map(([users, tickets]) => ({ durationUs: base + perUser * users + perTicket * tickets, sizes: { users, tickets } }));
          const fit = fitLinear(samples, ['users', 'tickets']);
          const scale = base + perUser * 50 + perTicket * 400 + 1;
          expect(Math.abs(fit.baseUs - base)).toBeLessThan(1e-6 * scale);
          expect(Math.abs((fit.perUs['users'] as number) - perUser)).toBeLessThan(1e-6 * scale);
          expect(Math.abs((fit.perUs['tickets'] as number) - perTicket)).toBeLessThan(1e-6 * scale);
          expect(fit.cv).toBeLessThan(1e-6);
          expect(fit.samples).toBe(samples.length);
        },
      ),
      { seed: 14, numRuns: 200 },
    );
  });

  it('recovers known costs from noisy samples (5% noise, 400 samples) and reports the spread as cv', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), fc.double({ min: 1_000, max: 20_000, noNaN: true }), fc.double({ min: 100, max: 3_000, noNaN: true }), (seed, base, per) => {
        const r = noise(seed);
        const samples = Array.from({ length: 400 }, (_, i) => {
          const users = 1 + (i % 25);
          const exact = base + per * users;
          return { durationUs: exact * (1 + 0.05 * r()), sizes: { users } };
        });
        const fit = fitLinear(samples, ['users']);
        // Every size's predicted time within 2% of the largest true time (the noise is 5% of each
        // sample, so the intercept is the least certain part); the slope within 15%.
        const largest = base + per * 25;
        for (let users = 1; users <= 25; users++) expect(Math.abs(fit.baseUs + (fit.perUs['users'] as number) * users - (base + per * users)) / largest).toBeLessThan(0.02);
        expect(Math.abs((fit.perUs['users'] as number) - per) / per).toBeLessThan(0.15);
        expect(fit.cv).toBeGreaterThan(0.005);
        expect(fit.cv).toBeLessThan(0.06);
      }),
      { seed: 15, numRuns: 100 },
    );
  });

  it('never prices a term negative: a falling trend is clamped to 0 and the rest refitted', () => {
    const samples = [1, 2, 3, 4, 5, 6].map((users) => ({ durationUs: 1_000 - 50 * users, sizes: { users } }));
    const fit = fitLinear(samples, ['users']);
    expect(fit.perUs['users']).toBe(0);
    expect(fit.baseUs).toBeCloseTo(1_000 - 50 * 3.5, 6);
  });

  it('answers for a term that never varies (collinear with the base) without NaN', () => {
    const samples = [100, 110, 90, 105].map((d) => ({ durationUs: d, sizes: { users: 300 } }));
    const fit = fitLinear(samples, ['users']);
    expect(Number.isFinite(fit.baseUs) && Number.isFinite(fit.perUs['users'] as number)).toBe(true);
    expect(fit.baseUs + 300 * (fit.perUs['users'] as number)).toBeCloseTo(101.25, 6);
  });

  it('refuses no samples and a negative duration with a coded error', () => {
    expect(() => fitLinear([], ['users'])).toThrow('PLAN.NO_SAMPLES');
    expect(() => fitLinear([{ durationUs: -1, sizes: {} }], [])).toThrow('PLAN.SAMPLE_INVALID: samples[0].durationUs');
  });
});

describe('fitUsl', () => {
  const LEVELS = [1, 2, 3, 4, 6, 8, 12, 16];

  it('is exact on noiseless data: lambda, sigma, kappa and the peak N come back', () => {
    fc.assert(
      fc.property(fc.double({ min: 10, max: 5_000, noNaN: true }), fc.double({ min: 0, max: 0.6, noNaN: true }), fc.double({ min: 0, max: 0.02, noNaN: true }), (lambda, sigma, kappa) => {
        const levels = LEVELS.map((n) => ({ n, throughput: uslThroughput({ lambda, sigma, kappa }, n) }));
        const r = fitUsl(levels, LABELS);
        if (!r.ok) throw new Error(r.error.message);
        expect(Math.abs(r.value.lambda - lambda) / lambda).toBeLessThan(1e-6);
        expect(Math.abs(r.value.sigma - sigma)).toBeLessThan(1e-6);
        expect(Math.abs(r.value.kappa - kappa)).toBeLessThan(1e-7);
        expect(r.value.r2).toBeGreaterThan(0.999999);
        if (kappa > 1e-6) expect(Math.abs(r.value.peakN - Math.sqrt((1 - sigma) / kappa)) / Math.sqrt((1 - sigma) / kappa)).toBeLessThan(1e-3);
      }),
      { seed: 16, numRuns: 200 },
    );
  });

  it('recovers known parameters from noisy levels (2% noise, 3 repeats per level)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 30 }), fc.double({ min: 50, max: 2_000, noNaN: true }), fc.double({ min: 0.02, max: 0.3, noNaN: true }), fc.double({ min: 0.002, max: 0.02, noNaN: true }), (seed, lambda, sigma, kappa) => {
        const r = noise(seed);
        const levels = LEVELS.flatMap((n) => [0, 1, 2].map(() => ({ n, throughput: uslThroughput({ lambda, sigma, kappa }, n) * (1 + 0.02 * r()) })));
        const fit = fitUsl(levels, LABELS);
        if (!fit.ok) throw new Error(fit.error.message);
        // The curve, not each parameter, is what noise leaves identifiable: compare throughput at every level and the peak.
        for (const n of LEVELS) expect(Math.abs(uslThroughput(fit.value, n) / uslThroughput({ lambda, sigma, kappa }, n) - 1)).toBeLessThan(0.04);
        expect(fit.value.r2).toBeGreaterThan(0.95);
      }),
      { seed: 17, numRuns: 100 },
    );
  });

  it('puts the peak where the throughput is highest', () => {
    const levels = [1, 2, 4, 8, 16, 32, 64].map((n) => ({ n, throughput: uslThroughput({ lambda: 100, sigma: 0.05, kappa: 0.001 }, n) }));
    const r = fitUsl(levels, LABELS);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.peakN).toBeCloseTo(Math.sqrt(0.95 / 0.001), 3);
    const at = (n: number): number => uslThroughput(r.value, n);
    expect(at(r.value.peakN)).toBeGreaterThan(at(r.value.peakN * 0.8));
    expect(at(r.value.peakN)).toBeGreaterThan(at(r.value.peakN * 1.25));
  });

  it('keeps sigma and kappa >= 0 even when throughput grows faster than N', () => {
    const levels = [1, 2, 3, 4, 6, 8].map((n) => ({ n, throughput: 10 * n ** 1.3 }));
    const r = fitUsl(levels, LABELS);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.sigma).toBeGreaterThanOrEqual(0);
    expect(r.value.kappa).toBeGreaterThanOrEqual(0);
    // No contention to see: the peak lies far beyond every measured level (or nowhere).
    expect(r.value.peakN).toBeGreaterThan(1_000);
  });

  it('fits flat throughput (every unit serialised) as sigma near 1, not worse than its mean', () => {
    // Measured here: users/s over 1..6 emulator shards at one settle concurrency (nothing gained).
    const levels = [205, 171, 176, 203, 180, 202].map((throughput, i) => ({ n: i + 1, throughput }));
    const r = fitUsl(levels, LABELS);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.sigma).toBeGreaterThan(0.95);
    expect(r.value.r2).toBeGreaterThanOrEqual(0);
  });

  it('refuses fewer than 6 distinct levels (repeats do not count twice) and bad levels, with codes', () => {
    const five = [1, 2, 3, 4, 5, 5, 5].map((n) => ({ n, throughput: 10 * n }));
    const r = fitUsl(five, LABELS);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('PLAN.TOO_FEW_LEVELS');
      expect(r.error.message).toContain('got 5');
    }
    const bad = fitUsl([1, 2, 3, 4, 5, 6].map((n) => ({ n, throughput: n === 3 ? 0 : n })), LABELS);
    expect(bad.ok ? undefined : bad.error).toMatchObject({ code: 'PLAN.LEVELS_INVALID', path: 'levels[2].throughput' });
  });

  it('peak N: unbounded without coherency cost, 1 when contention alone slows every added unit', () => {
    expect(uslPeakN(0.1, 0)).toBe(Number.POSITIVE_INFINITY);
    expect(uslPeakN(1, 0.01)).toBe(1);
    expect(uslPeakN(0.19, 0.01)).toBeCloseTo(9, 10);
  });
});
