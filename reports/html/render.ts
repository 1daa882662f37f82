// report.html from a ReportModel: one self-contained page. uPlot, its stylesheet and the small
// client script are inlined; the chart data is one JSON block; every other figure is an HTML
// table written here. The page refers to nothing outside itself: no src, no href but in-page
// anchors, no address.
import { loadReportAssets, type ReportAssets } from './assets.ts';
import { escapeHtml, jsonForScript } from './escape.ts';
import type { Chart, ChartGroup, ReportModel, RunSection } from './model.ts';
import { chartBuckets, chartSummary, renderTable } from './tables.ts';

const PAGE_CSS = `
:root { color-scheme: light; --fg: #1b1b1b; --muted: #555; --line: #d0d0d0; --bad: #a40000; --good: #17622d; --warn: #8a5a00; }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); margin: 0 auto; padding: 1rem 1.5rem 4rem; max-width: 1200px; }
h1 { font-size: 1.6rem; margin: .5rem 0; } h2 { margin-top: 2.5rem; border-bottom: 2px solid var(--line); } h3 { margin-top: 1.8rem; }
nav ul { columns: 2; padding-left: 1.2rem; } .muted { color: var(--muted); }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid var(--line); padding: .2rem .5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; } thead th { background: #f3f3f3; }
tr.fail th, tr.fail td { color: var(--bad); font-weight: 600; } tr.pass th { color: var(--good); } tr.warn th { color: var(--warn); }
figure { margin: 1rem 0 2rem; } figcaption { font-weight: 600; margin-bottom: .3rem; }
.chart { min-height: 240px; width: 100%; } details { margin: .3rem 0 1rem; } summary { cursor: pointer; color: var(--muted); }
#chart-error { color: var(--bad); font-weight: 600; }
.kv td { word-break: break-word; max-width: 60rem; }
`;

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'x';

function renderChart(chart: Chart, xs: readonly number[]): string {
  const label = `${chart.title}, ${chart.unit}, over ${chart.xLabel ?? 'seconds since start'}; the same data is in the tables below`;
  return `<figure>
<figcaption>${escapeHtml(chart.title)} <span class="muted">(${escapeHtml(chart.unit)})</span></figcaption>
<div class="chart" id="${escapeHtml(chart.id)}" data-chart="${escapeHtml(chart.id)}" role="img" aria-label="${escapeHtml(label)}"></div>
${renderTable(chartSummary(chart))}
<details><summary>Data table</summary>
${renderTable(chartBuckets(chart, xs))}
</details>
</figure>`;
}

function renderGroup(group: ChartGroup, axes: ReportModel['axes']): string {
  const charts = group.charts.map((c) => renderChart(c, axes[c.x] ?? [])).join('\n');
  return `<h3>${escapeHtml(group.title)}</h3>\n${group.note === undefined ? '' : `<p class="muted">${escapeHtml(group.note)}</p>\n`}${charts}`;
}

function renderRun(run: RunSection, index: number, axes: ReportModel['axes']): string {
  const id = `run-${index}-${slug(run.name)}`;
  const groups = run.chartGroups.map((g) => renderGroup(g, axes)).join('\n');
  const tables = run.tables.map((t) => renderTable(t, t.keyValue === true ? 'kv' : '')).join('\n');
  return `<section id="${escapeHtml(id)}" aria-labelledby="${escapeHtml(id)}-h">
<h2 id="${escapeHtml(id)}-h">${run.isBaseline ? 'Baseline: ' : ''}${escapeHtml(run.name)}</h2>
<p class="muted">${escapeHtml(run.subtitle)}</p>
${groups}
${tables}
</section>`;
}

function chartData(model: ReportModel): unknown {
  const charts: Record<string, unknown> = {};
  for (const run of model.runs) {
    for (const group of run.chartGroups) {
      for (const c of group.charts) charts[c.id] = { title: c.title, unit: c.unit, x: c.x, spanGaps: c.spanGaps, series: c.series, ...(c.xLabel === undefined ? {} : { xLabel: c.xLabel }) };
    }
  }
  return { axes: model.axes, charts };
}

function renderNav(model: ReportModel): string {
  const items = [
    ...model.comparisons.map((c, i) => `<li><a href="#cmp-${i}">${escapeHtml(c.title)}</a></li>`),
    ...model.runs.map((r, i) => `<li><a href="#run-${i}-${escapeHtml(slug(r.name))}">${r.isBaseline ? 'Baseline: ' : ''}${escapeHtml(r.name)}</a></li>`),
  ];
  return `<nav aria-label="Contents"><ul>\n${items.join('\n')}\n</ul></nav>`;
}

export function renderModelHtml(model: ReportModel, assets: ReportAssets = loadReportAssets()): string {
  const comparisons = model.comparisons
    .map((c, i) => `<section id="cmp-${i}"><h2>${escapeHtml(c.title)}</h2>\n<p>${escapeHtml(c.method)}</p>\n${renderTable(c.table)}</section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(model.title)}</title>
<style>${assets.uplotCss}</style>
<style>${PAGE_CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(model.title)}</h1>
${model.summary.map((s) => `<p>${escapeHtml(s)}</p>`).join('\n')}
<p id="chart-error" role="alert" hidden></p>
</header>
${renderNav(model)}
<main>
${comparisons}
${model.runs.map((r, i) => renderRun(r, i, model.axes)).join('\n')}
</main>
<script id="report-data" type="application/json">${jsonForScript(chartData(model))}</script>
<script>${assets.uplotJs}</script>
<script>${assets.clientJs}</script>
</body>
</html>
`;
}
