// Reading a stage's interval histograms: the whole run's percentiles (the intervals added, exact)
// and the percentiles of each interval (percentiles over time, one whole interval each).
import type * as hdr from 'hdr-histogram-js';
import { percentilesOf, type Percentiles } from '../latency.ts';
import { createStageHistogram, decodeHistogram, encodeHistogram, type StageRecord } from './schema.ts';

/** The sum of encoded histograms, as one histogram to read or record into. */
export function sumEncoded(encoded: Iterable<string>): hdr.Histogram {
  const total = createStageHistogram();
  for (const e of encoded) total.add(decodeHistogram(e));
  return total;
}

/** Adds encoded histograms and encodes the sum (how records and intervals merge). */
export function addEncoded(encoded: Iterable<string>): string {
  return encodeHistogram(sumEncoded(encoded));
}

/** Each stage's whole-run histogram, computed once per stage object (summary, metrics and figures all read it). */
const wholeRun = new WeakMap<StageRecord, hdr.Histogram>();

/**
 * Every interval of a stage added: the run's distribution for that stage. The stored total when
 * the record has one (one decode), else the sum of the intervals. Read it, do not record into it.
 */
export function stageHistogram(stage: StageRecord): hdr.Histogram {
  let h = wholeRun.get(stage);
  if (h === undefined) {
    h = stage.total !== undefined ? decodeHistogram(stage.total) : sumEncoded(stage.intervals.map((i) => i.histogram));
    wholeRun.set(stage, h);
  }
  return h;
}

/** The whole run's percentiles of a stage, ms (values are kept in µs). */
export function stagePercentiles(stage: StageRecord): Percentiles {
  return percentilesOf(stageHistogram(stage));
}

export interface IntervalPercentiles extends Percentiles {
  readonly startMs: number;
  readonly endMs: number;
}

/** Percentiles of each interval (ms): the stage's latency over time. */
export function stageTimeline(stage: StageRecord): IntervalPercentiles[] {
  return stage.intervals.map((i) => ({ startMs: i.startMs, endMs: i.endMs, ...percentilesOf(decodeHistogram(i.histogram)) }));
}

/** The figures a stage contributes: `<stage>.p50Ms`, `.p90Ms`, `.p99Ms`, `.p999Ms`, `.maxMs`, `.count`. */
export function stageFigures(stages: readonly StageRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const st of stages) {
    const p = stagePercentiles(st);
    Object.assign(out, {
      [`${st.name}.p50Ms`]: p.p50,
      [`${st.name}.p90Ms`]: p.p90,
      [`${st.name}.p99Ms`]: p.p99,
      [`${st.name}.p999Ms`]: p['p99.9'],
      [`${st.name}.maxMs`]: p.max,
      [`${st.name}.count`]: p.count,
    });
  }
  return out;
}
