// Tables: every chart in report.html has one under it (a per-series summary, and the data itself
// in buckets inside a <details>), so the figures are readable by a screen reader, without
// JavaScript, and by copy and paste.
import { escapeHtml } from './escape.ts';
import type { Cell, Chart, Table } from './model.ts';

/** Rows in the bucketed data table under a chart: one hour at 1 s becomes 60 one-minute rows. */
export const CHART_TABLE_ROWS_MAX = 60;

export function formatCell(cell: Cell): string {
  if (cell === null) return '–';
  if (typeof cell === 'string') return cell;
  if (!Number.isFinite(cell)) return String(cell);
  if (Number.isInteger(cell)) return cell.toLocaleString('en-US');
  return cell.toLocaleString('en-US', { maximumFractionDigits: Math.abs(cell) >= 100 ? 1 : 3 });
}

export function renderTable(table: Table, className = ''): string {
  const head = table.columns.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('');
  const body = table.rows
    .map((row, i) => {
      const cls = table.rowClasses?.[i];
      const cells = row.map((cell, j) => (j === 0 ? `<th scope="row">${escapeHtml(formatCell(cell))}</th>` : `<td${typeof cell === 'number' ? ' class="num"' : ''}>${escapeHtml(formatCell(cell))}</td>`));
      return `<tr${cls === undefined ? '' : ` class="${escapeHtml(cls)}"`}>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<table${className === '' ? '' : ` class="${escapeHtml(className)}"`}><caption>${escapeHtml(table.caption)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

const present = (values: readonly (number | null)[]): number[] => values.filter((v): v is number => v !== null && Number.isFinite(v));

const round3 = (v: number): number => Math.round(v * 1000) / 1000;

/** Per series: the lowest, mean and highest value and the last one with data. */
export function chartSummary(chart: Chart): Table {
  const rows = chart.series.map((s) => {
    const vs = present(s.values);
    if (vs.length === 0) return [s.label, null, null, null, null, 0];
    const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
    return [s.label, Math.min(...vs), round3(mean), Math.max(...vs), vs[vs.length - 1] as number, vs.length];
  });
  return { caption: `${chart.title}: summary (${chart.unit})`, columns: ['series', 'min', 'mean', 'max', 'last', 'points'], rows };
}

function reduceBucket(values: readonly (number | null)[], from: number, to: number, how: Chart['reduce']): number | null {
  const vs = present(values.slice(from, to));
  if (vs.length === 0) return null;
  return how === 'max' ? Math.max(...vs) : round3(vs.reduce((a, b) => a + b, 0) / vs.length);
}

/** The chart's data in at most CHART_TABLE_ROWS_MAX buckets of consecutive points. */
export function chartBuckets(chart: Chart, xs: readonly number[]): Table {
  const size = Math.max(1, Math.ceil(xs.length / CHART_TABLE_ROWS_MAX));
  const rows: Cell[][] = [];
  for (let from = 0; from < xs.length; from += size) {
    const to = Math.min(xs.length, from + size);
    const span = size === 1 ? `${formatCell(xs[from] as number)}` : `${formatCell(xs[from] as number)}–${formatCell(xs[to - 1] as number)}`;
    rows.push([span, ...chart.series.map((s) => reduceBucket(s.values, from, to, chart.reduce))]);
  }
  const how = size === 1 ? 'one row per point' : `${chart.reduce === 'max' ? 'highest' : 'mean'} value per ${size} points`;
  return { caption: `${chart.title} (${chart.unit}), ${how}`, columns: [chart.xLabel ?? 'seconds', ...chart.series.map((s) => s.label)], rows };
}
