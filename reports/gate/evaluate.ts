// Judges a run record against a rules file: deterministic rules figure by figure (against fixed
// bounds or a baseline record), statistical rules by comparing two variants' samples with Holm's
// correction across all statistical rules of the file. Returns one GateResult per rule, in order.
import type { GateRecord, RunRecord, VariantRecord } from '../record/schema.ts';
import { RECORD_STATUS, type GateResult } from './result.ts';
import { type ExactRule, type GateSettings, type InvariantsRule, type Rule, type Rules, type StatisticalRule, type ToleranceRule } from './rules.ts';
import { compareSamples, holm, type Comparison } from './stats.ts';

/** A figure by name, only from the object's own keys (a rule naming `constructor` finds nothing). */
const own = (o: Readonly<Record<string, number>>, key: string): number | undefined => (Object.hasOwn(o, key) ? o[key] : undefined);

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : x.toPrecision(6).replace(/\.?0+$/, ''));
const pct = (x: number | null): string => (x === null ? 'n/a' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`);

function result(name: string, verdict: GateResult['verdict'], numbers: GateResult['numbers'], message: string): GateResult {
  return { name, verdict, numbers, message };
}

function lookup(record: RunRecord, figure: string): number | undefined {
  return own(record.figures, figure) ?? own(record.counters, figure);
}

/** The values a deterministic rule checks: the record's figure, or that figure in every sample of a variant. */
function observed(record: RunRecord, r: ExactRule | ToleranceRule): { values: number[]; where: string } | string {
  if (r.variant === undefined) {
    const v = lookup(record, r.figure);
    return v === undefined ? `the run record has no figure or counter "${r.figure}"` : { values: [v], where: r.figure };
  }
  const variant = record.variants.find((x) => x.name === r.variant);
  if (variant === undefined) return `the run record has no variant "${r.variant}" (it has: ${record.variants.map((x) => x.name).join(', ') || 'none'})`;
  const values = variant.samples.map((s) => own(s.figures, r.figure));
  if (values.length === 0 || values.some((v) => v === undefined)) return `variant "${r.variant}" has samples without the figure "${r.figure}"`;
  return { values: values as number[], where: `${r.figure} of variant ${r.variant}` };
}

function baselineValue(baseline: RunRecord | undefined, r: ExactRule | ToleranceRule): number | string {
  if (baseline === undefined) return 'this rule compares to a baseline: give --baseline B.json';
  const figs = r.variant === undefined ? undefined : baseline.variants.find((x) => x.name === r.variant)?.samples[0]?.figures;
  const v = r.variant === undefined ? lookup(baseline, r.figure) : figs === undefined ? undefined : own(figs, r.figure);
  return v ?? `the baseline record has no figure "${r.figure}"${r.variant === undefined ? '' : ` in variant ${r.variant}`}`;
}

function judgeExact(record: RunRecord, baseline: RunRecord | undefined, r: ExactRule): GateResult {
  const o = observed(record, r);
  if (typeof o === 'string') return result(r.name, 'error', {}, o);
  const want = r.value ?? baselineValue(baseline, r);
  if (typeof want === 'string') return result(r.name, 'error', {}, want);
  const bad = o.values.find((v) => v !== want);
  const from = r.value === undefined ? 'the baseline' : 'the rule';
  if (bad === undefined) return result(r.name, 'pass', { observed: o.values[0] as number, expected: want }, `${o.where} = ${fmt(want)} as ${from} requires`);
  return result(r.name, 'breach', { observed: bad, expected: want }, `${o.where} is ${fmt(bad)}, ${from} requires exactly ${fmt(want)}`);
}

function judgeTolerance(record: RunRecord, baseline: RunRecord | undefined, r: ToleranceRule): GateResult {
  const o = observed(record, r);
  if (typeof o === 'string') return result(r.name, 'error', {}, o);
  let lo = r.min ?? -Infinity;
  let hi = r.max ?? Infinity;
  let base: number | null = null;
  if (r.maxIncrease !== undefined || r.maxDecrease !== undefined) {
    const b = baselineValue(baseline, r);
    if (typeof b === 'string') return result(r.name, 'error', {}, b);
    base = b;
    if (r.maxIncrease !== undefined) hi = Math.min(hi, b + Math.abs(b) * r.maxIncrease);
    if (r.maxDecrease !== undefined) lo = Math.max(lo, b - Math.abs(b) * r.maxDecrease);
  }
  const numbers = { min: Number.isFinite(lo) ? lo : null, max: Number.isFinite(hi) ? hi : null, baseline: base };
  const bounds = `${Number.isFinite(lo) ? fmt(lo) : '-inf'} .. ${Number.isFinite(hi) ? fmt(hi) : '+inf'}${base === null ? '' : ` (baseline ${fmt(base)})`}`;
  const bad = o.values.find((v) => v < lo || v > hi);
  if (bad === undefined) return result(r.name, 'pass', { observed: o.values[0] as number, ...numbers }, `${o.where} = ${fmt(o.values[0] as number)} within ${bounds}`);
  return result(r.name, 'breach', { observed: bad, ...numbers }, `${o.where} = ${fmt(bad)} is outside ${bounds}`);
}

function judgeInvariants(record: RunRecord, r: InvariantsRule): GateResult {
  const checked = r.only === undefined ? record.invariants : record.invariants.filter((i) => r.only?.includes(i.name));
  const missing = (r.only ?? []).filter((n) => !record.invariants.some((i) => i.name === n));
  if (missing.length > 0) return result(r.name, 'error', {}, `the run record has no invariant ${missing.map((m) => `"${m}"`).join(', ')}`);
  if (checked.length === 0) return result(r.name, 'error', {}, 'the run record holds no invariant results');
  const failed = checked.filter((i) => !i.ok);
  const numbers = { checked: checked.length, failed: failed.length };
  if (failed.length === 0) return result(r.name, 'pass', numbers, `all ${checked.length} invariants hold`);
  const first = failed[0];
  return result(r.name, 'breach', numbers, `${failed.length} of ${checked.length} invariants fail: ${failed.map((i) => i.name).join(', ')}${first?.violations[0] === undefined ? '' : ` (${first.violations[0]})`}`);
}

export interface StatisticalInput {
  readonly rule: StatisticalRule;
  readonly a: VariantRecord;
  readonly b: VariantRecord;
  readonly samplesA: number[];
  readonly samplesB: number[];
}

/** The two sides of a statistical rule, or why they cannot be read. */
export function sidesOf(record: RunRecord, r: StatisticalRule): StatisticalInput | string {
  const pick = (want: string | undefined, index: number): VariantRecord | string => {
    const v = want === undefined ? record.variants[index] : record.variants.find((x) => x.name === want);
    if (v !== undefined) return v;
    const have = record.variants.map((x) => x.name).join(', ') || 'none';
    return want === undefined ? `a statistical rule needs a record with two variants (it has: ${have}); run with --variant twice or use raceday gate --compare` : `the run record has no variant "${want}" (it has: ${have})`;
  };
  const a = pick(r.a, 0);
  if (typeof a === 'string') return a;
  const b = pick(r.b, 1);
  if (typeof b === 'string') return b;
  if (a.name === b.name) return `a statistical rule compares two different variants, got "${a.name}" twice`;
  const read = (v: VariantRecord): number[] | string => {
    const xs = v.samples.map((s) => own(s.figures, r.figure));
    return xs.some((x) => x === undefined) ? `variant "${v.name}" has samples without the figure "${r.figure}"` : (xs as number[]);
  };
  const samplesA = read(a);
  if (typeof samplesA === 'string') return samplesA;
  const samplesB = read(b);
  if (typeof samplesB === 'string') return samplesB;
  const interleaving = checkInterleaved(a, b);
  if (interleaving !== undefined) return interleaving;
  return { rule: r, a, b, samplesA, samplesB };
}

/**
 * Wall-clock samples compare fairly only when A and B took turns (ABBA): a machine that slows down
 * halfway would otherwise look like a regression. Refused when one side's samples all come first.
 */
function checkInterleaved(a: VariantRecord, b: VariantRecord): string | undefined {
  if (a.samples.length < 2 || b.samples.length < 2) return undefined;
  const lastA = Math.max(...a.samples.map((s) => s.order));
  const firstA = Math.min(...a.samples.map((s) => s.order));
  const lastB = Math.max(...b.samples.map((s) => s.order));
  const firstB = Math.min(...b.samples.map((s) => s.order));
  if (lastA < firstB || lastB < firstA) return `variants "${a.name}" and "${b.name}" were not interleaved (all of one ran before the other): wall-clock figures need ABBA order`;
  return undefined;
}

/** The statistical verdict of one comparison, given its Holm-adjusted p-value. */
export function judgeComparison(r: StatisticalRule, names: { a: string; b: string }, c: Comparison, pHolm: number, settings: GateSettings): GateResult {
  const threshold = r.threshold ?? settings.threshold;
  const lowerBetter = (r.better ?? 'lower') === 'lower';
  // The shift in the worse direction, relative to A's median (positive: B is worse).
  const worse = lowerBetter ? c.relShift : c.relShift === null ? null : -c.relShift;
  const worseLow = lowerBetter ? c.relLow : c.relHigh === null ? null : -c.relHigh;
  const worseHigh = lowerBetter ? c.relHigh : c.relLow === null ? null : -c.relLow;
  const numbers = {
    nA: c.nA,
    nB: c.nB,
    medianA: c.medianA,
    medianB: c.medianB,
    shift: c.hl.shift,
    ciLow: c.hl.low,
    ciHigh: c.hl.high,
    relShift: worse,
    relCiLow: worseLow,
    relCiHigh: worseHigh,
    pValue: c.test.p,
    pHolm,
    threshold,
  };
  const significant = pHolm < settings.alpha;
  const change = worse === null ? 'no relative change (A\'s median is 0)' : `${Math.abs(worse * 100).toFixed(1)}% ${worse >= 0 ? 'worse' : 'better'}`;
  const head = `${r.figure}: ${names.b} vs ${names.a} ${change} (95% CI ${pct(worseLow)} .. ${pct(worseHigh)}, positive is worse; medians ${fmt(c.medianA)} -> ${fmt(c.medianB)}), p ${fmt(c.test.p)} (Holm ${fmt(pHolm)}), n ${c.nA}/${c.nB}`;
  if (c.nA < settings.minSamples || c.nB < settings.minSamples) {
    return result(r.name, 'inconclusive', numbers, `${head}: at least ${settings.minSamples} samples a side are needed`);
  }
  if (worseLow === null || worseHigh === null) return result(r.name, 'inconclusive', numbers, `${head}: no interval (A's median is 0 or too few samples)`);
  if (significant && worseLow > threshold) return result(r.name, 'regression', numbers, `${head}: a regression past the ${pct(threshold)} threshold`);
  if (worseHigh <= threshold) return result(r.name, 'pass', numbers, `${head}: any regression is below the ${pct(threshold)} threshold`);
  return result(r.name, 'inconclusive', numbers, `${head}: the interval reaches past the ${pct(threshold)} threshold without a significant regression beyond it`);
}

/** Judges every rule; statistical rules share one Holm correction. */
export function evaluateGate(rules: Rules, record: RunRecord, baseline?: RunRecord): GateResult[] {
  const out: (GateResult | undefined)[] = rules.rules.map(() => undefined);
  const stats: { index: number; input: StatisticalInput; c: Comparison }[] = [];
  rules.rules.forEach((r: Rule, index) => {
    if (r.kind === 'exact') out[index] = judgeExact(record, baseline, r);
    else if (r.kind === 'tolerance') out[index] = judgeTolerance(record, baseline, r);
    else if (r.kind === 'invariants') out[index] = judgeInvariants(record, r);
    else {
      const input = sidesOf(record, r);
      if (typeof input === 'string') out[index] = result(r.name, 'error', {}, input);
      else stats.push({ index, input, c: compareSamples(input.samplesA, input.samplesB) });
    }
  });
  const adjusted = holm(stats.map((s) => s.c.test.p));
  stats.forEach((s, i) => {
    out[s.index] = judgeComparison(s.input.rule, { a: s.input.a.name, b: s.input.b.name }, s.c, adjusted[i] as number, rules.settings);
  });
  return out as GateResult[];
}

/** The run record's `gates` entries of a gate's results (null numbers are left out: the record holds finite numbers). */
export function gateRecordsOf(rules: Rules, results: readonly GateResult[]): GateRecord[] {
  return results.map((r, i) => {
    const rule = rules.rules[i];
    const values = Object.fromEntries(Object.entries(r.numbers).filter((e): e is [string, number] => e[1] !== null && Number.isFinite(e[1])));
    const metric = rule !== undefined && rule.kind !== 'invariants' ? rule.figure : undefined;
    return { name: r.name, status: RECORD_STATUS[r.verdict], ...(metric === undefined ? {} : { metric }), message: r.message, values };
  });
}
