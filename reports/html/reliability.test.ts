import { describe, expect, it } from 'vitest';
import { synthesizeDayRecord } from '../../bench/report-data.ts';
import { reliabilityFixture } from '../_fixtures/reliability.ts';
import type { RunRecord } from '../record/schema.ts';
import { renderSummary } from '../summary.ts';
import { buildReportModel, renderReportHtml } from './index.ts';

const base = (): RunRecord => synthesizeDayRecord({ runId: 'chaos-run', durationS: 30 });

function withReliability(section: unknown): RunRecord {
  return { ...base(), command: 'chaos', reliability: section as RunRecord['reliability'] };
}

describe('report.html reliability section', () => {
  it('has faults by kind, the exactly-once table per seed, dead letters by reason and recovery per fault', () => {
    const model = buildReportModel([withReliability(reliabilityFixture())]);
    const tables = model.runs[0]?.tables ?? [];
    const caption = (start: string) => tables.find((t) => t.caption.startsWith(start));
    expect(caption('Reliability: 8 faults injected over 2 runs')?.rows).toEqual([
      ['kill', 6, 2],
      ['latency', 2, 2],
    ]);
    const once = caption('Exactly once under faults');
    expect(once?.rows.map((r) => [r[0], r[3], r[7], r[8]])).toEqual([
      ['seed 1', 0, '0 / 0 / 0', 'PASS'],
      ['seed 2', 1, '1 / 3 / 0', 'FAIL'],
      ['total', 1, '1 / 3 / 0', 'FAIL'],
    ]);
    expect(once?.rowClasses).toEqual(['pass', 'fail', 'fail']);
    expect(caption('Dead letters by reason (4)')?.rows).toEqual([['DELIVERY.ATTEMPTS_EXHAUSTED', 4]]);
    const recovery = caption('Recovery per fault');
    expect(recovery?.rows).toHaveLength(8);
    expect(recovery?.rows[2]).toEqual(['1', 'kill', 'post-settle-1', 'barrier', 4, 300, 'nothing left to do']);
    // The generic flattened list is not shown as well.
    expect(tables.some((t) => t.caption === 'Reliability')).toBe(false);
  });

  it('draws the soak drift: a chart per unit and the slopes with their verdicts', () => {
    const model = buildReportModel([withReliability(reliabilityFixture({ soak: true }))]);
    const run = model.runs[0];
    const soak = run?.chartGroups.find((g) => g.title === 'Soak drift');
    expect(soak?.charts.map((c) => [c.unit, c.series.map((s) => s.label)])).toEqual([
      ['MB', ['rss settle-1', 'rss notify-1']],
      ['ms', ['settle p99']],
    ]);
    const ms = soak?.charts[1];
    expect(model.axes[ms?.x ?? -1]).toEqual([0, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600]);
    const drift = run?.tables.find((t) => t.caption.startsWith('Soak drift over 10 minutes'));
    expect(drift?.rowClasses).toEqual(['pass', 'fail', 'warn']);
    expect(drift?.rows[1]?.[6]).toBe('growing');
  });

  it('a section that is not one is said on the page, naming the field', () => {
    const broken = { ...reliabilityFixture(), totals: { runs: 'two' } };
    const tables = buildReportModel([withReliability(broken)]).runs[0]?.tables ?? [];
    const t = tables.find((x) => x.caption === 'Reliability: the section could not be read');
    expect(String(t?.rows[0]?.[0])).toMatch(/^reliability\.totals\.runs: /);
    expect(renderReportHtml([withReliability(broken)])).toContain('the section could not be read');
  });

  it('records without a reliability section show none of it', () => {
    const model = buildReportModel([base()]);
    expect(model.runs[0]?.tables.some((t) => t.caption.startsWith('Exactly once'))).toBe(false);
    expect(model.runs[0]?.chartGroups.some((g) => g.title === 'Soak drift')).toBe(false);
  });
});

describe('summary.md reliability section', () => {
  it('gives the verdict, the totals, a row per seed and the soak drift', () => {
    const md = renderSummary({ records: [withReliability(reliabilityFixture({ soak: true }))] });
    expect(md).toContain('## Reliability');
    expect(md).toContain('**FAILED**: 2 runs, 8 faults injected (kill 6, latency 2); 1 lost, 0 doubled, 0 notifications lost after recovery; dead letters: DELIVERY.ATTEMPTS_EXHAUSTED 4');
    expect(md).toMatch(/\| seed 2 \| 4 \| 5,000 \| 4,999 \| 1 \| 0 \| 0 \| 0 \| 1 \/ 3 \| 350 \/ 1,250 \| FAIL \|/);
    expect(md).toContain('Soak of 10 minutes (12 days replayed): **growing: rss notify-1**.');
    expect(md).toMatch(/\| rss notify-1 \| 3 MB\/min \| 2\.9 … 3\.1 \| 1 MB\/min \| growing \|/);
    const ok = renderSummary({ records: [withReliability(reliabilityFixture({ lostInSecondRun: 0 }))] });
    expect(ok).toContain('**OK**: 2 runs');
    expect(renderSummary({ records: [base()] })).not.toContain('## Reliability');
  });
});
