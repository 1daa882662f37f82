// The charts of one run: latency percentiles over time per stage, decoded from the record's
// per-interval HDR histograms (each point is one whole interval, never a rolling window), and the
// record's timelines (throughput, backlog, oldest unacked age, buffers...) grouped by kind and unit.
import type * as hdr from 'hdr-histogram-js';
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
 * One chart per stage: p50, p90, p99 and max of each interval (ms), at the interval's start. Where
 * intervals are missing (no latency completed) a null point is inserted so the line breaks there
 * instead of drawing a slope across time with no data.
 */
export function stageLatency(stage: StageRecord, runIndex: number, axes: Axes): StageLatency {
  const xs: number[] = [];
  const cols: (number | null)[][] = [[], [], [], []];
  const merged = createStageHistogram();
  let lastEndMs: number | undefined;
  for (const iv of stage.intervals) {
    if (lastEndMs !== undefined && iv.startMs > lastEndMs) {
      xs.push(seconds(lastEndMs));
      for (const c of cols) c.push(null);
    }
    const p = scanEncodedInterval(iv.histogram, merged);
    xs.push(seconds(iv.startMs));
    cols[0]?.push(p.p50);
    cols[1]?.push(p.p90);
    cols[2]?.push(p.p99);
    cols[3]?.push(p.max);
    lastEndMs = iv.endMs;
  }
  const labels = ['p50', 'p90', 'p99', 'max'];
  const series: ChartSeries[] = labels.map((label, i) => ({ label, values: cols[i] ?? [] }));
  const chart: Chart = { id: `r${runIndex}-latency-${stage.name}`, title: `${stage.name} latency per interval`, unit: 'ms', x: axes.add(xs), series, reduce: 'max', spanGaps: false };
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

/** The series of one kind and unit on one x axis (the union of their sample times), null where a series has no sample. */
function timelineChart(kind: SeriesKind, unit: string, list: readonly SeriesRecord[], id: string, axes: Axes): Chart {
  const times = [...new Set(list.flatMap((s) => s.points.map((p) => p.tMs)))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const series = list.map((s) => {
    const values: (number | null)[] = new Array<number | null>(times.length).fill(null);
    for (const p of s.points) values[at.get(p.tMs) as number] = p.value;
    return { label: s.name, values };
  });
  return { id, title: list.length === 1 ? (list[0] as SeriesRecord).name : KIND_TITLES[kind], unit, x: axes.add(times.map(seconds)), series, reduce: REDUCE_BY_KIND[kind], spanGaps: true };
}

/** Timelines grouped by kind (one chart group each, in the schema's order), one chart per unit. */
export function timelineGroups(record: RunRecord, runIndex: number, axes: Axes): ChartGroup[] {
  const groups: ChartGroup[] = [];
  for (const kind of Object.keys(KIND_TITLES) as SeriesKind[]) {
    const ofKind = record.series.filter((s) => s.kind === kind);
    if (ofKind.length === 0) continue;
    const units = [...new Set(ofKind.map((s) => s.unit))];
    const charts = units.map((u, i) => timelineChart(kind, u, ofKind.filter((s) => s.unit === u), `r${runIndex}-${kind}-${i}`, axes));
    groups.push({ title: KIND_TITLES[kind], charts });
  }
  return groups;
}
