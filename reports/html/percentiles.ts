// Percentiles of many small interval histograms, fast. A one-hour run at 1 s intervals holds
// thousands of histograms per stage. Decoding each with the library allocates its whole counts
// array (~94 KB) and asking for p50, p90, p99 scans it once per percentile, which made the report
// take seconds. Here the encoded text is read directly (the HDR V2 compressed format: a deflated
// header and ZigZag LEB128 counts, where a negative word is a run of empty slots), one pass over
// the occupied slots finds every percentile, and the counts are added into the stage's whole-run
// histogram. The figures are the ones `percentilesOf` (reports/latency.ts) gives for the decoded
// histogram: the same count-at-percentile rounding and the same clamp to the maximum, checked
// against it in percentiles.test.ts. A histogram of another shape goes through the library.
import * as hdr from 'hdr-histogram-js';
import { inflateSync } from 'node:zlib';
import { percentilesOf } from '../latency.ts';
import { decodeHistogram } from '../record/schema.ts';

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

const COMPRESSED_COOKIE_BASE = 0x1c849304;
const UNCOMPRESSED_COOKIE_BASE = 0x1c849303;
/** Header of the uncompressed V2 encoding: cookie, payload length, offset, digits, lowest, highest, ratio. */
const HEADER_BYTES = 40;

interface Slots {
  readonly digits: number;
  readonly lowest: number;
  /** Occupied slots in index order, with their counts. */
  readonly indexes: number[];
  readonly counts: number[];
}

/** The occupied slots of an encoded histogram, or undefined when the text is not the V2 compressed format. */
function readSlots(encoded: string): Slots | undefined {
  const bytes = Buffer.from(encoded, 'base64');
  if (bytes.length < 8 || (bytes.readInt32BE(0) & ~0xf0) !== COMPRESSED_COOKIE_BASE) return undefined;
  const raw = inflateSync(bytes.subarray(8, 8 + bytes.readInt32BE(4)));
  if (raw.length < HEADER_BYTES || (raw.readInt32BE(0) & ~0xf0) !== UNCOMPRESSED_COOKIE_BASE) return undefined;
  const end = HEADER_BYTES + raw.readInt32BE(4);
  const indexes: number[] = [];
  const counts: number[] = [];
  let index = 0;
  let pos = HEADER_BYTES;
  while (pos < end) {
    // LEB128, 7 bits a byte, least significant first, at most 9 bytes (the 9th carries 8 bits).
    let word = 0;
    let scale = 1;
    for (let b = 0; b < 9; b++) {
      const byte = raw[pos++] as number;
      word += (b === 8 ? byte : byte & 0x7f) * scale;
      if (b === 8 || (byte & 0x80) === 0) break;
      scale *= 128;
    }
    // ZigZag: even words are counts, odd ones a run of that many empty slots.
    const value = word % 2 === 0 ? word / 2 : -(word + 1) / 2;
    if (value < 0) index += -value;
    else {
      if (value > 0) {
        indexes.push(index);
        counts.push(value);
      }
      index++;
    }
  }
  return { digits: raw.readInt32BE(12), lowest: Number(raw.readBigInt64BE(16)), indexes, counts };
}

/** scanInterval on the encoded text: the same figures and the same additions into `into`, without decoding. */
export function scanEncodedInterval(encoded: string, into: hdr.Histogram): IntervalPercentiles {
  const slots = into instanceof hdr.JsHistogram ? readSlots(encoded) : undefined;
  const last = slots?.indexes[slots.indexes.length - 1];
  const fits = slots !== undefined && into instanceof hdr.JsHistogram && slots.digits === into.numberOfSignificantValueDigits && slots.lowest === into.lowestDiscernibleValue && (last === undefined || last < into.countsArrayLength);
  if (!fits || last === undefined) return scanInterval(decodeHistogram(encoded), into);
  const total = slots.counts.reduce((a, b) => a + b, 0);
  const top = (i: number): number => into.highestEquivalentValue(into.valueFromIndex(i));
  // A decoded histogram's maximum is its highest slot's highest equivalent value (plus the unit mask).
  const maxUs = top(last) + into.unitMagnitudeMask;
  const ms = (us: number): number => Math.round(Math.min(us, maxUs)) / 1000;
  const targets = LEVELS.map((p) => countAt(p, total));
  const found: number[] = [];
  let cumulative = 0;
  for (let k = 0; k < slots.indexes.length; k++) {
    const c = slots.counts[k] as number;
    const value = top(slots.indexes[k] as number);
    cumulative += c;
    into.recordValueWithCount(value, c);
    while (found.length < targets.length && cumulative >= (targets[found.length] as number)) found.push(value);
  }
  return { p50: ms(found[0] ?? 0), p90: ms(found[1] ?? 0), p99: ms(found[2] ?? 0), max: ms(maxUs), count: total };
}
