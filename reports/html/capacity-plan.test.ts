// The capacity plan section of report.html: a record with a plan gets the recommendation table,
// the reasons when infeasible, the assumptions, the parameters with their sources, and a chart of
// makespan against the plan's main knob (its own x axis, the SLO as a line), and no generic
// key/value dump of the same section; a section of another shape falls back to that dump.
import { describe, expect, it } from 'vitest';
import { synthesizeDayRecord } from '../../bench/report-data.ts';
import type { RunRecord } from '../record/schema.ts';
import { capacityPlanFixture } from './_fixtures/capacity-plan.ts';
import { buildReportModel, renderReportHtml } from './index.ts';

function record(capacityPlan: unknown): RunRecord {
  const base = synthesizeDayRecord({ durationS: 30, latenciesPerInterval: 5, samplesPerVariant: 2, variants: [{ name: 'only', settings: {}, slowdown: 0 }] });
  return { ...base, capacityPlan: capacityPlan as RunRecord['capacityPlan'] };
}

describe('report.html capacity plan section', () => {
  it('draws makespan against the main knob, with the SLO, on the knob as x axis', () => {
    const model = buildReportModel([record(capacityPlanFixture())]);
    const group = model.runs[0]?.chartGroups.find((g) => g.title === 'Capacity plan: makespan against Spanner nodes');
    expect(group).toBeDefined();
    const chart = group?.charts[0];
    expect(chart?.xLabel).toBe('Spanner nodes');
    expect(chart?.unit).toBe('s');
    expect(model.axes[chart?.x ?? -1]).toEqual([10, 20, 30, 40, 50, 60]);
    expect(chart?.series.map((s) => s.label)).toEqual(['closed form p50', 'closed form high', 'virtual-time pipeline p50', 'SLO (400 s)']);
    expect(chart?.series[0]?.values).toEqual([1200, 600, 400, 300, 240, 200]);
    expect(chart?.series[2]?.values).toEqual([null, null, 393.3, 295, 236, null]);
    expect(chart?.series[3]?.values).toEqual([400, 400, 400, 400, 400, 400]);
  });

  it('tables: recommendation with verdict, prediction intervals and headroom; assumptions; parameters with sources; no generic dump', () => {
    const html = renderReportHtml([record(capacityPlanFixture())]);
    expect(html).toContain('<caption>Capacity plan: recommendation</caption>');
    expect(html).toContain('<tr class="pass"><th scope="row">verdict</th><td>FEASIBLE: meets the 400 s SLO</td></tr>');
    expect(html).toContain('<th scope="row">spannerNodes</th><td class="num">40</td>');
    expect(html).toContain('<td>295 [280 – 330]</td>');
    expect(html).toContain('<td>150 / 297 / 333</td>');
    expect(html).toContain('<td>spanner.writes (97% busy)</td>');
    expect(html).toContain('<td>70 s (17.5% of the SLO) between the SLO and the predicted high bound</td>');
    expect(html).toContain('<caption>Capacity plan: assumptions</caption>');
    expect(html).toContain('<td>Rated writes are counted as row writes.</td>');
    expect(html).toContain('<td>Spanner: Performance overview (cloud.google.com/spanner/docs/performance)</td>');
    expect(html).toContain('<td>assumed (overridden by --params)</td>');
    expect(html).toContain('<caption>Capacity plan: warnings</caption>');
    expect(html).not.toContain('<caption>Capacity plan</caption>');
    expect(html).not.toContain('capacityPlan.question');
    expect(html).not.toMatch(/https?:\/\//);
    // The chart's data table is by node count, not by seconds since start.
    expect(html).toContain('<th scope="col">Spanner nodes</th>');
  });

  it('an infeasible plan says why, row by row', () => {
    const plan = capacityPlanFixture({ feasible: false, infeasible: [{ code: 'PLAN.PUBLISH_QUOTA', reason: 'the Pub/Sub publish quota cannot carry it: 6 GB at 50 MB/s takes 120 s' }] });
    const html = renderReportHtml([record(plan)]);
    expect(html).toContain('<tr class="fail"><th scope="row">verdict</th><td>INFEASIBLE: nothing meets the 400 s SLO (best effort shown)</td></tr>');
    expect(html).toContain('<caption>Capacity plan: why the SLO cannot be met</caption>');
    expect(html).toContain('<tr class="fail"><th scope="row">PLAN.PUBLISH_QUOTA</th><td>the Pub/Sub publish quota cannot carry it: 6 GB at 50 MB/s takes 120 s</td></tr>');
  });

  it('a section of another shape falls back to the generic key/value table, with no chart', () => {
    const model = buildReportModel([record({ nodes: 3, note: 'hand-made' })]);
    const run = model.runs[0];
    expect(run?.chartGroups.some((g) => g.title.startsWith('Capacity plan'))).toBe(false);
    expect(run?.tables.find((t) => t.caption === 'Capacity plan')?.rows).toEqual([
      ['capacityPlan.nodes', 3],
      ['capacityPlan.note', 'hand-made'],
    ]);
  });
});
