import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLatencyHistogram, percentilesOf } from '../latency.ts';
import { stageHistogram, stagePercentiles, stageTimeline } from './histograms.ts';
import { mergeRecords, MergeError } from './merge.ts';
import { RunRecorder } from './recorder.ts';
import { decodeHistogram, encodeHistogram, parseRunRecord, type RunRecord } from './schema.ts';
import { readRunRecord, writeRunRecord } from './write.ts';

/** A recorder on a hand-driven clock, so intervals are exact. */
function recorder(intervalMs = 1000) {
  let t = 0;
  const r = new RunRecorder({ command: 'run', argv: ['--scenario', 'smoke'], scenario: 'smoke', backend: 'memory', seed: 7, intervalMs, now: () => t, configuration: { users: 10 } });
  r.start();
  return { r, at: (ms: number) => void (t = ms) };
}

function sampleRecord(): RunRecord {
  const { r, at } = recorder();
  r.describeStage('settle', 'result published -> settlement committed');
  for (let i = 0; i < 50; i++) r.recordLatency('settle', 1 + i * 0.5, i * 100);
  r.recordLatency('notify', 12.5, 250);
  r.defineSeries('backlog-settle', 'backlog', 'messages');
  r.point('backlog-settle', 40, 0);
  r.point('backlog-settle', 3, 1000);
  r.invariant({ name: 'exactly-once', ok: true, violations: [] });
  r.counters({ published: 10, nested: { acked: 9 } });
  r.figures({ makespanMs: 5000.25, settledTickets: 40 });
  r.sample('A', { fanout: 'per-user' }, { repeat: 0, figures: { makespanMs: 10 } });
  r.sample('B', { fanout: 'single-worker' }, { repeat: 0, figures: { makespanMs: 12 } });
  at(5000);
  return r.stop(true);
}

describe('run record schema', () => {
  it('a recorded record survives JSON and parses to the same value', () => {
    const rec = sampleRecord();
    const back = parseRunRecord(JSON.stringify(rec));
    expect(back.ok).toBe(true);
    if (back.ok) expect(back.value).toEqual(rec);
    expect(rec.counters).toEqual({ published: 10, 'nested.acked': 9 });
    expect(rec.variants.map((v) => [v.name, v.samples[0]?.order])).toEqual([['A', 0], ['B', 1]]);
    expect(rec.stages.find((s) => s.name === 'settle')?.intervals.map((i) => [i.startMs, i.endMs])).toEqual([[0, 1000], [1000, 2000], [2000, 3000], [3000, 4000], [4000, 5000]]);
    expect(rec.figures['settle.count']).toBe(50);
    expect(rec.figures['notify.p50Ms']).toBeCloseTo(12.5, 1);
  });

  it('writes and reads back through a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'raceday-record-'));
    const rec = sampleRecord();
    await writeRunRecord(join(dir, 'sub', 'metrics.json'), rec);
    const back = await readRunRecord(join(dir, 'sub', 'metrics.json'));
    expect(back).toEqual({ ok: true, value: rec });
    const missing = await readRunRecord(join(dir, 'nope.json'));
    expect(missing.ok ? '' : missing.error.message).toMatch(/nope\.json: cannot read the run record \(ENOENT\)/);
  });

  const broken: [string, (r: Record<string, unknown> & RunRecord) => unknown, RegExp, string][] = [
    ['not JSON', () => '{"schemaVersion": 1,', /not JSON/, 'RECORD.NOT_JSON'],
    ['another version', (r) => ({ ...r, schemaVersion: 2 }), /^schemaVersion: .*version 1, got 2/, 'RECORD.SCHEMA_VERSION'],
    ['a missing field', (r) => ({ ...r, runId: undefined }), /^runId: /, 'RECORD.INVALID'],
    ['a wrong type deep down', (r) => ({ ...r, series: [{ ...r.series[0], points: [{ tMs: 'x', value: 1 }] }] }), /^series\[0\]\.points\[0\]\.tMs: /, 'RECORD.INVALID'],
    ['a non-kebab stage name', (r) => ({ ...r, stages: [{ ...r.stages[0], name: 'Settle Stage' }] }), /^stages\[0\]\.name: must be kebab-case/, 'RECORD.INVALID'],
    ['an interval ending before it starts', (r) => ({ ...r, stages: [{ ...r.stages[0], intervals: [{ startMs: 2000, endMs: 1000, histogram: r.stages[0]?.intervals[0]?.histogram }] }] }), /^stages\[0\]\.intervals\[0\]\.endMs: must be after startMs \(2000\), got 1000/, 'RECORD.INVALID'],
    ['overlapping intervals', (r) => ({ ...r, stages: [{ ...r.stages[0], intervals: [r.stages[0]?.intervals[1], r.stages[0]?.intervals[0]] }] }), /^stages\[0\]\.intervals\[1\]\.startMs: intervals must be in order/, 'RECORD.INVALID'],
    ['a histogram that is not one', (r) => ({ ...r, stages: [{ ...r.stages[0], intervals: [{ startMs: 0, endMs: 1000, histogram: 'hello' }] }] }), /^stages\[0\]\.intervals\[0\]\.histogram: must be an HDR histogram/, 'RECORD.INVALID'],
    ['a truncated histogram', (r) => ({ ...r, stages: [{ ...r.stages[0], intervals: [{ startMs: 0, endMs: 1000, histogram: 'HISTFAAAAB94nJNpmSzMwMDAyQABzFCaEUzOmQQhAAsfAF4=' }] }] }), /^stages\[0\]\.intervals\[0\]\.histogram: not a whole HDR histogram/, 'RECORD.HISTOGRAM'],
    ['a NaN figure', (r) => ({ ...r, figures: { makespanMs: Number.NaN } }), /^figures\.makespanMs: /, 'RECORD.INVALID'],
    ['an unknown series kind', (r) => ({ ...r, series: [{ ...r.series[0], kind: 'weird' }] }), /^series\[0\]\.kind: /, 'RECORD.INVALID'],
    ['a negative sample order', (r) => ({ ...r, variants: [{ ...r.variants[0], samples: [{ repeat: 0, order: -1, figures: {} }] }] }), /^variants\[0\]\.samples\[0\]\.order: /, 'RECORD.INVALID'],
  ];
  it.each(broken)('refuses %s, naming the field', (_what, breakIt, message, code) => {
    const r = parseRunRecord(breakIt(sampleRecord() as never));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.message).toMatch(message);
    }
  });
});

describe('RunRecorder', () => {
  it('keeps only a few intervals open and still gets every latency right, late ones included', () => {
    const { r, at } = recorder(10);
    const truth = createLatencyHistogram();
    // 200 intervals in order, then late latencies landing in long-closed intervals.
    for (let i = 0; i < 2000; i++) {
      r.recordLatency('e2e', (i % 97) + 1, i);
      truth.recordValue(((i % 97) + 1) * 1000);
    }
    for (const t of [5, 15, 1500]) {
      r.recordLatency('e2e', 300, t);
      truth.recordValue(300_000);
    }
    at(2000);
    const rec = r.stop(true);
    const stage = rec.stages[0];
    if (stage === undefined) throw new Error('no stage');
    expect(stage.intervals).toHaveLength(200);
    // Encoding keeps counts exactly; the maximum comes back as its bucket's highest value (HDR).
    expect(stagePercentiles(stage)).toEqual(percentilesOf(decodeHistogram(encodeHistogram(truth))));
    expect(stageTimeline(stage)[0]?.count).toBe(11);
  });
});

describe('mergeRecords', () => {
  it('merged histograms equal the histogram of the union of the latencies, interval by interval', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 5_999 }), fc.integer({ min: 1, max: 5_000_000 })), { maxLength: 60 }), { minLength: 1, maxLength: 4 }), (runs) => {
        const records = runs.map((latencies) => {
          const { r, at } = recorder();
          for (const [atMs, us] of latencies) r.recordLatency('settle', us / 1000, atMs);
          at(6000);
          return r.stop(true);
        });
        const merged = mergeRecords(records);
        const { r: union, at } = recorder();
        for (const [atMs, us] of runs.flat()) union.recordLatency('settle', us / 1000, atMs);
        at(6000);
        const expected = union.stop(true);
        const m = merged.stages.find((s) => s.name === 'settle');
        const e = expected.stages.find((s) => s.name === 'settle');
        expect(m?.intervals.map((i) => i.startMs)).toEqual(e?.intervals.map((i) => i.startMs));
        for (const [k, iv] of (m?.intervals ?? []).entries()) {
          expect(stageTimeline({ ...m!, intervals: [iv] })).toEqual(stageTimeline({ ...e!, intervals: [e!.intervals[k]!] }));
        }
        if (m !== undefined && e !== undefined) expect(stageHistogram(m).totalCount).toBe(runs.flat().length);
        expect(merged.figures['settle.p99Ms']).toBe(expected.figures['settle.p99Ms']);
      }),
      { numRuns: 20 },
    );
  });

  it('adds counters, takes the latest time figure, and keeps an invariant only where every part kept it', () => {
    const a = sampleRecord();
    const b = { ...sampleRecord(), ok: false, invariants: [{ name: 'exactly-once', ok: false, violations: ['ticket t1 paid twice'] }], figures: { makespanMs: 9000, settledTickets: 2 } };
    const m = mergeRecords([a, b]);
    expect(m.counters['published']).toBe(20);
    expect(m.figures['makespanMs']).toBe(9000);
    expect(m.figures['settledTickets']).toBe(42);
    expect(m.invariants).toEqual([{ name: 'exactly-once', ok: false, violations: ['ticket t1 paid twice'] }]);
    expect(m.ok).toBe(false);
    expect(m.configuration['mergedFrom']).toEqual([a.runId, b.runId]);
    expect(m.variants.find((v) => v.name === 'A')?.samples).toHaveLength(2);
    expect(parseRunRecord(m).ok).toBe(true);
  });

  it('refuses records whose intervals differ', () => {
    expect(() => mergeRecords([sampleRecord(), { ...sampleRecord(), intervalMs: 500 }])).toThrow(MergeError);
    expect(() => mergeRecords([])).toThrow(/at least one/);
  });
});

