// report.html: one self-contained page from run records (docs/report-html.md). The records
// become a ReportModel (charts, tables, comparisons) and the model becomes HTML; nothing on the
// page refers to anything outside it.
import type { RunRecord } from '../record/schema.ts';
import { capacityPlanParts } from './capacity-plan.ts';
import { comparisons } from './compare.ts';
import type { ChartGroup, ReportModel, RunSection, Table } from './model.ts';
import { renderModelHtml } from './render.ts';
import { reliabilityView } from './reliability.ts';
import { configurationTable, counterTable, environmentTable, errorTable, figureTable, gateTable, invariantTable, optionalTables, stageBreakdown } from './run-tables.ts';
import { Axes, CHART_POINTS_MAX, stageLatency, timelineGroups } from './timelines.ts';

export type { ReportModel } from './model.ts';

export class ReportError extends Error {
  override readonly name = 'ReportError';
  readonly code: 'REPORT.NO_RECORDS';
  constructor(code: 'REPORT.NO_RECORDS', message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

function runSection(record: RunRecord, index: number, isBaseline: boolean, axes: Axes): RunSection {
  const stages = record.stages.map((s) => stageLatency(s, record.intervalMs, index, axes));
  const chartGroups: ChartGroup[] = [];
  // A stage with no interval has nothing to draw; it still has its row (count 0) in the breakdown.
  const drawn = stages.filter((s) => s.stage.intervals.length > 0);
  if (drawn.length > 0) {
    chartGroups.push({
      title: 'Latency percentiles over time',
      note: `Each point is the histogram of whole intervals (${record.intervalMs} ms each; neighbours merged past ${CHART_POINTS_MAX} points): the latencies that completed in them, never a rolling window. A break in a line is time in which nothing completed.`,
      charts: drawn.map((s) => s.chart),
    });
  }
  chartGroups.push(...timelineGroups(record, index, axes));
  // A chaos run's reliability section: its own tables and soak charts instead of a flattened list.
  const reliability = reliabilityView(record, index, axes);
  if (reliability !== undefined) chartGroups.push(...reliability.chartGroups);
  const plan = capacityPlanParts(record, index, axes);
  if (plan !== undefined) chartGroups.push(plan.chartGroup);
  const tables: (Table | undefined)[] = [
    stages.length > 0 ? stageBreakdown(stages) : undefined,
    invariantTable(record),
    gateTable(record),
    errorTable(record),
    figureTable(record),
    counterTable(record),
    ...(reliability?.tables ?? []),
    ...(plan?.tables ?? []),
    ...optionalTables(record, new Set([...(plan === undefined ? [] : ['capacityPlan']), ...(reliability === undefined ? [] : ['reliability'])])),
    configurationTable(record),
    environmentTable(record),
  ];
  const subtitle = `${record.command} · scenario ${record.scenario} · backend ${record.backend} · seed ${record.seed ?? 'none'} · ${record.clock} clock · started ${record.startedAt} · ${record.ok ? 'run OK' : 'run FAILED'}`;
  return { name: record.runId, subtitle, isBaseline, chartGroups, tables: tables.filter((t): t is Table => t !== undefined) };
}

function summaryLines(records: readonly RunRecord[], baseline: RunRecord | undefined): string[] {
  const all = baseline === undefined ? records : [...records, baseline];
  const failedInvariants = all.flatMap((r) => r.invariants.filter((i) => !i.ok).map((i) => `${i.name} (${r.runId})`));
  const failedRuns = all.filter((r) => !r.ok).map((r) => r.runId);
  const lines = [
    `${records.length} run${records.length === 1 ? '' : 's'}${baseline === undefined ? '' : ` against the baseline ${baseline.runId}`}: ${[...new Set(records.map((r) => `${r.scenario} on ${r.backend}`))].join(', ')}.`,
    failedRuns.length === 0 ? 'Every run completed and reported OK.' : `Runs that FAILED: ${failedRuns.join(', ')}.`,
    failedInvariants.length === 0 ? 'Every invariant held.' : `Invariants that FAILED: ${failedInvariants.join(', ')}.`,
  ];
  if (all.some((r) => r.clock === 'virtual')) lines.push('Time figures of virtual-clock runs are exactly reproducible from the seed; wall-clock figures vary from run to run.');
  return lines;
}

export function buildReportModel(records: readonly RunRecord[], baseline?: RunRecord): ReportModel {
  if (records.length === 0) throw new ReportError('REPORT.NO_RECORDS', 'a report needs at least one run record');
  const axes = new Axes();
  const runs = records.map((r, i) => runSection(r, i, false, axes));
  if (baseline !== undefined) runs.push(runSection(baseline, records.length, true, axes));
  const first = records[0] as RunRecord;
  return {
    title: records.length === 1 ? `raceday report: ${first.scenario} on ${first.backend}` : `raceday report: ${records.length} runs`,
    summary: summaryLines(records, baseline),
    comparisons: comparisons(records, records.map((r) => r.runId), baseline, baseline?.runId ?? 'baseline'),
    runs,
    axes: axes.arrays,
  };
}

/** The whole report.html for these records (and the baseline they are compared with, if any). */
export function renderReportHtml(records: readonly RunRecord[], baseline?: RunRecord): string {
  return renderModelHtml(buildReportModel(records, baseline));
}
