// Percentiles of many small interval histograms, fast. A one-hour run at 1 s intervals holds
// thousands of histograms per stage; asking the library for p50, p90, p99 and p99.9 scans each
// one's whole counts array (tens of thousands of slots) once per percentile, which made the
// report take seconds. Here one pass over the occupied slots finds every percentile and adds the
// counts into the stage's whole-run histogram. The figures are the ones `percentilesOf`
// (reports/latency.ts) gives: the same count-at-percentile rounding and the same clamp to the
// maximum, checked against it in percentiles.test.ts.
import * as hdr from 'hdr-histogram-js';
import { percentilesOf } from '../latency.ts';

export interface IntervalPercentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
}

const LEVELS = [50, 90, 99] as const;

/** The library's count at a percentile: the fp count rounded up, less one ulp of slack, at least 1. */
function countAt(percentile: number, total: number): number {
  const fp = (percentile / 100) * total;
  const ulp = fp === 0 ? 0 : 2 ** (Math.floor(Math.log2(fp)) - 52);
  return Math.max(Math.ceil(fp - ulp), 1);
}

/**
 * p50, p90, p99 and max (ms) of an interval histogram recorded in µs, adding its counts into
 * `into` (a histogram of the same shape) as it goes.
 */
export function scanInterval(h: hdr.Histogram, into: hdr.Histogram): IntervalPercentiles {
  if (!(h instanceof hdr.JsHistogram) || !(into instanceof hdr.JsHistogram)) {
    into.add(h);
    const p = percentilesOf(h);
    return { p50: p.p50, p90: p.p90, p99: p.p99, max: p.max, count: p.count };
  }
  const total = h.totalCount;
  const ms = (us: number): number => Math.round(Math.min(us, h.maxValue)) / 1000;
  if (total === 0) return { p50: 0, p90: 0, p99: 0, max: ms(h.maxValue), count: 0 };
  const targets = LEVELS.map((p) => countAt(p, total));
  const found: number[] = [];
  const last = Math.min(h.countsArrayIndex(h.maxValue), h.countsArrayLength - 1);
  let cumulative = 0;
  for (let i = Math.max(0, h.countsArrayIndex(h.minNonZeroValue)); i <= last; i++) {
    const c = h.getCountAtIndex(i);
    if (c === 0) continue;
    cumulative += c;
    const top = h.highestEquivalentValue(h.valueFromIndex(i));
    // The slot's highest equivalent value lands in the same slot of `into` and, for the top
    // slot, sets the maximum a decoded histogram has.
    into.recordValueWithCount(top, c);
    while (found.length < targets.length && cumulative >= (targets[found.length] as number)) found.push(top);
  }
  return { p50: ms(found[0] ?? 0), p90: ms(found[1] ?? 0), p99: ms(found[2] ?? 0), max: ms(h.maxValue), count: total };
}
