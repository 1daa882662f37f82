// The charts of one run: latency percentiles over time per stage, decoded from the record's
// per-interval HDR histograms (each point is one whole interval, never a rolling window), and the
// record's timelines (throughput, backlog, oldest unacked age, buffers...) grouped by kind and unit.
import type * as hdr from 'hdr-histogram-js';
import { percentilesOf } from '../latency.ts';
import { createStageHistogram, type RunRecord, type SeriesKind, type SeriesRecord, type StageRecord } from '../record/schema.ts';
import type { Chart, ChartGroup, ChartSeries } from './model.ts';
import { scanEncodedInterval } from './percentiles.ts';

/** Shared x arrays: charts whose x values are equal point at one array in the page's data. */
export class Axes {
  readonly arrays: number[][] = [];
  private readonly index = new Map<string, number>();

  add(xs: number[]): number {
    const key = xs.join(',');
    const found = this.index.get(key);
    if (found !== undefined) return found;
    this.arrays.push(xs);
    this.index.set(key, this.arrays.length - 1);
    return this.arrays.length - 1;
  }
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

export interface StageLatency {
  readonly stage: StageRecord;
  readonly chart: Chart;
  /** Every interval added together: the whole run's distribution for the stage. */
  readonly merged: hdr.Histogram;
}

/**
 * Points per chart line. One hour at 1 s is drawn point for point; a longer run merges
 * neighbouring intervals (histograms add exactly, so each point is still the percentile of whole
 * intervals) and averages or maxes neighbouring timeline samples, keeping the page small and fast.
 */
export const CHART_POINTS_MAX = 3_600;

interface Group {
  readonly startMs: number;
  endMs: number;
  readonly histograms: string[];
}

/** Intervals in groups of `factor` nominal intervals (each its own group when factor is 1). */
function groupIntervals(stage: StageRecord, intervalMs: number, factor: number): Group[] {
  const groups: Group[] = [];
  const spanMs = intervalMs * factor;
  for (const iv of stage.intervals) {
    const startMs = factor === 1 ? iv.startMs : Math.floor(iv.startMs / spanMs) * spanMs;
    const last = groups[groups.length - 1];
    if (last !== undefined && factor > 1 && last.startMs === startMs) {
      last.histograms.push(iv.histogram);
      last.endMs = startMs + spanMs;
    } else groups.push({ startMs, endMs: factor === 1 ? iv.endMs : startMs + spanMs, histograms: [iv.histogram] });
  }
  return groups;
}

/** One group's p50, p90, p99 and max (ms), its counts added into `merged`. */
function groupPercentiles(g: Group, merged: hdr.Histogram): { p50: number; p90: number; p99: number; max: number } {
  if (g.histograms.length === 1) return scanEncodedInterval(g.histograms[0] as string, merged);
  const h = createStageHistogram();
  for (const text of g.histograms) scanEncodedInterval(text, h);
  merged.add(h);
  return percentilesOf(h);
}

/**
 * One chart per stage: p50, p90, p99 and max of each interval (ms), at the interval's start. Where
 * intervals are missing (no latency completed) a null point is inserted so the line breaks there
 * instead of drawing a slope across time with no data.
 */
export function stageLatency(stage: StageRecord, intervalMs: number, runIndex: number, axes: Axes): StageLatency {
  const factor = Math.max(1, Math.ceil(stage.intervals.length / CHART_POINTS_MAX));
  const xs: number[] = [];
  const cols: (number | null)[][] = [[], [], [], []];
  const merged = createStageHistogram();
  let lastEndMs: number | undefined;
  for (const g of groupIntervals(stage, intervalMs, factor)) {
    if (lastEndMs !== undefined && g.startMs > lastEndMs) {
      xs.push(seconds(lastEndMs));
      for (const c of cols) c.push(null);
    }
    const p = groupPercentiles(g, merged);
    xs.push(seconds(g.startMs));
    cols[0]?.push(p.p50);
    cols[1]?.push(p.p90);
    cols[2]?.push(p.p99);
    cols[3]?.push(p.max);
    lastEndMs = g.endMs;
  }
  const labels = ['p50', 'p90', 'p99', 'max'];
  const series: ChartSeries[] = labels.map((label, i) => ({ label, values: cols[i] ?? [] }));
  const per = factor === 1 ? 'per interval' : `per ${seconds(intervalMs * factor)} s (${factor} intervals merged)`;
  const chart: Chart = { id: `r${runIndex}-latency-${stage.name}`, title: `${stage.name} latency ${per}`, unit: 'ms', x: axes.add(xs), series, reduce: 'max', spanGaps: false };
  return { stage, chart, merged };
}

const KIND_TITLES: Readonly<Record<SeriesKind, string>> = {
  throughput: 'Throughput',
  backlog: 'Backlog',
  'oldest-unacked-age': 'Oldest unacked message age',
  'buffer-occupancy': 'Buffer occupancy',
  memory: 'Memory',
  progress: 'Progress',
  other: 'Other timelines',
};

/** Backlogs and ages are read at their worst in a bucket; rates and the rest by their mean. */
const REDUCE_BY_KIND: Readonly<Record<SeriesKind, Chart['reduce']>> = {
  throughput: 'mean',
  backlog: 'max',
  'oldest-unacked-age': 'max',
  'buffer-occupancy': 'max',
  memory: 'max',
  progress: 'max',
  other: 'mean',
};

/** Sample times on one axis: every distinct time, or CHART_POINTS_MAX buckets of equal span when there are more. */
function timeBuckets(list: readonly SeriesRecord[]): { xs: number[]; bucketOf: (tMs: number) => number } {
  const times = [...new Set(list.flatMap((s) => s.points.map((p) => p.tMs)))].sort((a, b) => a - b);
  if (times.length <= CHART_POINTS_MAX) {
    const at = new Map(times.map((t, i) => [t, i]));
    return { xs: times.map(seconds), bucketOf: (t) => at.get(t) as number };
  }
  const first = times[0] as number;
  const spanMs = Math.ceil(((times[times.length - 1] as number) - first + 1) / CHART_POINTS_MAX);
  const count = Math.floor(((times[times.length - 1] as number) - first) / spanMs) + 1;
  return { xs: Array.from({ length: count }, (_, i) => seconds(first + i * spanMs)), bucketOf: (t) => Math.floor((t - first) / spanMs) };
}

/** The series of one kind and unit on one x axis (their sample times, bucketed past CHART_POINTS_MAX), null where a series has no sample. */
function timelineChart(kind: SeriesKind, unit: string, list: readonly SeriesRecord[], id: string, axes: Axes): Chart {
  const { xs, bucketOf } = timeBuckets(list);
  const how = REDUCE_BY_KIND[kind];
  const series = list.map((s) => {
    const sums = new Array<number>(xs.length).fill(0);
    const counts = new Array<number>(xs.length).fill(0);
    const values: (number | null)[] = new Array<number | null>(xs.length).fill(null);
    for (const p of s.points) {
      const i = bucketOf(p.tMs);
      sums[i] = (sums[i] as number) + p.value;
      counts[i] = (counts[i] as number) + 1;
      values[i] = how === 'max' ? Math.max(values[i] ?? -Infinity, p.value) : (sums[i] as number) / (counts[i] as number);
    }
    return { label: s.name, values };
  });
  return { id, title: list.length === 1 ? (list[0] as SeriesRecord).name : KIND_TITLES[kind], unit, x: axes.add(xs), series, reduce: how, spanGaps: true };
}

/** Timelines grouped by kind (one chart group each, in the schema's order), one chart per unit. */
export function timelineGroups(record: RunRecord, runIndex: number, axes: Axes): ChartGroup[] {
  const groups: ChartGroup[] = [];
  for (const kind of Object.keys(KIND_TITLES) as SeriesKind[]) {
    const ofKind = record.series.filter((s) => s.kind === kind && s.points.length > 0);
    if (ofKind.length === 0) continue;
    const units = [...new Set(ofKind.map((s) => s.unit))];
    const charts = units.map((u, i) => timelineChart(kind, u, ofKind.filter((s) => s.unit === u), `r${runIndex}-${kind}-${i}`, axes));
    groups.push({ title: KIND_TITLES[kind], charts });
  }
  return groups;
}
