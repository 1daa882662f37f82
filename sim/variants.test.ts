// Design variants: the settings a variant may change are parsed strictly, and `raceday run
// --variant ... --repeat K --out DIR` writes one valid run record whose samples ran interleaved
// (A B B A ...), each variant with its own settings and figures.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { capture } from '../cli/_fixtures/capture.ts';
import { command as run } from '../cli/commands/run.ts';
import { parseRunRecord } from '../reports/record/schema.ts';
import { parseVariant } from './variants.ts';

afterEach(() => vi.restoreAllMocks());

describe('variant settings', () => {
  it('parses a name and key=value settings', () => {
    const r = parseVariant('batch=fanout=user-batch:50,workers=4,testSlowdown=0.25');
    expect(r.ok && r.value).toEqual({ name: 'batch', settings: { fanout: 'user-batch:50', workers: 4, testSlowdown: 0.25 }, parsed: { fanout: 'user-batch:50', workers: 4, testSlowdown: 0.25 } });
    const deadline = parseVariant('slow-acks=ackDeadlineMs=5000,settlePath=columns');
    expect(deadline.ok && deadline.value.parsed).toEqual({ ackDeadlineMs: 5000, settlePath: 'columns' });
    const empty = parseVariant('base=');
    expect(empty.ok && empty.value.settings).toEqual({});
  });

  it('refuses unknown settings, bad values and repeated keys with the reason', () => {
    const why = (t: string) => {
      const r = parseVariant(t);
      return r.ok ? 'accepted' : r.error.message;
    };
    expect(why('x=shards=4')).toMatch(/variant x: variant setting shards=4: unknown setting; the settings are fanout, notify, settlePath, workers, maxInFlight, ackDeadlineMs/);
    expect(why('x=workers=0')).toMatch(/workers=0: must be an integer within 1\.\.256/);
    expect(why('x=fanout=fast')).toMatch(/fan-out variant must be per-user, user-batch:N or single-worker/);
    expect(why('x=testSlowdown=-1')).toMatch(/must be a fraction within 0\.\.4/);
    expect(why('x=workers=2,workers=3')).toMatch(/setting workers given twice/);
    expect(why('x=toString=1')).toMatch(/unknown setting/);
    expect(why('=workers=2')).toMatch(/must start with a name/);
  });
});

describe('raceday run --variant', () => {
  it('runs every variant on the same seeded day, interleaved A B B A, into one run record', async () => {
    const out = mkdtempSync(join(tmpdir(), 'raceday-variants-'));
    const { code, err } = await capture(() => run.run(['--users', '60', '--variant', 'A=', '--variant', 'B=fanout=user-batch:7,testSlowdown=0.5', '--repeat', '2', '--out', out]));
    expect(code).toBe(0);
    expect(err).toContain('sample 4/4: A #1');
    const parsed = parseRunRecord(readFileSync(join(out, 'metrics.json'), 'utf8'));
    if (!parsed.ok) throw new Error(parsed.error.message);
    const record = parsed.value;
    expect(record.variants.map((v) => [v.name, v.samples.map((s) => [s.repeat, s.order])])).toEqual([
      ['A', [[0, 0], [1, 3]]],
      ['B', [[0, 1], [1, 2]]],
    ]);
    const [a, b] = record.variants;
    expect(a?.settings).toMatchObject({ fanout: 'per-user', testSlowdown: 0 });
    expect(b?.settings).toMatchObject({ fanout: 'user-batch:7', testSlowdown: 0.5 });
    // The same seeded day: every sample settles the same tickets; only B paid the test knob.
    const tickets = record.variants.flatMap((v) => v.samples.map((s) => s.figures['settledTickets']));
    expect(new Set(tickets).size).toBe(1);
    expect(a?.samples.every((s) => s.figures['testSlowdownMs'] === 0)).toBe(true);
    expect(b?.samples.every((s) => (s.figures['testSlowdownMs'] as number) > 0)).toBe(true);
    expect(record.invariants.length).toBeGreaterThan(0);
    expect(record.invariants.every((i) => i.ok)).toBe(true);
  }, 60_000);

  it('refuses --repeat and --out without --variant, and --variant on a replay', async () => {
    expect((await capture(() => run.run(['--repeat', '3']))).err).toMatch(/--repeat applies with --variant/);
    expect((await capture(() => run.run(['--scenario', 'typical-day', '--variant', 'A=']))).err).toMatch(/--variant applies to --scenario smoke only/);
    expect((await capture(() => run.run(['--variant', 'A=', '--variant', 'A=workers=2']))).err).toMatch(/the name "A" is given twice/);
    expect((await capture(() => run.run(['--variant', 'A=spannerShards=2']))).err).toMatch(/--variant A: spannerShards applies to the Spanner backends/);
  });
});
