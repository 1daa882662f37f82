// The variant tables of report.html: each variant's headline figures (makespan, notify latency),
// and every figure's shift against a reference with its 95% interval, computed from the variants'
// samples by the same statistics the gate uses (reports/gate/stats.ts): Hodges-Lehmann shift with
// its distribution-free interval, Mann-Whitney p, Holm across the figures of one comparison.
import { compareSamples, holm, median } from '../gate/stats.ts';
import type { RunRecord } from '../record/schema.ts';
import type { Cell, Comparison, Table } from './model.ts';

/** One side of a comparison: a variant's samples, or a single run's figures as one sample. */
export interface SampleSet {
  readonly label: string;
  readonly variant: string | undefined;
  readonly settings: string;
  readonly fromBaseline: boolean;
  readonly figures: ReadonlyMap<string, readonly number[]>;
}

/** At most this many figures are compared (the headline ones first); the rest stay in each run's figures table. */
export const COMPARED_FIGURES_MAX = 24;

const HEADLINE = [/^makespanMs$/, /^notifyMakespanMs$/, /^notify.*Ms$/, /makespan/i, /notify/i];

function rankOf(name: string): number {
  const i = HEADLINE.findIndex((re) => re.test(name));
  return i === -1 ? HEADLINE.length : i;
}

export function orderFigures(names: Iterable<string>): string[] {
  return [...new Set(names)].sort((a, b) => rankOf(a) - rankOf(b) || a.localeCompare(b));
}

const settingsText = (settings: Readonly<Record<string, string | number | boolean>>): string =>
  Object.entries(settings)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');

export function sampleSets(record: RunRecord, runLabel: string, fromBaseline: boolean, prefix: boolean): SampleSet[] {
  if (record.variants.length === 0) {
    const figures = new Map(Object.entries(record.figures).map(([k, v]) => [k, [v]] as const));
    return [{ label: runLabel, variant: undefined, settings: '', fromBaseline, figures }];
  }
  return record.variants.map((v) => {
    const figures = new Map<string, number[]>();
    for (const s of v.samples) {
      for (const [k, value] of Object.entries(s.figures)) figures.set(k, [...(figures.get(k) ?? []), value]);
    }
    return { label: prefix ? `${runLabel} / ${v.name}` : v.name, variant: v.name, settings: settingsText(v.settings), fromBaseline, figures };
  });
}

const pct = (x: number | null): Cell => (x === null ? null : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`);
const num = (x: number | null): Cell => (x === null ? null : Math.round(x * 1000) / 1000);
/** p-values below 0.001 say so instead of rounding to a misleading 0. */
const pValue = (p: number | null): Cell => (p === null ? null : p < 0.001 ? '< 0.001' : Math.round(p * 1000) / 1000);
const interval = (low: number | null, high: number | null, f: (x: number | null) => Cell): Cell => (low === null || high === null ? 'too few samples' : `${String(f(low))} … ${String(f(high))}`);

/** The variants and each one's median of the headline figures. */
function variantTable(sets: readonly SampleSet[]): Table {
  const all = orderFigures(sets.flatMap((s) => [...s.figures.keys()]));
  const headline = all.filter((f) => rankOf(f) < HEADLINE.length).slice(0, 4);
  const shown = headline.length > 0 ? headline : all.slice(0, 4);
  const rows = sets.map((s) => {
    const n = Math.max(0, ...[...s.figures.values()].map((v) => v.length));
    return [s.label, s.settings === '' ? '–' : s.settings, n, ...shown.map((f) => { const xs = s.figures.get(f) ?? []; return xs.length === 0 ? null : num(median(xs)); })];
  });
  return { caption: 'Each variant: samples and the median of its headline figures', columns: ['variant', 'settings', 'samples', ...shown.map((f) => `${f} (median)`)], rows };
}

/** Which set B is compared against: the baseline's variant of the same name, else the reference set. */
function referenceFor(b: SampleSet, baseline: readonly SampleSet[], first: SampleSet): SampleSet {
  if (baseline.length === 0) return first;
  return baseline.find((a) => a.variant !== undefined && a.variant === b.variant) ?? (baseline[0] as SampleSet);
}

/** Every sample of both sides holds the same value: nothing to test, and testing it would only weaken Holm's correction. */
function constantAndEqual(a: readonly number[], b: readonly number[]): boolean {
  const v = a[0];
  return a.every((x) => x === v) && b.every((x) => x === v);
}

interface PairDeltas {
  readonly rows: Cell[][];
  /** Figures equal in every sample on both sides, left out of the table and of the correction. */
  readonly unchanged: string[];
}

function deltaRows(a: SampleSet, b: SampleSet): PairDeltas {
  const both = orderFigures([...b.figures.keys()].filter((f) => (a.figures.get(f) ?? []).length > 0 && (b.figures.get(f) ?? []).length > 0));
  const unchanged = both.filter((f) => constantAndEqual(a.figures.get(f) as number[], b.figures.get(f) as number[]));
  const figures = both.filter((f) => !unchanged.includes(f)).slice(0, COMPARED_FIGURES_MAX);
  const results = figures.map((f) => compareSamples(a.figures.get(f) as number[], b.figures.get(f) as number[]));
  const adjusted = holm(results.map((r) => r.test.p));
  const rows = results.map((r, i) => [
    figures[i] as string,
    b.label,
    a.label,
    `${r.nB} / ${r.nA}`,
    num(r.medianB),
    num(r.medianA),
    num(r.hl.shift),
    interval(r.hl.low, r.hl.high, num),
    pct(r.relShift),
    // Relative figures need a non-zero median of A; an interval needs enough samples.
    r.relShift === null ? '– (median A is 0)' : interval(r.relLow, r.relHigh, pct),
    pValue(r.test.p),
    pValue(adjusted[i] ?? null),
  ]);
  return { rows, unchanged };
}

/** The comparisons section: the variant table, then each set's deltas against its reference. */
export function comparisons(records: readonly RunRecord[], labels: readonly string[], baseline: RunRecord | undefined, baselineLabel: string): Comparison[] {
  const prefix = records.length > 1;
  const sets = records.flatMap((r, i) => sampleSets(r, labels[i] as string, false, prefix));
  const base = baseline === undefined ? [] : sampleSets(baseline, baselineLabel, true, true);
  if (sets.length + base.length <= 1) return [];
  const out: Comparison[] = [{ title: 'Variants', method: 'Every variant (and run) in this report, with the median of its samples of the headline figures.', table: variantTable([...base, ...sets]) }];
  const first = sets[0] as SampleSet;
  const candidates = base.length === 0 ? sets.slice(1) : sets;
  const pairs = candidates.map((b) => ({ b, a: referenceFor(b, base, first) })).map((p) => ({ ...p, d: deltaRows(p.a, p.b) }));
  const rows = pairs.flatMap((p) => p.d.rows);
  if (rows.length === 0 && pairs.every((p) => p.d.unchanged.length === 0)) return out;
  const unchanged = pairs.filter((p) => p.d.unchanged.length > 0).map((p) => `${p.b.label} against ${p.a.label}: ${p.d.unchanged.join(', ')}`);
  const unchangedNote = unchanged.length === 0 ? '' : ` Figures equal in every sample on both sides are not tested (nor counted in the correction): ${unchanged.join('; ')}.`;
  const against = base.length === 0 ? `the first variant, ${first.label}` : `the baseline (${baselineLabel}), variant by variant where the names match`;
  out.push({
    title: 'Deltas and their 95% intervals',
    method: `Each figure of each variant (B) against ${against} (A): shift is the Hodges–Lehmann estimate of B − A with its distribution-free 95% interval, also relative to A's median; p is the two-sided Mann–Whitney U test, Holm-adjusted across the figures of one pair. A single run counts as one sample, which gives a shift but no interval; wall-clock figures need repeats (at least 8 a side) to be judged.${unchangedNote}`,
    table: {
      caption: 'Deltas (B − A) per figure',
      columns: ['figure', 'B', 'A', 'samples B / A', 'median B', 'median A', 'shift', '95% interval', 'relative shift', 'relative interval', 'p', 'p (Holm)'],
      rows,
    },
  });
  return out;
}
