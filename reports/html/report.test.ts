// Proves what renderReportHtml puts in report.html, without a browser (report.browser.test.ts
// opens it in Chromium): every section and chart is there with data that matches the record,
// percentiles over time come from each interval's own histogram with breaks where intervals are
// missing, deltas between variants carry the gate's intervals, hostile strings stay text, the
// optional sections appear only when the record has them, and nothing points outside the page.
import { describe, expect, it } from 'vitest';
import { synthesizeDayRecord } from '../../bench/report-data.ts';
import { createStageHistogram, encodeHistogram, parseRunRecord, type RunRecord } from '../record/schema.ts';
import { buildReportModel, renderReportHtml } from './index.ts';

const HOSTILE = '</script><script>window.__pwned=1</script><!--';

function small(overrides: Partial<RunRecord> = {}, slowdown = 0.25): RunRecord {
  const base = synthesizeDayRecord({
    durationS: 120,
    latenciesPerInterval: 10,
    samplesPerVariant: 8,
    variants: [
      { name: 'per-user', settings: { fanout: 'per-user' }, slowdown: 0 },
      { name: 'user-batch', settings: { fanout: 'user-batch:100' }, slowdown },
    ],
  });
  return { ...base, ...overrides };
}

/** The JSON data block of a rendered page, parsed. */
function dataOf(html: string): { axes: number[][]; charts: Record<string, { x: number; unit: string; series: { label: string; values: (number | null)[] }[] }> } {
  const m = /<script id="report-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
  if (m === null) throw new Error('no data block');
  return JSON.parse(m[1] as string);
}

/** Equal at HDR's resolution (3 significant digits: within 0.1%), nulls exactly. */
function expectNear(got: readonly (number | null)[] | undefined, want: readonly (number | null)[]): void {
  expect(got?.map((v) => v === null)).toEqual(want.map((v) => v === null));
  want.forEach((w, i) => {
    if (w !== null) expect(Math.abs((got?.[i] as number) - w)).toBeLessThanOrEqual(w * 0.001 + 1e-9);
  });
}

function histogramOf(valuesUs: readonly number[]): string {
  const h = createStageHistogram();
  for (const v of valuesUs) h.recordValue(v);
  return encodeHistogram(h);
}

describe('renderReportHtml', () => {
  it('holds every section, a chart placeholder with data for each stage and timeline kind, and tables', () => {
    const record = small();
    // The synthetic day (also the bench's data) is a valid run record, as a run writes one.
    expect(parseRunRecord(JSON.stringify(record)).ok).toBe(true);
    const html = renderReportHtml([record]);
    for (const heading of ['Variants', 'Deltas and their 95% intervals', 'Latency percentiles over time', 'Throughput', 'Backlog', 'Oldest unacked message age']) expect(html).toContain(`>${heading}</h`);
    for (const caption of ['Per-stage breakdown', 'Invariants: all 2 held', 'Configuration', 'Environment', 'Figures', 'Counters']) expect(html).toContain(`<caption>${caption}`);
    const data = dataOf(html);
    const placeholders = [...html.matchAll(/data-chart="([^"]+)"/g)].map((m) => m[1] as string);
    expect(placeholders.sort()).toEqual(Object.keys(data.charts).sort());
    expect(placeholders).toEqual(expect.arrayContaining(['r0-latency-settle', 'r0-latency-notify', 'r0-latency-e2e', 'r0-throughput-0', 'r0-backlog-0', 'r0-oldest-unacked-age-0']));
    for (const chart of Object.values(data.charts)) {
      const xs = data.axes[chart.x] as number[];
      expect(xs.length).toBeGreaterThan(100);
      for (const s of chart.series) expect(s.values).toHaveLength(xs.length);
    }
    // 3 stages x 4 percentiles + 2 throughput + 3 backlog + 3 ages: the report target's 20 series.
    expect(Object.values(data.charts).reduce((n, c) => n + c.series.length, 0)).toBe(20);
  });

  it('draws each interval from its own histogram, with a break where intervals are missing', () => {
    const stage = {
      name: 'settle',
      unit: 'us' as const,
      description: 'published → committed',
      intervals: [
        { startMs: 0, endMs: 1000, histogram: histogramOf(Array.from({ length: 100 }, (_, i) => (i + 1) * 100)) },
        { startMs: 1000, endMs: 2000, histogram: histogramOf([50_000]) },
        { startMs: 5000, endMs: 6000, histogram: histogramOf([7_000, 7_000, 9_000]) },
      ],
    };
    const model = buildReportModel([small({ stages: [stage], series: [] })]);
    const chart = model.runs[0]?.chartGroups[0]?.charts[0];
    expect(chart?.title).toBe('settle latency per interval');
    expect(model.axes[chart?.x ?? -1]).toEqual([0, 1, 2, 5]);
    const byLabel = Object.fromEntries((chart?.series ?? []).map((s) => [s.label, s.values]));
    expectNear(byLabel['p50'], [5, 50, null, 7]);
    expectNear(byLabel['p90'], [9, 50, null, 9]);
    expectNear(byLabel['p99'], [9.9, 50, null, 9]);
    expectNear(byLabel['max'], [10, 50, null, 9]);
    const breakdown = model.runs[0]?.tables.find((t) => t.caption.startsWith('Per-stage breakdown'));
    expect(breakdown?.rows[0]?.slice(0, 2)).toEqual(['settle', 104]);
    expectNear([breakdown?.rows[0]?.[6] as number], [50]);
  });

  it('draws no chart for a stage or timeline without data, and still lists the stage with count 0', () => {
    const model = buildReportModel([small({ stages: [{ name: 'notify', unit: 'us', description: 'd', intervals: [] }], series: [{ name: 'backlog-settle', kind: 'backlog', unit: 'messages', points: [] }] })]);
    expect(model.runs[0]?.chartGroups).toEqual([]);
    expect(model.runs[0]?.tables.find((t) => t.caption.startsWith('Per-stage'))?.rows).toEqual([['notify', 0, null, null, null, null, null, 0, 'd']]);
  });

  it('past CHART_POINTS_MAX merges neighbouring intervals exactly and buckets timelines', () => {
    // 4,000 one-second intervals: pairs merge into 2,000 points. Two hours of timeline samples: 3,600 buckets of 2 s.
    const intervals = Array.from({ length: 4_000 }, (_, i) => ({ startMs: i * 1000, endMs: (i + 1) * 1000, histogram: histogramOf([(i + 1) * 1000]) }));
    const times = Array.from({ length: 7_200 }, (_, i) => i * 1000);
    const backlog = { name: 'backlog-settle', kind: 'backlog' as const, unit: 'messages', points: times.map((tMs, i) => ({ tMs, value: i })) };
    const rate = { name: 'settled-per-s', kind: 'throughput' as const, unit: 'messages/s', points: times.map((tMs, i) => ({ tMs, value: i })) };
    const model = buildReportModel([small({ stages: [{ name: 'settle', unit: 'us', description: 'd', intervals }], series: [backlog, rate] })]);
    const run = model.runs[0];
    const latency = run?.chartGroups[0]?.charts[0];
    expect(latency?.title).toBe('settle latency per 2 s (2 intervals merged)');
    const xs = model.axes[latency?.x ?? -1] ?? [];
    expect(xs).toHaveLength(2_000);
    expect(xs.slice(0, 3)).toEqual([0, 2, 4]);
    const byLabel = Object.fromEntries((latency?.series ?? []).map((s) => [s.label, s.values]));
    // Group j holds the latencies 2j+1 and 2j+2 ms: p50 is the lower one, max the higher.
    expectNear(byLabel['p50']?.slice(0, 2), [1, 3]);
    expectNear(byLabel['max']?.slice(0, 2), [2, 4]);
    expectNear(byLabel['max']?.slice(-1), [4_000]);
    expect(run?.tables.find((t) => t.caption.startsWith('Per-stage'))?.rows[0]?.[1]).toBe(4_000);
    const charts = run?.chartGroups.flatMap((g) => g.charts) ?? [];
    const backlogChart = charts.find((c) => c.series[0]?.label === 'backlog-settle');
    const rateChart = charts.find((c) => c.series[0]?.label === 'settled-per-s');
    expect(model.axes[backlogChart?.x ?? -1]).toHaveLength(3_600);
    // Backlogs keep a bucket's highest sample, rates its mean.
    expect(backlogChart?.series[0]?.values.slice(0, 2)).toEqual([1, 3]);
    expect(rateChart?.series[0]?.values.slice(0, 2)).toEqual([0.5, 2.5]);
  });

  it('compares variants with the Hodges–Lehmann shift and its 95% interval: a 25% slowdown is seen, none is not', () => {
    const row = (slowdown: number) => {
      const table = buildReportModel([small({}, slowdown)]).comparisons.find((c) => c.title.startsWith('Deltas'))?.table;
      return table?.rows.find((r) => r[0] === 'makespanMs' && r[1] === 'user-batch');
    };
    const slow = row(0.25);
    expect(slow?.[2]).toBe('per-user');
    expect(slow?.[3]).toBe('8 / 8');
    const rel = Number(String(slow?.[8]).replace(/[+%]/g, ''));
    expect(rel).toBeGreaterThan(20);
    expect(rel).toBeLessThan(30);
    const [low] = String(slow?.[9]).split(' … ');
    expect(Number(String(low).replace(/[+%]/g, ''))).toBeGreaterThan(0);
    expect(slow?.[10]).toBe('< 0.001');
    const same = row(0);
    const [lowSame, highSame] = String(same?.[9]).split(' … ').map((x) => Number(x.replace(/[+%]/g, '')));
    expect(lowSame).toBeLessThan(0);
    expect(highSame).toBeGreaterThan(0);
  });

  it('leaves figures equal in every sample out of the table and the correction, and says which', () => {
    const record = small({}, 0.25);
    for (const v of record.variants) for (const smp of v.samples) smp.figures['deadLettered'] = 0;
    const deltas = buildReportModel([record]).comparisons.find((c) => c.title.startsWith('Deltas'));
    expect(deltas?.table.rows.map((r) => r[0])).toEqual(['makespanMs', 'notifyMakespanMs', 'notifyP99Ms']);
    expect(deltas?.method).toContain('not tested (nor counted in the correction): user-batch against per-user: deadLettered.');
  });

  it('compares against a baseline variant of the same name', () => {
    const baseline = small({ runId: 'base-run' }, 0);
    const current = small({ runId: 'pr-run' }, 0.25);
    const table = buildReportModel([current], baseline).comparisons.find((c) => c.title.startsWith('Deltas'))?.table;
    const pairs = (table?.rows ?? []).filter((r) => r[0] === 'makespanMs').map((r) => `${String(r[1])} vs ${String(r[2])}`);
    expect(pairs).toEqual(['per-user vs base-run / per-user', 'user-batch vs base-run / user-batch']);
    const html = renderReportHtml([current], baseline);
    expect(html).toContain('>Baseline: base-run</h2>');
  });

  it('keeps hostile names as text: one data block, two scripts, and the name escaped wherever it appears', () => {
    const record = small({
      runId: HOSTILE,
      invariants: [{ name: HOSTILE, ok: false, violations: [HOSTILE] }],
      configuration: { [HOSTILE]: HOSTILE },
      errors: [HOSTILE],
    });
    // A series unit is free text and travels in the JSON data block (chart titles and axis labels).
    record.series[0] = { ...(record.series[0] as RunRecord['series'][number]), unit: HOSTILE };
    record.variants[0] = { ...(record.variants[0] as RunRecord['variants'][number]), name: HOSTILE };
    const html = renderReportHtml([record]);
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(html).not.toContain('<!--');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;!--');
    expect(html).toContain('Invariants that FAILED');
    const units = Object.values(dataOf(html).charts).map((c) => c.unit);
    expect(units).toContain(HOSTILE);
  });

  it('refers to nothing outside the page: no address, no src, only in-page links', () => {
    const html = renderReportHtml([small()]);
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/\ssrc=/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toMatch(/@import/i);
    for (const m of html.matchAll(/href="([^"]*)"/g)) expect(m[1]).toMatch(/^#/);
  });

  it('renders the optional sections (gateway, capacity plan, reliability) only when the record has them', () => {
    const without = renderReportHtml([small()]);
    expect(without).not.toContain('<caption>Gateway');
    const withGateway = { ...small(), gateway: { policy: 'per-subscriber:drop-oldest', deliveries: { sent: 1200, dropped: 3 } }, reliability: { redeliveries: 4 } } as RunRecord;
    const html = renderReportHtml([withGateway]);
    expect(html).toContain('<caption>Gateway (delivery policy and deliveries)</caption>');
    expect(html).toContain('<th scope="row">gateway.deliveries.dropped</th><td class="num">3</td>');
    // A reliability section has a shape now (reports/record/reliability.ts): one that is not is said, not flattened.
    expect(html).toContain('<caption>Reliability: the section could not be read</caption>');
    expect(html).not.toContain('<caption>Capacity plan');
    // A version 1 record carries the gateway in named settings, counters and figures.
    const named = small({ configuration: { gateway: { policy: 'evict-after:500' } }, counters: { 'gateway.evicted': 2, published: 10 }, figures: { gatewayP99Ms: 12.5, makespanMs: 1 } });
    const rows = buildReportModel([named]).runs[0]?.tables.find((t) => t.caption.startsWith('Gateway'))?.rows;
    expect(rows).toEqual([
      ['gateway.policy (setting)', 'evict-after:500'],
      ['gateway.evicted (counter)', 2],
      ['gatewayP99Ms (figure)', 12.5],
    ]);
  });

  it('refuses an empty list of records with REPORT.NO_RECORDS', () => {
    expect(() => renderReportHtml([])).toThrow(/REPORT.NO_RECORDS/);
  });
});
