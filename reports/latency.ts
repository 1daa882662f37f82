// Latency histograms (HDR) and the percentiles every report prints: p50/p90/p99/p99.9/max.
// Values are recorded in microseconds and reported in milliseconds with microsecond precision.
import * as hdr from 'hdr-histogram-js';

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly 'p99.9': number;
  readonly max: number;
  readonly count: number;
}

/** One hour in microseconds: the longest latency a histogram tracks. */
const LATENCY_US_MAX = 3_600_000_000;

export function createLatencyHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: LATENCY_US_MAX, numberOfSignificantValueDigits: 3 });
}

export function percentilesOf(h: hdr.Histogram): Percentiles {
  // HDR reports a bucket's highest equivalent value, which can exceed the true maximum.
  const ms = (us: number) => Math.round(Math.min(us, h.maxValue)) / 1000;
  return {
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    'p99.9': ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
    count: h.totalCount,
  };
}
