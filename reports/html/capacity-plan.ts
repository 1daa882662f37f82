// The capacity plan section of report.html (a record written by `raceday plan --out DIR`): the
// recommendation table (configuration, predicted makespan and notification latency with their
// intervals, bottleneck, headroom), why a target is infeasible, utilisation per resource, the
// assumptions and every cloud parameter with its source, and a chart of makespan against the
// plan's main knob (Spanner nodes or shards) with the SLO drawn across it.
import { capacityPlanOf, type CapacityPlanSection } from '../record/capacity-plan.ts';
import type { RunRecord } from '../record/schema.ts';
import type { Cell, ChartGroup, Table } from './model.ts';
import type { Axes } from './timelines.ts';

const s1 = (ms: number): number => Math.round(ms / 100) / 10;
const pct = (share: number): string => `${(Math.round(share * 1000) / 10).toLocaleString('en-US')}%`;

function recommendationTable(p: CapacityPlanSection): Table {
  const pr = p.predicted;
  const h = p.headroom;
  const notifySlo = p.question.notifyP99Seconds;
  const slos = notifySlo === undefined ? `the ${p.question.sloSeconds} s SLO` : `the ${p.question.sloSeconds} s makespan SLO and the ${notifySlo} s notify latency p99 SLO`;
  const rows: [string, Cell][] = [
    ['verdict', p.feasible ? `FEASIBLE: meets ${slos}` : `INFEASIBLE: nothing meets ${slos} (best effort shown)`],
    ['question', `${p.question.users.toLocaleString('en-US')} users, ${p.question.tickets.toLocaleString('en-US')} tickets, SLO ${p.question.sloSeconds} s${notifySlo === undefined ? '' : `, notify latency p99 SLO ${notifySlo} s`}, target ${p.question.target}`],
    ...Object.entries(p.configuration).map(([k, v]): [string, Cell] => [k, v]),
    ['cost (relative units)', p.cost],
    [`makespan, s (p50 [low – high], ${pr.method})`, `${s1(pr.makespanMs.p50)} [${s1(pr.makespanMs.low)} – ${s1(pr.makespanMs.high)}]`],
    ['notify makespan, s (p50 [low – high])', `${s1(pr.notifyMakespanMs.p50)} [${s1(pr.notifyMakespanMs.low)} – ${s1(pr.notifyMakespanMs.high)}]`],
    ['notify latency, s (p50 / p99 / p99 high)', `${s1(pr.notifyLatencyMs.p50)} / ${s1(pr.notifyLatencyMs.p99)} / ${s1(pr.notifyLatencyMs.p99High)}`],
    ['throughput (users/s)', Math.round(pr.throughputUsersPerSecond)],
    ['bottleneck', `${h.bottleneck} (${pct(h.bottleneckUtilisation)} busy)`],
    ['headroom', `${s1(h.marginMs)} s (${pct(h.marginShare)} of the SLO) between the SLO and the predicted high bound`],
    ...(h.notify === undefined ? [] : [['notify latency headroom', `${s1(h.notify.marginMs)} s (${pct(h.notify.marginShare)} of its SLO) between the notify latency p99 SLO and the predicted p99 high bound`] as [string, Cell]]),
    ['extrapolation (users / largest calibrated)', pr.extrapolation],
  ];
  return { caption: 'Capacity plan: recommendation', columns: ['what', 'value'], rows, rowClasses: rows.map((_, i) => (i === 0 ? (p.feasible ? 'pass' : 'fail') : undefined)), keyValue: true };
}

function infeasibleTable(p: CapacityPlanSection): Table | undefined {
  if (p.infeasible.length === 0) return undefined;
  return { caption: 'Capacity plan: why the SLO cannot be met', columns: ['code', 'reason'], rows: p.infeasible.map((i) => [i.code, i.reason]), rowClasses: p.infeasible.map(() => 'fail'), keyValue: true };
}

function utilisationTable(p: CapacityPlanSection): Table {
  const rows = Object.entries(p.predicted.utilisation)
    .sort(([, a], [, b]) => b - a)
    .map(([k, v]): Cell[] => [k, pct(v)]);
  return { caption: 'Capacity plan: utilisation per resource over the makespan', columns: ['resource', 'busy'], rows };
}

function listTable(caption: string, items: readonly string[], cls?: string): Table | undefined {
  if (items.length === 0) return undefined;
  return { caption, columns: ['#', caption.endsWith('warnings') ? 'warning' : 'assumption'], rows: items.map((a, i) => [String(i + 1), a]), ...(cls === undefined ? {} : { rowClasses: items.map(() => cls) }), keyValue: true };
}

/** A source's address as plain text without its scheme: the page names where a figure is stated but links and loads nothing outside itself. */
const addressText = (url: string): string => url.replace(/^[a-z]+:\/\//i, '');

function parameterTable(p: CapacityPlanSection): Table {
  return {
    caption: `Capacity plan: cloud parameters used (model measured on ${p.model.target} at ${p.model.measuredAt})`,
    columns: ['parameter', 'value', 'unit', 'kind', 'source', 'as of'],
    rows: p.parameters.map((x) => [x.name, x.value, x.unit, `${x.kind}${x.overridden ? ' (overridden by --params)' : ''}`, `${x.source} (${addressText(x.url)})`, x.asOf]),
    rowClasses: p.parameters.map((x) => (x.overridden ? 'warn' : undefined)),
  };
}

function curveGroup(p: CapacityPlanSection, runIndex: number, axes: Axes): ChartGroup {
  const xs = p.curve.map((c) => c.knob);
  const slo = p.question.sloSeconds;
  const series = [
    { label: 'closed form p50', values: p.curve.map((c) => s1(c.makespanMs)) },
    { label: 'closed form high', values: p.curve.map((c) => s1(c.makespanHighMs)) },
    { label: 'virtual-time pipeline p50', values: p.curve.map((c) => (c.virtualMakespanMs === null ? null : s1(c.virtualMakespanMs))) },
    { label: `SLO (${slo} s)`, values: p.curve.map(() => slo) },
  ];
  return {
    title: `Capacity plan: makespan against ${p.mainKnob.label}`,
    note: `Predicted makespan (result published → last user settled) as ${p.mainKnob.label} vary, every other knob as recommended (${p.mainKnob.name} = ${String(p.configuration[p.mainKnob.name] ?? '–')}). The virtual-time pipeline confirms the recommendation and its neighbours; the closed form draws the rest.`,
    charts: [{ id: `r${runIndex}-capacity-plan`, title: `Makespan against ${p.mainKnob.label}`, unit: 's', xLabel: p.mainKnob.label, x: axes.add(xs), series, reduce: 'max', spanGaps: false }],
  };
}

export interface CapacityPlanParts {
  readonly chartGroup: ChartGroup;
  readonly tables: readonly Table[];
}

/** The section's chart group and tables, or undefined when the record has no capacity plan of the planner's shape. */
export function capacityPlanParts(record: RunRecord, runIndex: number, axes: Axes): CapacityPlanParts | undefined {
  const p = capacityPlanOf(record.capacityPlan);
  if (p === undefined) return undefined;
  const tables = [recommendationTable(p), infeasibleTable(p), utilisationTable(p), listTable('Capacity plan: assumptions', p.assumptions), listTable('Capacity plan: warnings', p.warnings, 'warn'), parameterTable(p)];
  return { chartGroup: curveGroup(p, runIndex, axes), tables: tables.filter((t): t is Table => t !== undefined) };
}
