// The outputs made from run records: summary.md leads with the verdict and the delta table and
// stays under the CI step-summary cap however big the record; junit.xml parses as XML with one
// test case per gate and the numbers in each failure; metrics.prom is valid OpenMetrics whose
// latency quantiles are the record's.
import { describe, expect, it } from 'vitest';
import type { GateResult } from './gate/result.ts';
import { renderJunit } from './junit.ts';
import { renderOpenMetrics } from './openmetrics.ts';
import { stagePercentiles } from './record/histograms.ts';
import { RunRecorder } from './record/recorder.ts';
import type { RunRecord } from './record/schema.ts';
import { capBytes, renderSummary, SUMMARY_MAX_BYTES } from './summary.ts';
import { checkOpenMetrics } from './_fixtures/openmetrics.ts';
import { parseXml, type XmlElement } from './_fixtures/xml.ts';

const HOSTILE = 'a "quoted" <tag> & \\back\\slash\nnew line | pipe \u0001';

function record(o: { makespanMs?: number; ok?: boolean; scale?: number } = {}): RunRecord {
  let t = 0;
  const r = new RunRecorder({ command: 'run', argv: ['--scenario', 'smoke'], scenario: 'smoke', backend: 'memory', seed: 3, now: () => t });
  r.start();
  for (let i = 0; i < 400; i++) r.recordLatency('settle', 5 + (i % 50), i * 10);
  r.defineSeries('backlog-settle', 'backlog', 'messages');
  for (let i = 0; i < 10; i++) r.point('backlog-settle', 100 - i * 10, i * 400);
  r.point(HOSTILE, 1, 0);
  r.invariant({ name: 'settled-exactly-once', ok: o.ok ?? true, violations: o.ok === false ? ['ticket t1 settled twice'] : [] });
  r.counters({ settlementsApplied: 400, odd: -1 });
  r.figures({ makespanMs: o.makespanMs ?? 1000, settledTickets: 900 });
  r.sample('A', { fanout: 'per-user' }, { repeat: 0, figures: { makespanMs: 10 } });
  r.sample('B', { fanout: HOSTILE }, { repeat: 0, figures: { makespanMs: 12 } });
  for (let i = 0; i < (o.scale ?? 0); i++) {
    r.figure(`figure-${i}-${'x'.repeat(40)}`, i);
    r.invariant({ name: `checker-${i}-${'n'.repeat(280)}`, ok: i % 2 === 0, violations: i % 2 === 0 ? [] : [`violation ${'ü'.repeat(200)}`] });
    r.error(`error ${i} ${'é'.repeat(100)}`);
    r.recordLatency(`stage-${i % 40}`, i, i);
  }
  t = 4000;
  return r.stop(o.ok ?? true);
}

const gates: GateResult[] = [
  { name: 'makespan within 10% of the baseline', verdict: 'breach', numbers: { observed: 1234.5, max: 1100, baseline: 1000 }, message: 'makespanMs = 1234.5 is outside -inf .. 1100 (baseline 1000)' },
  { name: 'settle p99 A vs B', verdict: 'regression', numbers: { shift: 0.25, ciLow: 0.18, ciHigh: 0.31, pHolm: 0.0004 }, message: 'B is 25% slower than A (95% interval 18%..31%)' },
  { name: 'notify p99', verdict: 'inconclusive', numbers: { n: 4, pValue: null }, message: 'too few samples: 4 a side, at least 8' },
  { name: 'invariants', verdict: 'pass', numbers: { checked: 7, failed: 0 }, message: 'all 7 invariants hold' },
  { name: HOSTILE, verdict: 'error', numbers: {}, message: `the run record has no figure "${HOSTILE}"` },
];

describe('summary.md', () => {
  it('leads with the verdict and the delta table against the baseline', () => {
    const text = renderSummary({ records: [record({ makespanMs: 1100 })], baseline: record() });
    const lines = text.split('\n');
    expect(lines[0]).toBe('# PASS: raceday run smoke on memory');
    expect(lines[2]).toMatch(/^\*\*PASS\*\*: every run completed and every invariant held\. Compared with baseline /);
    expect(lines.slice(4, 8)).toEqual(['## Figures', '', '| figure | baseline | run 1 (smoke, memory) | delta |', '| --- | ---: | ---: | ---: |']);
    expect(text).toContain('| makespanMs | 1,000 | 1,100 | +10.0% |');
    expect(text).toContain('| settledTickets | 900 | 900 | 0 |');
  });

  it('fails on a failed gate or invariant and lists the failures first', () => {
    const text = renderSummary({ records: [record({ ok: false })], gates });
    expect(text.split('\n')[0]).toBe('# FAIL: raceday run smoke on memory');
    expect(text).toContain('**FAIL**: 3 gates failed, 1 invariant failed, 1 gate inconclusive.');
    const gateRows = text.split('\n').filter((l) => /^\| .* \| (BREACH|REGRESSION|ERROR|INCONCLUSIVE|PASS) \|/.test(l));
    expect(gateRows.map((l) => /\| (BREACH|REGRESSION|ERROR|INCONCLUSIVE|PASS) \|/.exec(l)?.[1])).toEqual(['BREACH', 'REGRESSION', 'ERROR', 'INCONCLUSIVE', 'PASS']);
    // A hostile name cannot break the table: its pipe is escaped and its newline flattened.
    expect(text).toContain('a "quoted" <tag> & \\back\\slash new line \\| pipe');
  });

  it('for a run of design variants without figures of its own, the variants are the delta table', () => {
    const r = record();
    const lines = renderSummary({ records: [{ ...r, figures: {} }] }).split('\n');
    expect(lines[4]).toBe('## Variants (median of the samples; delta against the first variant)');
    expect(lines.find((l) => l.startsWith('| B |'))).toContain('| 12 (+20.0%) |');
  });

  it('stays under the cap for a huge record, and says where it was cut', () => {
    const huge = record({ scale: 6_000 });
    const text = renderSummary({ records: [huge, huge], baseline: huge });
    const bytes = Buffer.byteLength(text);
    expect(bytes).toBeLessThanOrEqual(SUMMARY_MAX_BYTES);
    expect(bytes).toBeLessThan(256 * 1024);
    expect(text.split('\n')[0]).toBe('# FAIL: raceday run smoke on memory (+1 more runs)');
    expect(text).toMatch(/more figures not shown \(the record holds them all\)/);
    expect(text).toMatch(/_summary\.md truncated here: [\d,]+ more bytes did not fit the 250,000-byte cap of a CI step summary/);
  });

  it('cuts at a line boundary without splitting a character', () => {
    const text = `${'ü'.repeat(30)}\n`.repeat(100);
    const cut = capBytes(text, 1_000);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1_000);
    expect(cut).not.toContain('\uFFFD');
    expect(cut.split('\n')[0]).toBe('ü'.repeat(30));
    expect(capBytes('short\n', 1_000)).toBe('short\n');
  });
});

const testcases = (root: XmlElement): XmlElement[] => root.children.flatMap((s) => s.children.filter((c) => c.name === 'testcase'));

describe('junit.xml', () => {
  it('is well-formed XML with one test case per gate and the numbers in each failure', () => {
    const xml = renderJunit({ records: [record({ ok: false })], gates });
    const root = parseXml(xml);
    expect(root.name).toBe('testsuites');
    const [gateSuite, runSuite] = root.children;
    expect(gateSuite?.attributes).toMatchObject({ name: 'raceday gates', tests: '5', failures: '2', errors: '1', skipped: '1' });
    expect(gateSuite?.children.map((c) => c.attributes['name'])).toEqual(gates.map((g) => g.name.replace('\u0001', '\uFFFD')));
    const breach = gateSuite?.children[0]?.children[0];
    expect(breach?.name).toBe('failure');
    expect(breach?.attributes['type']).toBe('breach');
    expect(breach?.attributes['message']).toBe('makespanMs = 1234.5 is outside -inf .. 1100 (baseline 1000) (observed=1234.5 max=1100 baseline=1000)');
    expect(gateSuite?.children[1]?.children[0]?.attributes['message']).toContain('shift=0.25 ciLow=0.18 ciHigh=0.31 pHolm=0.0004');
    expect(gateSuite?.children[2]?.children[0]?.name).toBe('skipped');
    expect(gateSuite?.children[2]?.children[0]?.attributes['message']).toContain('n=4 pValue=n/a');
    expect(gateSuite?.children[3]?.children).toEqual([]);
    expect(gateSuite?.children[4]?.children[0]?.name).toBe('error');
    const failedInvariant = runSuite?.children.find((c) => c.attributes['name'] === 'settled-exactly-once');
    expect(failedInvariant?.children[0]?.text).toBe('ticket t1 settled twice');
    expect(root.attributes).toMatchObject({ tests: String(testcases(root).length), failures: '4', errors: '1', skipped: '1' });
  });

  it('without gates holds the invariants and the run', () => {
    const root = parseXml(renderJunit({ records: [record(), record()] }));
    expect(testcases(root).map((c) => c.attributes['name'])).toEqual(['run 1: settled-exactly-once', 'run 1: run completed cleanly', 'run 2: settled-exactly-once', 'run 2: run completed cleanly']);
    expect(root.attributes['failures']).toBe('0');
  });

  it('the XML checker itself refuses what is not well-formed', () => {
    for (const bad of ['<a><b></a></b>', '<a x="1" x="2"/>', '<a>&nbsp;</a>', '<a>1 < 2</a>', '<a/><b/>', '<a>', '<a x=1/>']) expect(() => parseXml(bad), bad).toThrow();
  });
});

describe('metrics.prom', () => {
  it('is valid OpenMetrics, and its latency quantiles are those of the record', () => {
    const rec = record();
    const text = renderOpenMetrics({ records: [rec, record({ ok: false })], gates });
    const samples = checkOpenMetrics(text);
    const q = (quantile: string) => samples.find((s) => s.name === 'raceday_stage_latency_seconds' && s.labels['run_id'] === rec.runId && s.labels['quantile'] === quantile)?.value;
    const p = stagePercentiles(rec.stages[0] as RunRecord['stages'][number]);
    expect(q('0.5')).toBeCloseTo(p.p50 / 1000, 6);
    expect(q('0.99')).toBeCloseTo(p.p99 / 1000, 6);
    expect(samples.find((s) => s.name === 'raceday_stage_latency_seconds_count' && s.labels['run_id'] === rec.runId)?.value).toBe(400);
    expect(samples.filter((s) => s.name === 'raceday_run_ok').map((s) => s.value)).toEqual([1, 0]);
    expect(samples.find((s) => s.name === 'raceday_gate' && s.labels['gate'] === HOSTILE.replace('\u0001', '\u0001') && s.labels['raceday_gate'] === 'error')?.value).toBe(1);
    expect(samples.find((s) => s.name === 'raceday_variant_figure_median' && s.labels['variant'] === 'B')?.value).toBe(12);
    // A negative "counter" is left out rather than written as an invalid counter total.
    expect(samples.some((s) => s.labels['counter'] === 'odd')).toBe(false);
  });

  it('the OpenMetrics checker itself refuses broken text', () => {
    const good = renderOpenMetrics({ records: [record()] });
    expect(() => checkOpenMetrics(good)).not.toThrow();
    expect(() => checkOpenMetrics(good.replace('# EOF\n', ''))).toThrow(/# EOF/);
    expect(() => checkOpenMetrics(good.replace('# TYPE raceday_run_ok gauge\n', ''))).toThrow(/outside its family/);
    expect(() => checkOpenMetrics(good.replace(/# TYPE raceday_run_ok gauge\n# HELP [^\n]*\n/, ''))).toThrow(/does not belong/);
    expect(() => checkOpenMetrics(good.replace(/run_id="/, 'run_id="x\n'))).toThrow();
    expect(() => checkOpenMetrics(`${good.slice(0, -6)}\n# EOF\n`)).toThrow(/blank/);
  });
});
