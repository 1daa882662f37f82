// Proves "today" missions count every race of a user's day in Japan through the whole pipeline
// on the memory backend: 2 hits in one race and 1 in another of the same Japan day earn "3 hits
// today" even though the two races fall on different UTC dates, a race of the next Japan day
// (the same UTC date as the second) starts a new day, and a race's results delivered again count
// nothing twice.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createMemoryStore, createVirtualClock } from '../backends/memory/index.ts';
import type { RaceResult } from '../core/race-result.ts';
import type { Ticket } from '../core/ticket.ts';
import type { RaceDay, RacePlan } from '../scenarios/model.ts';
import { loadDay } from '../sim/world.ts';
import { SUBSCRIPTIONS, TOPICS } from '../core/topology.ts';
import { startPipeline } from './runner.ts';
import { encodeSettled } from './wire.ts';

const ORDER: RaceResult = { status: 'official', order: [[1], [2], [3], [4], [5], [6], [7]] };

function race(raceId: string, postAtIso: string): RacePlan {
  const postAtMs = Date.parse(postAtIso);
  return { raceId, venue: 'test', sport: 'keirin', riders: 7, closeAtMs: postAtMs - 60_000, postAtMs, resultAtMs: postAtMs + 300_000, scratched: [], result: ORDER };
}

/** `hits` winning tickets (exacta 1-2, quinella 1=2, wide 1=3) and one losing trifecta, medal stakes. */
function tickets(raceId: string, userId: string, hits: number): Ticket[] {
  const winners: [Ticket['betType'], string][] = [['exacta', '1-2'], ['quinella', '1=2'], ['wide', '1=3']];
  const out: Ticket[] = winners.slice(0, hits).map(([betType, combination], i) => ({ ticketId: `${raceId}-${userId}-${i}`, userId, raceId, betType, combination, stake: 100, currency: 'medal' }));
  out.push({ ticketId: `${raceId}-${userId}-x`, userId, raceId, betType: 'trifecta', combination: '7-6-5', stake: 100, currency: 'medal' });
  return out;
}

describe('day missions across the races of a day', () => {
  it('grants "3 hits today" for 2 + 1 hits on one Japan day across UTC midnight, once, and not across Japan days', async () => {
    const races = [
      race('rA', '2026-11-20T23:45:00Z'), // 21 November 08:45 in Japan (20 November in UTC)
      race('rB', '2026-11-21T00:30:00Z'), // 21 November 09:30 in Japan
      race('rC', '2026-11-21T23:50:00Z'), // 22 November 08:50 in Japan (21 November in UTC, like rB)
    ];
    // u1: 2 + 1 hits on 21 November in Japan, then 2 on the 22nd. u2: 2 hits in one race only.
    // u3: 2 + 1 hits that share a UTC date (rB, rC) but not a Japan date: no "3 hits today".
    const all = [
      ...tickets('rA', 'u1', 2), ...tickets('rB', 'u1', 1), ...tickets('rC', 'u1', 2),
      ...tickets('rA', 'u2', 2), ...tickets('rC', 'u2', 0),
      ...tickets('rB', 'u3', 2), ...tickets('rC', 'u3', 1),
    ];
    const day: RaceDay = { name: 'missions', seed: 1, races, users: ['u1', 'u2', 'u3'].map((userId) => ({ userId, cash: 10_000, medals: 10_000 })), ticketBatches: () => [{ tickets: all, placedAtMs: all.map(() => 0) }], ticketCount: all.length };
    const clock = createVirtualClock();
    const bus = createMemoryBus({ clock });
    const store = createMemoryStore({ clock });
    await loadDay(store, day);
    const pipeline = startPipeline({ store, bus, clock });
    const ingestAll = async () => {
      for (const r of races) expect((await pipeline.ingest({ raceId: r.raceId, resultVersion: 1, result: r.result, scratched: r.scratched })).ok).toBe(true);
      await clock.runUntilIdle({ maxSteps: 100_000 });
    };
    await ingestAll();
    const dailyOf = async (userId: string) => (await store.readback.bonuses()).filter((b) => b.userId === userId && !b.bonusId.startsWith('bonus:hit:')).map((b) => b.bonusId).sort();
    expect(await dailyOf('u1')).toEqual(['bonus:hits-today:3:u1:2026-11-21']);
    expect(await dailyOf('u2')).toEqual([]);
    expect(await dailyOf('u3')).toEqual([]);
    expect((await store.readback.bonuses()).filter((b) => b.bonusId.startsWith('bonus:hit:')).map((b) => b.bonusId).sort()).toEqual([
      'bonus:hit:stl:rA:u1:v1', 'bonus:hit:stl:rA:u2:v1', 'bonus:hit:stl:rB:u1:v1', 'bonus:hit:stl:rB:u3:v1', 'bonus:hit:stl:rC:u1:v1', 'bonus:hit:stl:rC:u3:v1',
    ]);
    const before = await store.readback.balances('u2');

    // Every `settled` message delivered again (twice): each counts nothing more.
    for (const r of races) {
      const publishedAtMs = (await store.getOutcome(r.raceId))?.publishedAtMs ?? 0;
      for (const userId of ['u1', 'u2', 'u3']) {
        const t = await store.getSettlementTotals(r.raceId, userId);
        if (t === undefined) continue;
        const data = encodeSettled({ raceId: r.raceId, userId, settlementId: t.settlementId, cash: t.cash, medals: t.medals, hits: t.hits, trifectaHits: t.trifectaHits ?? 0, resultVersion: 1, publishedAtMs });
        await bus.publish(TOPICS.settled, [{ data }, { data }]);
      }
    }
    await clock.runUntilIdle({ maxSteps: 100_000 });
    expect(bus.subscriptionStats(SUBSCRIPTIONS.postSettle.name).published).toBe(7 + 2 * 7); // 7 settlements, then each twice more
    await pipeline.stop();
    expect(await dailyOf('u1')).toEqual(['bonus:hits-today:3:u1:2026-11-21']);
    expect(await dailyOf('u2')).toEqual([]); // u2's 2 hits in rA counted twice would make 4
    expect(await dailyOf('u3')).toEqual([]);
    expect(await store.readback.balances('u2')).toEqual(before);
  });
});
