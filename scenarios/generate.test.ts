// Proves the JSON Lines output of a generated day: the same seed gives the same bytes and another
// seed different ones; every ticket names a valid combination of a bet type sold in its race's
// field, a live user and a stake in 100-yen units inside the betting window; records are in time
// order; each race's pools equal its cash stakes plus outside sales; the free-medal share is as
// configured. It generates a small multi-sport day with refunds and re-derives everything from the lines.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCombination } from '../core/combination.ts';
import { betTypesSold, type Sport } from '../core/sports.ts';
import { generateJsonl } from './generate.ts';
import { generateJsonlParallel } from './parallel.ts';
import { buildRaceDay } from './raceday.ts';
import { parseScenario } from './spec.ts';

const spec = parseScenario({
  name: 'mixed',
  users: 3000,
  tickets: 80_000,
  medalShare: 0.8,
  meetings: [{ sport: 'keirin', kind: 'daytime', races: 6 }, { sport: 'keirin', kind: 'midnight', races: 3 }, { sport: 'pist6', races: 3 }, { sport: 'autorace', races: 3 }],
  race: { scratchRate: 0.1, deadHeatRate: 0.2, fallRate: 0.05, voidRate: 0.1 },
  arrival: { windowMinutes: 45 },
});

function generate(seed: number): { bytes: Buffer; summary: ReturnType<typeof generateJsonl> } {
  const chunks: Buffer[] = [];
  const summary = generateJsonl(spec, seed, { sink: (b) => chunks.push(Buffer.from(b)) });
  return { bytes: Buffer.concat(chunks), summary };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
type Rec = Record<string, unknown> & { kind: string };

describe('generateJsonl', () => {
  const first = generate(7);
  const lines = first.bytes.toString('utf8').trimEnd().split('\n');
  const records = lines.map((l) => JSON.parse(l) as Rec);

  it('is byte-identical for the same seed and different for another seed', () => {
    expect(sha(generate(7).bytes)).toBe(sha(first.bytes));
    expect(sha(generate(8).bytes)).not.toBe(sha(first.bytes));
    expect(first.summary.bytes).toBe(first.bytes.length);
  });

  it('writes the same bytes with serializer worker threads as on one thread', async () => {
    for (const workers of [1, 3]) {
      for (const startWhenWorkersReady of [false, true]) {
        const chunks: Buffer[] = [];
        const placed = { worker: 0, main: 0 };
        const onJobPlaced = (onWorker: boolean) => void (onWorker ? placed.worker++ : placed.main++);
        const summary = await generateJsonlParallel(spec, 7, { sink: (b) => chunks.push(Buffer.from(b)), workers, startWhenWorkersReady, onJobPlaced });
        expect(sha(Buffer.concat(chunks))).toBe(sha(first.bytes));
        expect(summary.bytes).toBe(first.bytes.length);
        // Once the workers are up they take jobs (otherwise the main thread may serialize everything itself).
        if (startWhenWorkersReady) expect(placed.worker).toBeGreaterThan(0);
      }
    }
  });

  it('writes the record kinds in order, with counts that match the trailer and the summary', () => {
    expect(records[0]?.kind).toBe('scenario');
    expect(records.at(-1)).toEqual({ kind: 'end', tickets: 80_000, cashTickets: first.summary.cashTickets, medalTickets: first.summary.medalTickets });
    const count = (k: string) => records.filter((r) => r.kind === k).length;
    expect(count('race')).toBe(15);
    expect(count('user')).toBe(3000);
    expect(count('ticket')).toBe(80_000);
    expect(count('close')).toBe(15);
    expect(count('result')).toBe(15);
  });

  it('emits only valid tickets inside their race window, in time order', () => {
    const races = new Map(records.filter((r) => r.kind === 'race').map((r) => [r.raceId as string, r]));
    const users = new Set(records.filter((r) => r.kind === 'user').map((r) => r.userId as string));
    const closed = new Set<string>();
    const ids = new Set<string>();
    // Plain checks collected into a list: one expect per ticket would dominate the test's run time.
    const problems: string[] = [];
    let lastMs = -1;
    for (const r of records) {
      if (r.kind === 'close') closed.add(r.raceId as string);
      if (r.kind !== 'ticket' && r.kind !== 'close' && r.kind !== 'result') continue;
      const at = (r.kind === 'ticket' ? r.placedAtMs : r.atMs) as number;
      if (at < lastMs) problems.push(`out of time order: ${JSON.stringify(r)}`);
      lastMs = at;
      if (r.kind !== 'ticket') continue;
      const race = races.get(r.raceId as string) as Rec;
      const field = { sport: race.sport as Sport, riders: race.riders as number };
      const bad = (why: string) => problems.push(`${why}: ${JSON.stringify(r)}`);
      if (!betTypesSold(field).includes(r.betType as never)) bad('bet type not sold');
      const parsed = parseCombination(r.betType as never, r.combination, field);
      if (!parsed.ok) bad(parsed.error.message);
      if (!users.has(r.userId as string)) bad('unknown user');
      if (closed.has(r.raceId as string)) bad('placed after close');
      if (at < (race.opensAtMs as number) || at >= (race.closeAtMs as number)) bad('outside the betting window');
      const stake = r.stake as number;
      if (!(Number.isInteger(stake) && stake > 0 && stake % 100 === 0)) bad('stake not in 100-yen units');
      if (r.currency !== 'cash' && r.currency !== 'medal') bad('bad currency');
      if (ids.has(r.ticketId as string)) bad('duplicate ticket id');
      ids.add(r.ticketId as string);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect(ids.size).toBe(80_000);
  });

  it('makes official pools equal to the cash stakes plus the outside sales', () => {
    const cash = new Map<string, number>();
    for (const r of records) {
      if (r.kind !== 'ticket' || r.currency !== 'cash') continue;
      const key = `${r.raceId}|${r.betType}|${r.combination}`;
      cash.set(key, (cash.get(key) ?? 0) + (r.stake as number));
    }
    const day = buildRaceDay(spec, 7);
    let checked = 0;
    for (const plan of day.races) {
      const result = records.find((r) => r.kind === 'result' && r.raceId === plan.raceId) as Rec;
      const pools = result.pools as Record<string, Record<string, number>>;
      const expected: Record<string, Record<string, number>> = {};
      const add = (type: string, combo: string, yen: number) => {
        const t = (expected[type] ??= {});
        t[combo] = (t[combo] ?? 0) + yen;
      };
      for (const [type, pool] of Object.entries(plan.outsidePools ?? {})) for (const [c, yen] of Object.entries(pool)) add(type, c, yen);
      for (const [key, yen] of cash) {
        const [raceId, type, combo] = key.split('|') as [string, string, string];
        if (raceId === plan.raceId) add(type, combo, yen);
      }
      expect(pools).toEqual(expected);
      expect(result.result).toEqual(plan.result);
      expect(result.scratched).toEqual(plan.scratched);
      checked++;
    }
    expect(checked).toBe(15);
  });

  it('sells free-medal tickets at the configured share (80%, within 1.5 points on 80,000 tickets)', () => {
    const medal = records.filter((r) => r.kind === 'ticket' && r.currency === 'medal').length;
    expect(Math.abs(medal / 80_000 - 0.8)).toBeLessThan(0.015);
  });

  it('keeps scratched riders out of the official order and draws refunds at chaos rates', () => {
    const results = records.filter((r) => r.kind === 'result');
    for (const r of results) {
      const res = r.result as { status: string; order?: number[][] };
      if (res.status === 'void') continue;
      for (const rider of (res.order ?? []).flat()) expect(r.scratched as number[]).not.toContain(rider);
    }
    expect(results.some((r) => (r.scratched as number[]).length > 0)).toBe(true);
  });
});
