// The reliability section of report.html, from a chaos run's `reliability` section: faults
// injected by kind, the exactly-once table per seed, dead letters by reason, the recovery time of
// every fault, and a soak's drift (a chart of every sampled metric over the soak, drawn by uPlot
// like the other timelines, and the fitted slopes with their intervals and verdicts).
import { parseReliability, type ReliabilitySection, type SoakSection } from '../record/reliability.ts';
import type { RunRecord } from '../record/schema.ts';
import type { Cell, Chart, ChartGroup, Table } from './model.ts';
import { CHART_POINTS_MAX, type Axes } from './timelines.ts';

/** Rows of the per-fault recovery table; the rest are counted in its caption. */
export const FAULT_ROWS_MAX = 300;

export interface ReliabilityView {
  readonly tables: readonly Table[];
  readonly chartGroups: readonly ChartGroup[];
  /** Set when the record had a section that is not one: the page says so instead of guessing. */
  readonly error?: string;
}

const s1 = (ms: number): number => Math.round(ms / 100) / 10;

function faultKindTable(r: ReliabilitySection): Table {
  const rows = Object.entries(r.totals.faultsByKind).map(([kind, n]) => [kind, n, r.runs.filter((run) => (run.faultsByKind[kind] ?? 0) > 0).length] as Cell[]);
  return { caption: `Reliability: ${r.totals.faults} faults injected over ${r.totals.runs} run${r.totals.runs === 1 ? '' : 's'}, by kind`, columns: ['fault', 'injected', 'runs with it'], rows };
}

function exactlyOnceTable(r: ReliabilitySection): Table {
  type Outcome = { tickets: number; settledExactlyOnce: number; lost: number; doubled: number; notificationsLostAfterRecovery: number; notificationsDuplicatedAfterRecovery: number; redriven?: { fanouts: number; races: number; users: number } | undefined };
  const row = (name: string, x: Outcome, ok: boolean): Cell[] => [
    name,
    x.tickets,
    x.settledExactlyOnce,
    x.lost,
    x.doubled,
    x.notificationsLostAfterRecovery,
    x.notificationsDuplicatedAfterRecovery,
    x.redriven === undefined ? '-' : `${x.redriven.races} / ${x.redriven.users} / ${x.redriven.fanouts}`,
    ok ? 'PASS' : 'FAIL',
  ];
  const rows = [...r.runs.map((run) => row(`seed ${run.seed}`, run, run.ok)), row('total', r.totals, r.totals.ok)];
  return {
    caption: `Exactly once under faults: ${r.totals.lost} lost, ${r.totals.doubled} doubled, ${r.totals.notificationsLostAfterRecovery} notifications lost after recovery`,
    columns: ['run', 'tickets', 'settled exactly once', 'lost', 'doubled', 'notifications lost after recovery', 'notifications duplicated after recovery', 're-driven races / users / fan-outs', 'verdict'],
    rows,
    rowClasses: [...r.runs.map((run) => (run.ok ? 'pass' : 'fail')), r.totals.ok ? 'pass' : 'fail'],
  };
}

function deadLetterTable(r: ReliabilitySection): Table {
  const entries = Object.entries(r.totals.deadLettered);
  return {
    caption: entries.length === 0 ? 'Dead letters: none' : `Dead letters by reason (${entries.reduce((a, [, n]) => a + n, 0)})`,
    columns: ['reason', 'dead-lettered'],
    rows: entries.length === 0 ? [['none', 0]] : entries.map(([k, n]) => [k, n]),
  };
}

function recoveryTable(r: ReliabilitySection): Table {
  const all = r.runs.flatMap((run) => run.faults.map((f) => ({ seed: run.seed, f })));
  const shown = all.slice(0, FAULT_ROWS_MAX);
  const more = all.length - shown.length;
  return {
    caption: `Recovery per fault (fault end → the stage's progress resumed): p50 ${r.totals.recoveryMs.p50} ms, max ${r.totals.recoveryMs.max} ms over ${r.totals.recoveryMeasured} faults${more > 0 ? `; ${more} more faults in the record` : ''}`,
    columns: ['seed', 'fault', 'target', 'phase', 'at (s)', 'lasted (ms)', 'recovered after (ms)'],
    rows: shown.map(({ seed, f }) => [String(seed), f.kind, f.target, f.phase, s1(f.atMs), f.durationMs, f.recoveredAfterMs ?? 'nothing left to do']),
  };
}

function driftTable(soak: SoakSection): Table {
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    caption: `Soak drift over ${soak.minutes} minutes (${soak.days} days replayed): ${soak.verdict}`,
    columns: ['metric', 'samples', 'median', 'slope per minute', '95% interval', 'threshold per minute', 'verdict'],
    rows: soak.drift.map((d) => [d.metric, d.samples, `${round(d.median)} ${d.unit}`, `${round(d.slopePerMin)} ${d.unit}/min`, `${round(d.lowPerMin)} … ${round(d.highPerMin)}`, `${round(d.thresholdPerMin)} ${d.unit}/min`, d.verdict]),
    rowClasses: soak.drift.map((d) => (d.verdict === 'growing' ? 'fail' : d.verdict === 'no unbounded growth' ? 'pass' : 'warn')),
  };
}

/** One chart per unit: every metric of that unit over the soak (seconds since it began). */
function driftCharts(soak: SoakSection, runIndex: number, axes: Axes): ChartGroup | undefined {
  const units = [...new Set(soak.samples.map((s) => s.unit))];
  const charts: Chart[] = [];
  for (const [u, unit] of units.entries()) {
    const list = soak.samples.filter((s) => s.unit === unit && s.points.length > 0);
    if (list.length === 0) continue;
    const times = [...new Set(list.flatMap((s) => s.points.map((p) => p.tMs)))].sort((a, b) => a - b);
    // Past CHART_POINTS_MAX distinct times, equal-span buckets hold each metric's highest sample.
    const first = times[0] as number;
    const span = times.length <= CHART_POINTS_MAX ? 0 : Math.ceil(((times[times.length - 1] as number) - first + 1) / CHART_POINTS_MAX);
    const xsMs = span === 0 ? times : Array.from({ length: Math.floor(((times[times.length - 1] as number) - first) / span) + 1 }, (_, i) => first + i * span);
    const at = new Map(times.map((t, i) => [t, i]));
    const bucket = (t: number): number => (span === 0 ? (at.get(t) as number) : Math.floor((t - first) / span));
    const series = list.map((s) => {
      const values: (number | null)[] = new Array<number | null>(xsMs.length).fill(null);
      for (const p of s.points) {
        const i = bucket(p.tMs);
        values[i] = Math.max(values[i] ?? -Infinity, Math.round(p.value * 1000) / 1000);
      }
      return { label: s.metric, values };
    });
    charts.push({ id: `r${runIndex}-soak-${u}`, title: `Soak: ${unit === 'MB' ? 'resident memory per process' : unit === 'ms' ? 'p99 per window' : unit}`, unit, x: axes.add(xsMs.map((t) => Math.round(t) / 1000)), series, reduce: 'max', spanGaps: true });
  }
  return charts.length === 0 ? undefined : { title: 'Soak drift', note: 'Every sampled metric over the soak; the table below gives each one\'s least-squares slope per minute (within each process incarnation: a restarted worker starts a new one) with its 95% interval and verdict.', charts };
}

/** The section's tables and charts, or nothing when the record has no reliability section. */
export function reliabilityView(record: RunRecord, runIndex: number, axes: Axes): ReliabilityView | undefined {
  if (record.reliability === undefined || record.reliability === null) return undefined;
  const parsed = parseReliability(record.reliability);
  if (!parsed.ok) {
    return { tables: [{ caption: 'Reliability: the section could not be read', columns: ['problem'], rows: [[parsed.message]], rowClasses: ['fail'] }], chartGroups: [], error: parsed.message };
  }
  const r = parsed.value;
  const tables: Table[] = r.runs.length === 0 ? [] : [faultKindTable(r), exactlyOnceTable(r), deadLetterTable(r), recoveryTable(r)];
  const chartGroups: ChartGroup[] = [];
  if (r.soak !== undefined) {
    tables.push(driftTable(r.soak));
    const charts = driftCharts(r.soak, runIndex, axes);
    if (charts !== undefined) chartGroups.push(charts);
  }
  return { tables, chartGroups };
}
