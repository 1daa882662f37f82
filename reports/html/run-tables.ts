// The tables of one run in report.html: the per-stage breakdown (each stage's whole-run
// distribution), invariants, gates, errors, figures and counters, the optional sections later
// commands add (gateway, capacity plan, reliability), configuration and environment.
import { percentilesOf } from '../latency.ts';
import type { RunRecord } from '../record/schema.ts';
import type { Cell, Table } from './model.ts';
import type { StageLatency } from './timelines.ts';

/** Long values (argv, nested settings, violation lists) are cut to this many characters in a cell. */
export const CELL_CHARS_MAX = 400;
/** Violations listed per invariant; the rest are counted. */
export const VIOLATIONS_SHOWN_MAX = 5;
/** Rows of one flattened optional section. */
const FLATTENED_ROWS_MAX = 200;

const cut = (s: string): string => (s.length <= CELL_CHARS_MAX ? s : `${s.slice(0, CELL_CHARS_MAX)}… (${s.length} characters)`);

export function stageBreakdown(stages: readonly StageLatency[]): Table {
  const rows = stages.map(({ stage, merged }) => {
    const p = percentilesOf(merged);
    return [stage.name, p.count, p.count === 0 ? null : p.p50, p.count === 0 ? null : p.p90, p.count === 0 ? null : p.p99, p.count === 0 ? null : p['p99.9'], p.count === 0 ? null : p.max, stage.intervals.length, stage.description];
  });
  return { caption: 'Per-stage breakdown: latency over the whole run (ms)', columns: ['stage', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max', 'intervals', 'from → to'], rows };
}

export function invariantTable(record: RunRecord): Table {
  const rows = record.invariants.map((inv) => {
    const shown = inv.violations.slice(0, VIOLATIONS_SHOWN_MAX).join('; ');
    const more = inv.violations.length > VIOLATIONS_SHOWN_MAX ? ` (and ${inv.violations.length - VIOLATIONS_SHOWN_MAX} more)` : '';
    return [inv.name, inv.ok ? 'PASS' : 'FAIL', inv.violations.length, inv.violations.length === 0 ? '–' : cut(shown + more)];
  });
  const failed = record.invariants.filter((i) => !i.ok).length;
  return {
    caption: `Invariants: ${record.invariants.length === 0 ? 'none checked' : failed === 0 ? `all ${record.invariants.length} held` : `${failed} of ${record.invariants.length} failed`}`,
    columns: ['invariant', 'result', 'violations', 'first violations'],
    rows,
    rowClasses: record.invariants.map((i) => (i.ok ? 'pass' : 'fail')),
  };
}

export function gateTable(record: RunRecord): Table | undefined {
  if (record.gates.length === 0) return undefined;
  const cls = (s: string): string => (s === 'pass' ? 'pass' : s === 'inconclusive' ? 'warn' : 'fail');
  return {
    caption: 'Gates',
    columns: ['gate', 'status', 'figure', 'message'],
    rows: record.gates.map((g) => [g.name, g.status.toUpperCase(), g.metric ?? '–', cut(g.message)]),
    rowClasses: record.gates.map((g) => cls(g.status)),
  };
}

export function errorTable(record: RunRecord): Table | undefined {
  if (record.errors.length === 0) return undefined;
  return { caption: `Errors (${record.errors.length})`, columns: ['#', 'error'], rows: record.errors.slice(0, 50).map((e, i) => [String(i + 1), cut(e)]), rowClasses: record.errors.map(() => 'fail') };
}

function numberTable(caption: string, values: Readonly<Record<string, number>>): Table | undefined {
  const entries = Object.entries(values).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? undefined : { caption, columns: ['name', 'value'], rows: entries.map(([k, v]) => [k, v]) };
}

export const figureTable = (r: RunRecord): Table | undefined => numberTable('Figures', r.figures);
export const counterTable = (r: RunRecord): Table | undefined => numberTable('Counters', r.counters);

function valueText(v: unknown): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return cut(v);
  return cut(JSON.stringify(v));
}

/** Nested objects as dotted keys (`policy.queue.bytesMax`); arrays stay one cell. */
export function flatten(value: unknown, prefix = '', out: [string, Cell][] = []): [string, Cell][] {
  if (out.length >= FLATTENED_ROWS_MAX) return out;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, prefix === '' ? k : `${prefix}.${k}`, out);
    return out;
  }
  out.push([prefix === '' ? '(value)' : prefix, valueText(value)]);
  return out;
}

interface OptionalSection {
  readonly title: string;
  /** Top-level record fields holding the section (a later schema version, or a record built by hand). */
  readonly fields: readonly string[];
  /** Names of configuration settings, counters and figures that belong to the section (`gateway.x`, `gatewayP99Ms`). */
  readonly prefix: RegExp;
  /** Left out whole, named settings and figures too, when another part of the page draws its field. */
  readonly leaveOutWhenDrawn?: boolean;
}

/**
 * Sections later commands add (the gateway's runs, the capacity model, chaos runs), rendered only
 * when the record has something for them: a field of that name, or settings, counters or figures
 * named for it (`gateway.dropped`, `policy`, `capacity.nodes`...), which version 1 records carry.
 */
const OPTIONAL_SECTIONS: readonly OptionalSection[] = [
  { title: 'Gateway (delivery policy and deliveries)', fields: ['gateway'], prefix: /^(gateway|policy|deliveryPolicy)(?![a-z])/ },
  { title: 'Capacity plan', fields: ['capacity', 'capacityPlan'], prefix: /^capacity(?![a-z])/ },
  { title: 'Reliability', fields: ['reliability'], prefix: /^(reliability|chaos)(?![a-z])/, leaveOutWhenDrawn: true },
];

const named = (values: Readonly<Record<string, unknown>>, prefix: RegExp, label: string): [string, Cell][] =>
  flatten(Object.fromEntries(Object.entries(values).filter(([k]) => prefix.test(k)))).map(([k, v]) => [`${k} (${label})`, v]);

/** `drawn`: record fields another part of the page already shows in full (the capacity plan section), left out here. */
export function optionalTables(record: RunRecord, drawn: ReadonlySet<string> = new Set()): Table[] {
  const raw = record as unknown as Record<string, unknown>;
  const out: Table[] = [];
  for (const section of OPTIONAL_SECTIONS) {
    // A section drawn in full elsewhere (a chaos run's reliability) is left out whole: its named figures are in the figure table.
    if (section.leaveOutWhenDrawn === true && section.fields.some((f) => drawn.has(f))) continue;
    const rows: [string, Cell][] = [
      ...section.fields.flatMap((f) => (drawn.has(f) || raw[f] === undefined || raw[f] === null ? [] : flatten(raw[f], f))),
      ...named(record.configuration, section.prefix, 'setting'),
      ...named(record.counters, section.prefix, 'counter'),
      ...named(record.figures, section.prefix, 'figure'),
    ];
    if (rows.length > 0) out.push({ caption: section.title, columns: ['setting or figure', 'value'], rows, keyValue: true });
  }
  return out;
}

export function configurationTable(record: RunRecord): Table {
  const rows: [string, Cell][] = [
    ['command', record.command],
    ['arguments', cut(record.argv.join(' '))],
    ['scenario', record.scenario],
    ['backend', record.backend],
    ['seed', record.seed === null ? 'none' : String(record.seed)],
    ['clock', record.clock],
    ['interval (ms)', record.intervalMs],
    ...flatten(record.configuration),
  ];
  return { caption: 'Configuration', columns: ['setting', 'value'], rows, keyValue: true };
}

export function environmentTable(record: RunRecord): Table {
  const e = record.environment;
  const load = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(' / ');
  const emulators = Object.entries(e.emulators).map(([k, v]) => `${k} ${v}`).join(', ');
  const rows: [string, Cell][] = [
    ['run id', record.runId],
    ['started', record.startedAt],
    ['wall time (ms)', record.wallMs],
    ['CPU', `${e.cpuModel} × ${e.cpuCount}`],
    ['memory (GB)', Math.round(e.totalMemoryBytes / 1e7) / 100],
    ['Node', e.node],
    ['OS', `${e.os} (${e.arch})`],
    ['CI', e.ci ? 'yes' : 'no'],
    ['emulators', emulators === '' ? 'none' : emulators],
    ['load average at start (1 / 5 / 15 min)', load(e.loadAverage.start)],
    ['load average at end (1 / 5 / 15 min)', load(e.loadAverage.end)],
  ];
  return { caption: 'Environment', columns: ['what', 'value'], rows, keyValue: true };
}
