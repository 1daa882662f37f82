// junit.xml: one test case per gate (a CI system shows each as passed or failed, with the numbers
// in the failure message), then one per invariant of each run, and one per run for "completed
// cleanly". A breach or regression is a <failure>; a rule the record could not answer an <error>;
// an inconclusive comparison is <skipped> with its reason (a warning, not a failure).
import type { GateResult } from './gate/result.ts';
import type { RunRecord } from './record/schema.ts';
import { gatesOf } from './record/verdict.ts';

export interface JunitInput {
  readonly records: readonly RunRecord[];
  readonly gates?: readonly GateResult[];
}

/** Characters XML 1.0 forbids (control characters but tab, newline, carriage return; lone surrogates). */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function xmlEscape(s: string): string {
  return s.replace(FORBIDDEN, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const fmt = (x: number): string => (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(6))));

/** `observed=1234 max=1200 baseline=1000`: the numbers behind a verdict, in the failure message. */
export function numbersText(numbers: GateResult['numbers']): string {
  return Object.entries(numbers)
    .map(([k, v]) => `${k}=${v === null ? 'n/a' : fmt(v)}`)
    .join(' ');
}

interface Case {
  readonly classname: string;
  readonly name: string;
  readonly outcome?: { readonly tag: 'failure' | 'error' | 'skipped'; readonly type: string; readonly message: string; readonly body: string };
}

function gateCase(g: GateResult): Case {
  const nums = numbersText(g.numbers);
  const message = nums === '' ? g.message : `${g.message} (${nums})`;
  const base = { classname: 'raceday.gate', name: g.name };
  switch (g.verdict) {
    case 'pass':
      return base;
    case 'breach':
    case 'regression':
      return { ...base, outcome: { tag: 'failure', type: g.verdict, message, body: `${g.verdict.toUpperCase()}: ${message}` } };
    case 'error':
      return { ...base, outcome: { tag: 'error', type: 'error', message, body: message } };
    case 'inconclusive':
      return { ...base, outcome: { tag: 'skipped', type: 'inconclusive', message: `INCONCLUSIVE: ${message}`, body: '' } };
  }
}

function runCases(r: RunRecord, label: string): Case[] {
  const classname = `raceday.invariant.${r.scenario}.${r.backend}`.replace(/[^A-Za-z0-9_.-]/g, '_');
  const cases: Case[] = r.invariants.map((inv) => ({
    classname,
    name: `${label}${inv.name}`,
    ...(inv.ok ? {} : { outcome: { tag: 'failure' as const, type: 'invariant', message: `${inv.violations.length} violation(s): ${inv.violations.slice(0, 3).join('; ')}`, body: inv.violations.slice(0, 100).join('\n') } }),
  }));
  const clean = r.ok && r.errors.length === 0;
  cases.push({
    classname: `raceday.run.${r.scenario}.${r.backend}`.replace(/[^A-Za-z0-9_.-]/g, '_'),
    name: `${label}run completed cleanly`,
    ...(clean ? {} : { outcome: { tag: 'failure' as const, type: 'run', message: `ok=${r.ok}, ${r.errors.length} error(s)${r.errors.length > 0 ? `: ${r.errors.slice(0, 3).join('; ')}` : ''}`, body: r.errors.slice(0, 100).join('\n') } }),
  });
  return cases;
}

function suite(name: string, cases: readonly Case[], timestamp: string, seconds: number): string {
  const count = (tag: string) => cases.filter((c) => c.outcome?.tag === tag).length;
  const body = cases.map((c) => {
    const open = `    <testcase classname="${xmlEscape(c.classname)}" name="${xmlEscape(c.name)}" time="0"`;
    if (c.outcome === undefined) return `${open}/>`;
    const o = c.outcome;
    const inner = o.tag === 'skipped' ? `<skipped message="${xmlEscape(o.message)}"/>` : `<${o.tag} type="${xmlEscape(o.type)}" message="${xmlEscape(o.message)}">${xmlEscape(o.body)}</${o.tag}>`;
    return `${open}>\n      ${inner}\n    </testcase>`;
  });
  return [
    `  <testsuite name="${xmlEscape(name)}" tests="${cases.length}" failures="${count('failure')}" errors="${count('error')}" skipped="${count('skipped')}" timestamp="${xmlEscape(timestamp.replace(/\.\d+Z$/, ''))}" time="${seconds.toFixed(3)}">`,
    ...body,
    '  </testsuite>',
  ].join('\n');
}

export function renderJunit(i: JunitInput): string {
  const first = i.records[0];
  if (first === undefined) throw new Error('invariant violated: junit.xml needs at least one run record');
  const gates = gatesOf(i.records, i.gates);
  const suites: { name: string; cases: Case[]; timestamp: string; seconds: number }[] = [];
  if (gates.length > 0) suites.push({ name: 'raceday gates', cases: gates.map(gateCase), timestamp: first.startedAt, seconds: 0 });
  i.records.forEach((r, k) => {
    const label = i.records.length > 1 ? `run ${k + 1}: ` : '';
    suites.push({ name: `raceday ${r.command} ${r.scenario} on ${r.backend}${i.records.length > 1 ? ` (run ${k + 1})` : ''}`, cases: runCases(r, label), timestamp: r.startedAt, seconds: r.wallMs / 1000 });
  });
  const all = suites.flatMap((s) => s.cases);
  const count = (tag: string) => all.filter((c) => c.outcome?.tag === tag).length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="raceday" tests="${all.length}" failures="${count('failure')}" errors="${count('error')}" skipped="${count('skipped')}">`,
    ...suites.map((s) => suite(s.name, s.cases, s.timestamp, s.seconds)),
    '</testsuites>',
    '',
  ].join('\n');
}
