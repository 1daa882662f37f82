// summary.md: what a person reads first, sized for a CI step summary (GitHub refuses one over
// 1 MiB per step and shows 256 KiB best; we stay under 256 KB). The verdict and the delta table
// come first, so truncation, when a record is huge, only ever cuts the detail at the end, and the
// cut is said in the text.
import type { GateResult } from './gate/result.ts';
import { stagePercentiles } from './record/histograms.ts';
import { parseReliability } from './record/reliability.ts';
import type { RunRecord } from './record/schema.ts';
import { gatesOf, isFailure, verdictOf } from './record/verdict.ts';

/** The hard cap of summary.md, bytes (UTF-8): under a CI step summary's 256 KB. */
export const SUMMARY_MAX_BYTES = 250_000;
/** Rows one table shows before it says how many more metrics.json holds. */
export const SUMMARY_ROWS_MAX = 300;
/** Characters of one cell (a long violation message, a configuration value). */
const CELL_MAX = 300;

export interface SummaryInput {
  readonly records: readonly RunRecord[];
  readonly baseline?: RunRecord;
  /** Gate results of a gate that just ran; by default those stored in the records. */
  readonly gates?: readonly GateResult[];
}

const fmt = (x: number | undefined | null): string => {
  if (x === undefined || x === null || !Number.isFinite(x)) return '-';
  if (Number.isInteger(x)) return x.toLocaleString('en-US');
  return Math.abs(x) >= 100 ? x.toLocaleString('en-US', { maximumFractionDigits: 1 }) : String(Number(x.toPrecision(4)));
};

export function deltaText(value: number | undefined, base: number | undefined): string {
  if (value === undefined || base === undefined) return '-';
  if (value === base) return '0';
  if (base === 0) return `${value > base ? '+' : ''}${fmt(value - base)}`;
  const pct = ((value - base) / Math.abs(base)) * 100;
  return `${pct > 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

/** A markdown table cell: pipes escaped, one line, bounded. */
const cell = (s: string): string => {
  const one = s.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
  return one.length > CELL_MAX ? `${one.slice(0, CELL_MAX - 1)}…` : one;
};

/** A table; `align` is one letter per column, `r` right-aligned (numbers), `l` left (default). */
function table(head: readonly string[], rows: readonly (readonly string[])[], what: string, align = ''): string[] {
  const shown = rows.slice(0, SUMMARY_ROWS_MAX);
  const out = [`| ${head.map(cell).join(' | ')} |`, `|${head.map((_, i) => (align[i] === 'r' ? ' ---: ' : ' --- ')).join('|')}|`, ...shown.map((r) => `| ${r.map(cell).join(' | ')} |`)];
  if (rows.length > shown.length) out.push('', `_${rows.length - shown.length} more ${what} not shown (the record holds them all)._`);
  return out;
}

const runName = (r: RunRecord, i: number): string => `run ${i + 1} (${r.scenario}, ${r.backend})`;

/** Figures of the runs, the baseline's first: the run's own figures, then the stage percentiles. */
function deltaSection(i: SummaryInput): string[] {
  const reference = i.baseline ?? (i.records.length > 1 ? i.records[0] : undefined);
  const compared = i.baseline === undefined && i.records.length > 1 ? i.records.slice(1) : i.records;
  const names = [...new Set([...(reference === undefined ? [] : Object.keys(reference.figures)), ...i.records.flatMap((r) => Object.keys(r.figures))])];
  const isStage = (n: string): boolean => /\.(p50Ms|p90Ms|p99Ms|p999Ms|maxMs|count)$/.test(n);
  names.sort((a, b) => Number(isStage(a)) - Number(isStage(b)));
  if (names.length === 0) return ['_The records hold no figures._'];
  if (reference === undefined) {
    const r = i.records[0] as RunRecord;
    return table(['figure', 'value'], names.map((n) => [n, fmt(r.figures[n])]), 'figures', 'lr');
  }
  const refName = i.baseline !== undefined ? 'baseline' : runName(reference, 0);
  const head = ['figure', refName, ...compared.flatMap((r) => [runName(r, i.records.indexOf(r)), 'delta'])];
  const rows = names.map((n) => [n, fmt(reference.figures[n]), ...compared.flatMap((r) => [fmt(r.figures[n]), deltaText(r.figures[n], reference.figures[n])])]);
  return table(head, rows, 'figures', `l${'r'.repeat(head.length - 1)}`);
}

function gateSection(gates: readonly GateResult[]): string[] {
  if (gates.length === 0) return [];
  const order = (g: GateResult): number => (isFailure(g.verdict) ? 0 : g.verdict === 'inconclusive' ? 1 : 2);
  const rows = [...gates].sort((a, b) => order(a) - order(b)).map((g) => [g.name, g.verdict.toUpperCase(), g.message]);
  return ['', '## Gates', '', ...table(['gate', 'verdict', 'why'], rows, 'gates')];
}

const median = (xs: readonly number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function variantSection(records: readonly RunRecord[]): string[] {
  const variants = records.flatMap((r) => r.variants);
  if (variants.length === 0) return [];
  const figureNames = [...new Set(variants.flatMap((v) => v.samples.flatMap((s) => Object.keys(s.figures))))].slice(0, 6);
  const first = variants[0];
  const med = (v: (typeof variants)[number], n: string) => median(v.samples.map((s) => s.figures[n]).filter((x): x is number => x !== undefined));
  const rows = variants.map((v) => [
    v.name,
    Object.entries(v.settings).map(([k, x]) => `${k}=${x}`).join(' '),
    String(v.samples.length),
    ...figureNames.map((n) => `${fmt(med(v, n))}${v === first ? '' : ` (${deltaText(med(v, n), first === undefined ? undefined : med(first, n))})`}`),
  ]);
  return ['', '## Variants (median of the samples; delta against the first variant)', '', ...table(['variant', 'settings', 'samples', ...figureNames], rows, 'variants', `llr${'r'.repeat(figureNames.length)}`)];
}

function stageSection(records: readonly RunRecord[]): string[] {
  const rows = records.flatMap((r, i) =>
    r.stages.map((st) => {
      const p = stagePercentiles(st);
      return [`${records.length > 1 ? `${runName(r, i)}: ` : ''}${st.name}`, fmt(p.p50), fmt(p.p90), fmt(p.p99), fmt(p['p99.9']), fmt(p.max), fmt(p.count)];
    }),
  );
  if (rows.length === 0) return [];
  return ['', '## Latency by stage (ms)', '', ...table(['stage', 'p50', 'p90', 'p99', 'p99.9', 'max', 'count'], rows, 'stages', 'lrrrrrr')];
}

function invariantSection(records: readonly RunRecord[]): string[] {
  const rows = records.flatMap((r, i) => r.invariants.map((inv) => [`${records.length > 1 ? `${runName(r, i)}: ` : ''}${inv.name}`, inv.ok ? 'ok' : 'FAIL', inv.violations.slice(0, 3).join('; ') + (inv.violations.length > 3 ? ` (+${inv.violations.length - 3} more)` : '')]));
  if (rows.length === 0) return [];
  rows.sort((a, b) => Number(a[1] === 'ok') - Number(b[1] === 'ok'));
  return ['', '## Invariants', '', ...table(['invariant', 'result', 'violations'], rows, 'invariants')];
}

function runSection(records: readonly RunRecord[], baseline: RunRecord | undefined): string[] {
  const all = baseline === undefined ? records.map((r, i) => [runName(r, i), r] as const) : [...records.map((r, i) => [runName(r, i), r] as const), ['baseline', baseline] as const];
  const rows = all.map(([name, r]) => {
    const e = r.environment;
    const load = `${e.loadAverage.start.map((x) => x.toFixed(2)).join(' ')} -> ${e.loadAverage.end.map((x) => x.toFixed(2)).join(' ')}`;
    return [name, r.runId, `raceday ${r.command} ${r.argv.join(' ')}`.trim(), r.seed === null ? '-' : String(r.seed), `${(r.wallMs / 1000).toFixed(2)} s (${r.clock})`, `${e.cpuCount} x ${e.cpuModel}; node ${e.node}; ${e.os}${Object.keys(e.emulators).length === 0 ? '' : `; ${Object.entries(e.emulators).map(([k, v]) => `${k} ${v}`).join(', ')}`}`, load];
  });
  return ['', '## Runs', '', ...table(['run', 'id', 'command', 'seed', 'wall', 'machine', 'load average'], rows, 'runs')];
}

/** A chaos run's reliability section: faults by kind, exactly once per seed, dead letters, recovery, soak drift. */
function reliabilitySection(records: readonly RunRecord[]): string[] {
  const out: string[] = [];
  for (const [i, rec] of records.entries()) {
    if (rec.reliability === undefined || rec.reliability === null) continue;
    const head = `## Reliability${records.length > 1 ? ` (${runName(rec, i)})` : ''}`;
    const parsed = parseReliability(rec.reliability);
    if (!parsed.ok) {
      out.push('', head, '', `_The reliability section could not be read: ${cell(parsed.message)}._`);
      continue;
    }
    const r = parsed.value;
    const t = r.totals;
    const kinds = Object.entries(t.faultsByKind).map(([k, n]) => `${k} ${fmt(n)}`).join(', ');
    const dead = Object.entries(t.deadLettered).map(([k, n]) => `${k} ${fmt(n)}`).join(', ');
    out.push('', head, '');
    if (r.runs.length > 0) {
      out.push(
        `**${t.ok ? 'OK' : 'FAILED'}**: ${fmt(t.runs)} run${t.runs === 1 ? '' : 's'}, ${fmt(t.faults)} faults injected (${kinds === '' ? 'none' : kinds}); ${fmt(t.lost)} lost, ${fmt(t.doubled)} doubled, ${fmt(t.notificationsLostAfterRecovery)} notifications lost after recovery; dead letters: ${dead === '' ? 'none' : dead}; recovery p50 ${fmt(t.recoveryMs.p50)} ms, max ${fmt(t.recoveryMs.max)} ms.`,
        '',
        ...table(
          ['run', 'faults', 'tickets', 'settled exactly once', 'lost', 'doubled', 'notifications lost', 'notifications duplicated', 're-driven races / users', 'recovery p50 / max (ms)', 'verdict'],
          r.runs.map((x) => [`seed ${x.seed}`, fmt(x.faults.length), fmt(x.tickets), fmt(x.settledExactlyOnce), fmt(x.lost), fmt(x.doubled), fmt(x.notificationsLostAfterRecovery), fmt(x.notificationsDuplicatedAfterRecovery), x.redriven === undefined ? '-' : `${fmt(x.redriven.races)} / ${fmt(x.redriven.users)}`, `${fmt(x.recoveryMs.p50)} / ${fmt(x.recoveryMs.max)}`, x.ok ? 'ok' : 'FAIL']),
          'runs',
          'lrrrrrrrrl',
        ),
      );
    }
    if (r.soak !== undefined) {
      out.push('', `Soak of ${fmt(r.soak.minutes)} minutes (${fmt(r.soak.days)} day${r.soak.days === 1 ? '' : 's'} replayed): **${r.soak.verdict}**.`, '');
      out.push(...table(['metric', 'slope per minute', '95% interval', 'threshold', 'verdict'], r.soak.drift.map((d) => [d.metric, `${fmt(d.slopePerMin)} ${d.unit}/min`, `${fmt(d.lowPerMin)} … ${fmt(d.highPerMin)}`, `${fmt(d.thresholdPerMin)} ${d.unit}/min`, d.verdict]), 'metrics', 'lrrrl'));
    }
  }
  return out;
}

function errorSection(records: readonly RunRecord[]): string[] {
  const errors = records.flatMap((r) => r.errors);
  if (errors.length === 0) return [];
  return ['', `## Errors (${errors.length})`, '', ...errors.slice(0, 20).map((e) => `- ${cell(e)}`), ...(errors.length > 20 ? [`- _${errors.length - 20} more in the record_`] : [])];
}

/** Cuts text to at most `max` UTF-8 bytes at a line boundary, saying so at the end. */
export function capBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  const note = (cut: number) => `\n\n_summary.md truncated here: ${cut.toLocaleString('en-US')} more bytes did not fit the ${max.toLocaleString('en-US')}-byte cap of a CI step summary; metrics.json and report.html hold everything._\n`;
  const budget = max - Buffer.byteLength(note(Number.MAX_SAFE_INTEGER));
  let kept = Buffer.from(text).subarray(0, budget).toString('utf8');
  // The byte cut may split a character (decoded as U+FFFD) or a line: back up to a whole line.
  kept = kept.slice(0, Math.max(0, kept.lastIndexOf('\n')));
  return `${kept}${note(Buffer.byteLength(text) - Buffer.byteLength(kept))}`;
}

export function renderSummary(i: SummaryInput): string {
  if (i.records.length === 0) throw new Error('invariant violated: a summary needs at least one run record');
  const gates = gatesOf(i.records, i.gates);
  const v = verdictOf(i.records, gates);
  const hasFigures = [i.baseline, ...i.records].some((r) => r !== undefined && Object.keys(r.figures).length > 0) || i.records.every((r) => r.variants.length === 0);
  const first = i.records[0] as RunRecord;
  const title = `# ${v.verdict}: raceday ${first.command} ${first.scenario} on ${first.backend}${i.records.length > 1 ? ` (+${i.records.length - 1} more runs)` : ''}`;
  const lines = [
    title,
    '',
    `**${v.verdict}**: ${v.reasons.join(', ')}.${i.baseline === undefined ? '' : ` Compared with baseline ${i.baseline.runId}.`}`,
    '',
    // The delta table first: the figures' (against the baseline or the first run), or, for a run
    // of design variants without figures of its own, the variants' (against the first variant).
    ...(hasFigures ? ['## Figures', '', ...deltaSection(i)] : variantSection(i.records).slice(1)),
    ...gateSection(gates),
    ...(hasFigures ? variantSection(i.records) : []),
    ...stageSection(i.records),
    ...invariantSection(i.records),
    ...reliabilitySection(i.records),
    ...errorSection(i.records),
    ...runSection(i.records, i.baseline),
    '',
  ];
  return capBytes(lines.join('\n'), SUMMARY_MAX_BYTES);
}
