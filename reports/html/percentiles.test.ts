// Proves the report's one-pass interval percentiles equal what reports/latency.ts's percentilesOf
// gives for the same histogram (p50, p90, p99, max), and that the whole-run histogram built
// along the way has the same percentiles and count as adding the intervals with the library's
// own `add`, on random histograms (including single values, ties, long tails and empty ones).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { percentilesOf } from '../latency.ts';
import { createStageHistogram, decodeHistogram, encodeHistogram } from '../record/schema.ts';
import { scanInterval } from './percentiles.ts';

// Mostly spread values, some ties, and rarely the longest trackable latency (one hour).
const latencyUs = fc.oneof(
  { arbitrary: fc.noBias(fc.integer({ min: 1, max: 2_000 })), weight: 40 },
  { arbitrary: fc.noBias(fc.integer({ min: 1, max: 5_000_000 })), weight: 40 },
  { arbitrary: fc.constantFrom(1, 1_000), weight: 10 },
  { arbitrary: fc.constant(3_600_000_000), weight: 1 },
);
// fast-check keeps arrays short by default; percentiles only differ from the maximum in longer ones.
const interval = fc.noBias(fc.integer({ min: 0, max: 400 })).chain((n) => fc.array(latencyUs, { minLength: n, maxLength: n }));

function decoded(values: readonly number[]) {
  const h = createStageHistogram();
  for (const v of values) h.recordValue(v);
  return decodeHistogram(encodeHistogram(h));
}

describe('scanInterval', () => {
  it('gives percentilesOf p50/p90/p99/max for every histogram, and a merged histogram equal to add()', () => {
    fc.assert(
      fc.property(fc.array(interval, { minLength: 1, maxLength: 6 }), (intervals) => {
        const merged = createStageHistogram();
        const reference = createStageHistogram();
        for (const values of intervals) {
          const h = decoded(values);
          const want = percentilesOf(h);
          const got = scanInterval(h, merged);
          reference.add(h);
          expect(got).toEqual({ p50: want.p50, p90: want.p90, p99: want.p99, max: want.max, count: want.count });
        }
        expect(percentilesOf(merged)).toEqual(percentilesOf(reference));
      }),
      { numRuns: 150 },
    );
  });

  it('finds a known distribution: 1..100 ms gives p50 50, p90 90, p99 99, max 100 (ms, to 3 digits)', () => {
    const values = Array.from({ length: 100 }, (_, i) => (i + 1) * 1000);
    const p = scanInterval(decoded(values), createStageHistogram());
    expect(p.count).toBe(100);
    expect(p.p50).toBeCloseTo(50, 1);
    expect(p.p90).toBeCloseTo(90, 1);
    expect(p.p99).toBeCloseTo(99, 1);
    expect(p.max).toBeCloseTo(100, 1);
  });
});
