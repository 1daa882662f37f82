// Latency histograms of the swarm: one HDR histogram per (cohort, frame kind), recorded in
// microseconds in each worker, sent to the driver as compressed base64 (HDR's own interchange
// encoding) and merged there with `add`. HDR merging is exact: the merged histogram's counts are
// the sums of the workers' counts, bucket by bucket, so percentiles over the whole swarm are the
// same as if one histogram had recorded every value.
import * as hdr from 'hdr-histogram-js';
import { createLatencyHistogram, percentilesOf, type Percentiles } from '../../reports/latency.ts';

export type FrameKind = 'notification' | 'odds';

/** Histograms by key `${cohort}/${kind}`. */
export type HistogramSet = Map<string, hdr.Histogram>;

/**
 * One encoded histogram. HDR's encoding keeps bucket counts exactly but stores no exact extremes:
 * a decoded histogram's max is its bucket's highest equivalent value. The exact max and smallest
 * non-zero value ride along so the merged max is the true one.
 */
export interface EncodedHistogram {
  readonly hdr: string;
  readonly maxUs: number;
  readonly minNonZeroUs: number;
}

/** Encoded histograms by key, as a worker posts them. */
export type EncodedHistograms = Readonly<Record<string, EncodedHistogram>>;

/** The fields of hdr-histogram-js's JS histograms that `add` reads for the extremes. */
interface Extremes {
  maxValue: number;
  minNonZeroValue: number;
}

export const histogramKey = (cohort: string, kind: FrameKind): string => `${cohort}/${kind}`;

export function createHistogramSet(): HistogramSet {
  return new Map();
}

/**
 * Records one latency. A negative value (a clock step, or a sender stamping after the receiver
 * read it on another core) is recorded as 0: it is still a delivery and must be counted.
 */
export function recordLatency(set: HistogramSet, key: string, latencyMs: number): void {
  let h = set.get(key);
  if (h === undefined) {
    h = createLatencyHistogram();
    set.set(key, h);
  }
  h.recordValue(Math.max(0, Math.round(latencyMs * 1000)));
}

export function encodeHistograms(set: HistogramSet): EncodedHistograms {
  const out: Record<string, EncodedHistogram> = {};
  for (const [key, h] of set) out[key] = { hdr: hdr.encodeIntoCompressedBase64(h), maxUs: h.maxValue, minNonZeroUs: h.minNonZeroValue };
  return out;
}

/** Adds encoded histograms (one worker's) into `into`, key by key. */
export function mergeEncoded(into: HistogramSet, encoded: EncodedHistograms): void {
  for (const [key, e] of Object.entries(encoded)) {
    let h = into.get(key);
    if (h === undefined) {
      h = createLatencyHistogram();
      into.set(key, h);
    }
    const decoded = hdr.decodeFromCompressedBase64(e.hdr);
    // Restore the exact extremes before adding (add takes the max of both sides' maxValue).
    const x = decoded as unknown as Extremes;
    x.maxValue = e.maxUs;
    x.minNonZeroValue = e.minNonZeroUs;
    h.add(decoded);
  }
}

/** Percentiles of every key, in key order. */
export function percentilesOfSet(set: HistogramSet): Record<string, Percentiles> {
  const out: Record<string, Percentiles> = {};
  for (const key of [...set.keys()].sort()) out[key] = percentilesOf(set.get(key) as hdr.Histogram);
  return out;
}
