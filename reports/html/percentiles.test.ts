// Proves the report's one-pass interval percentiles, from a decoded histogram (scanInterval) and
// straight from the encoded text (scanEncodedInterval), equal what reports/latency.ts's
// percentilesOf gives for the decoded histogram (p50, p90, p99, max), and that the whole-run
// histogram built along the way has the same percentiles and count as adding the intervals with
// the library's own `add`, on random histograms (single values, ties, long tails, empty ones).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { percentilesOf } from '../latency.ts';
import * as hdr from 'hdr-histogram-js';
import { createStageHistogram, decodeHistogram, encodeHistogram } from '../record/schema.ts';
import { scanEncodedInterval, scanInterval } from './percentiles.ts';

// Mostly spread values, some ties, and rarely the longest trackable latency (one hour).
const latencyUs = fc.oneof(
  { arbitrary: fc.noBias(fc.integer({ min: 1, max: 2_000 })), weight: 40 },
  { arbitrary: fc.noBias(fc.integer({ min: 1, max: 5_000_000 })), weight: 40 },
  { arbitrary: fc.constantFrom(1, 1_000), weight: 10 },
  { arbitrary: fc.constant(3_600_000_000), weight: 1 },
);
// fast-check keeps arrays short by default; percentiles only differ from the maximum in longer ones.
const interval = fc.noBias(fc.integer({ min: 0, max: 400 })).chain((n) => fc.array(latencyUs, { minLength: n, maxLength: n }));

function encoded(values: readonly number[]): string {
  const h = createStageHistogram();
  for (const v of values) h.recordValue(v);
  return encodeHistogram(h);
}
const decoded = (values: readonly number[]) => decodeHistogram(encoded(values));

describe('scanInterval', () => {
  it('gives percentilesOf p50/p90/p99/max for every histogram, and a merged histogram equal to add()', () => {
    fc.assert(
      fc.property(fc.array(interval, { minLength: 1, maxLength: 6 }), (intervals) => {
        const merged = createStageHistogram();
        const mergedFromText = createStageHistogram();
        const reference = createStageHistogram();
        for (const values of intervals) {
          const text = encoded(values);
          const h = decodeHistogram(text);
          const want = percentilesOf(h);
          expect(scanInterval(h, merged)).toEqual({ p50: want.p50, p90: want.p90, p99: want.p99, max: want.max, count: want.count });
          expect(scanEncodedInterval(text, mergedFromText)).toEqual({ p50: want.p50, p90: want.p90, p99: want.p99, max: want.max, count: want.count });
          reference.add(h);
        }
        expect(percentilesOf(merged)).toEqual(percentilesOf(reference));
        expect(percentilesOf(mergedFromText)).toEqual(percentilesOf(reference));
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

  it('reads a histogram of another shape through the library, with the same figures', () => {
    const other = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 2 });
    for (const v of [5, 70, 900, 12_000, 12_345, 400_000]) other.recordValue(v);
    const text = hdr.encodeIntoCompressedBase64(other);
    const want = percentilesOf(decodeHistogram(text));
    expect(scanEncodedInterval(text, createStageHistogram())).toEqual({ p50: want.p50, p90: want.p90, p99: want.p99, max: want.max, count: 6 });
  });
});
