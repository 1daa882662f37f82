// metrics.prom: an OpenMetrics text snapshot of the run records, for a Pushgateway, a textfile
// collector or any tool that reads the Prometheus exposition: one metric family at a time, each
// with # TYPE (and # UNIT / # HELP), samples labelled by run, ending with # EOF. Latency is a
// summary per stage (quantiles from the merged HDR histogram; _sum is count x the histogram's mean,
// exact to its 3 significant digits); figures, invariants, timelines and variants are gauges; the
// gates a stateset.
import type { GateResult, GateVerdict } from './gate/result.ts';
import { stageHistogram } from './record/histograms.ts';
import type { RunRecord } from './record/schema.ts';
import { gatesOf } from './record/verdict.ts';

export interface OpenMetricsInput {
  readonly records: readonly RunRecord[];
  readonly gates?: readonly GateResult[];
}

type Labels = Readonly<Record<string, string>>;

/** A label value: backslash, double quote and newline escaped as the format requires. */
export function labelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A number as OpenMetrics writes it (no exponent surprises for integers; NaN and infinities spelled). */
function num(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  return String(x);
}

function sample(name: string, labels: Labels, value: number): string {
  const ls = Object.entries(labels).map(([k, v]) => `${k}="${labelValue(v)}"`);
  return `${name}${ls.length === 0 ? '' : `{${ls.join(',')}}`} ${num(value)}`;
}

interface Family {
  readonly name: string;
  readonly type: 'gauge' | 'counter' | 'summary' | 'info' | 'stateset';
  readonly help: string;
  readonly unit?: string;
  readonly samples: string[];
}

const QUANTILES: readonly [string, number][] = [['0.5', 50], ['0.9', 90], ['0.99', 99], ['0.999', 99.9], ['1', 100]];
const GATE_STATES: readonly GateVerdict[] = ['pass', 'breach', 'regression', 'inconclusive', 'error'];

function runFamilies(records: readonly RunRecord[]): Family[] {
  const info: Family = { name: 'raceday_run', type: 'info', help: 'The run: command, scenario, backend, seed.', samples: [] };
  const ok: Family = { name: 'raceday_run_ok', type: 'gauge', help: '1 when the run completed and every invariant held.', samples: [] };
  const wall: Family = { name: 'raceday_run_wall_seconds', type: 'gauge', unit: 'seconds', help: 'Wall-clock duration of the run.', samples: [] };
  const figure: Family = { name: 'raceday_figure', type: 'gauge', help: "The run's figures as the record names them (unit in the name: Ms, PerS, Bytes).", samples: [] };
  const counter: Family = { name: 'raceday_counter', type: 'counter', help: "The pipeline's and backend's counters.", samples: [] };
  const invariant: Family = { name: 'raceday_invariant_ok', type: 'gauge', help: '1 when the invariant held.', samples: [] };
  const latency: Family = { name: 'raceday_stage_latency_seconds', type: 'summary', unit: 'seconds', help: 'Latency per stage over the whole run.', samples: [] };
  const last: Family = { name: 'raceday_series_last', type: 'gauge', help: "A timeline's last value.", samples: [] };
  const peak: Family = { name: 'raceday_series_max', type: 'gauge', help: "A timeline's highest value.", samples: [] };
  const variant: Family = { name: 'raceday_variant_figure_median', type: 'gauge', help: "A variant's figure, median of its samples.", samples: [] };
  for (const r of records) {
    const run = { run_id: r.runId };
    info.samples.push(sample('raceday_run_info', { ...run, command: r.command, scenario: r.scenario, backend: r.backend, seed: r.seed === null ? '' : String(r.seed), clock: r.clock }, 1));
    ok.samples.push(sample('raceday_run_ok', run, r.ok ? 1 : 0));
    wall.samples.push(sample('raceday_run_wall_seconds', run, r.wallMs / 1000));
    for (const [k, v] of Object.entries(r.figures)) figure.samples.push(sample('raceday_figure', { ...run, figure: k }, v));
    // A counter's total is never negative; a record's negative "counter" has no place here.
    for (const [k, v] of Object.entries(r.counters)) if (v >= 0) counter.samples.push(sample('raceday_counter_total', { ...run, counter: k }, v));
    for (const inv of r.invariants) invariant.samples.push(sample('raceday_invariant_ok', { ...run, invariant: inv.name }, inv.ok ? 1 : 0));
    for (const st of r.stages) {
      const h = stageHistogram(st);
      const labels = { ...run, stage: st.name };
      for (const [q, p] of QUANTILES) latency.samples.push(sample('raceday_stage_latency_seconds', { ...labels, quantile: q }, h.totalCount === 0 ? Number.NaN : Math.min(h.getValueAtPercentile(p), h.maxValue) / 1e6));
      latency.samples.push(sample('raceday_stage_latency_seconds_count', labels, h.totalCount));
      latency.samples.push(sample('raceday_stage_latency_seconds_sum', labels, h.totalCount === 0 ? 0 : (h.mean * h.totalCount) / 1e6));
    }
    for (const s of r.series) {
      const at = s.points[s.points.length - 1];
      if (at === undefined) continue;
      const labels = { ...run, series: s.name, kind: s.kind, unit: s.unit };
      last.samples.push(sample('raceday_series_last', labels, at.value));
      peak.samples.push(sample('raceday_series_max', labels, Math.max(...s.points.map((p) => p.value))));
    }
    for (const v of r.variants) {
      const names = new Set(v.samples.flatMap((s) => Object.keys(s.figures)));
      for (const n of names) {
        const xs = v.samples.map((s) => s.figures[n]).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
        const m = xs.length % 2 === 1 ? (xs[(xs.length - 1) / 2] as number) : ((xs[xs.length / 2 - 1] as number) + (xs[xs.length / 2] as number)) / 2;
        variant.samples.push(sample('raceday_variant_figure_median', { ...run, variant: v.name, figure: n }, m));
      }
    }
  }
  return [info, ok, wall, figure, counter, invariant, latency, last, peak, variant];
}

function gateFamily(gates: readonly GateResult[]): Family {
  const f: Family = { name: 'raceday_gate', type: 'stateset', help: "Each gate's verdict.", samples: [] };
  const seen = new Map<string, number>();
  for (const g of gates) {
    // Two gates of one name (from two records) would be one series twice: number the repeats.
    const n = (seen.get(g.name) ?? 0) + 1;
    seen.set(g.name, n);
    const gate = n === 1 ? g.name : `${g.name} (${n})`;
    for (const s of GATE_STATES) f.samples.push(sample('raceday_gate', { gate, raceday_gate: s }, g.verdict === s ? 1 : 0));
  }
  return f;
}

export function renderOpenMetrics(i: OpenMetricsInput): string {
  const families = [...runFamilies(i.records), gateFamily(gatesOf(i.records, i.gates))].filter((f) => f.samples.length > 0);
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# TYPE ${f.name} ${f.type}`);
    if (f.unit !== undefined) lines.push(`# UNIT ${f.name} ${f.unit}`);
    lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    lines.push(...f.samples);
  }
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}
