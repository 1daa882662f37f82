// The raw loop and the pipeline of `raceday bench emulators` must measure the same world: the
// rows the raw loop's preparation writes (measureRawSettlement) and the rows the pipeline run
// loads are read back from two stores and compared row by row. And the pipeline's work ends at
// its last post-settle write or the ranking, whichever is later, not at the last settlement.
import { describe, expect, it } from 'vitest';
import { capacityWorld } from '../backends/google/spanner-capacity-world.ts';
import { prepareCapacityWorld } from '../backends/google/spanner-capacity.ts';
import { createMemoryStore, type MemoryStore } from '../backends/memory/index.ts';
import { BENCH, loadPipelineWorld } from './emulators.ts';
import { fullWorkMakespanMs, timePostSettleWrites } from './full-work.ts';

async function rowsOf(store: MemoryStore, raceId: string) {
  const readback = store.readback;
  if (readback === undefined) throw new Error('the memory store has a read-back');
  const users = [];
  for await (const u of readback.users()) users.push(u);
  const tickets = [];
  for await (const t of readback.ticketsOfRace(raceId)) tickets.push(t);
  tickets.sort((a, b) => (a.ticketId < b.ticketId ? -1 : 1));
  return { race: await store.getRace(raceId), users, tickets };
}

describe('bench emulators world', () => {
  it('the raw loop and the pipeline load the same users, race and tickets', async () => {
    const users = 57;
    const raw = createMemoryStore();
    const rawWorld = capacityWorld(users, BENCH.ticketsPerUser);
    await prepareCapacityWorld(raw, rawWorld);
    const pipeline = createMemoryStore();
    const pipelineWorld = await loadPipelineWorld(pipeline, users);
    const rawRows = await rowsOf(raw, rawWorld.race.raceId);
    const pipelineRows = await rowsOf(pipeline, pipelineWorld.race.raceId);
    expect(rawRows.users).toHaveLength(users);
    expect(rawRows.tickets).toHaveLength(users * BENCH.ticketsPerUser);
    expect(pipelineRows).toEqual(rawRows);
    expect(pipelineWorld.result).toEqual(rawWorld.result);
  });

  it('builds exacta tickets that hit for some users and miss for others', async () => {
    const store = createMemoryStore();
    const world = capacityWorld(14, 5);
    const compute = await prepareCapacityWorld(store, world);
    const hits = Array.from({ length: 14 }, (_, i) => compute({ raceId: world.race.raceId, userId: world.userIdOf(i), tickets: world.ticketsOf(i) }).hits);
    expect(hits.some((h) => h > 0)).toBe(true);
    expect(hits.some((h) => h === 0)).toBe(true);
  });
});

describe('full-work makespan', () => {
  it('times the post-settle writes and nothing else', async () => {
    let nowMs = 100;
    const store = createMemoryStore();
    await loadPipelineWorld(store, 3);
    const timed = timePostSettleWrites(store, () => nowMs);
    nowMs = 200;
    await timed.store.grantBonuses([{ bonusId: 'b1', userId: 'cu0000000', medals: 10, reason: 'test' }]);
    nowMs = 300;
    await timed.store.markPostSettled('capacity-race', 'cu0000001');
    nowMs = 350;
    await timed.store.applyDayProgress?.({ userId: 'cu0000002', day: '2026-12-01', raceId: 'capacity-race', settlementId: 's2', hits: 1, trifectaHits: 0 }, () => []);
    nowMs = 400;
    await timed.store.putUsers([{ userId: 'cu0000009', cash: 0, medals: 0 }]);
    expect(timed.lastWriteAtMs()).toBe(350);
    expect(timed.writes()).toBe(3);
    nowMs = 500;
    await timed.store.claimRanking('capacity-race');
    expect(timed.lastWriteAtMs()).toBe(500);
    // The wrapped calls still reach the store.
    expect(await store.readback?.balances('cu0000000')).toMatchObject({ medals: 10_010 });
  });

  it('ends at the latest of the last settlement, the ranking shown and the last post-settle write', () => {
    expect(fullWorkMakespanMs({ settleMakespanMs: 20_000, rankingMakespanMs: 21_000, postSettleMakespanMs: 24_500 })).toBe(24_500);
    expect(fullWorkMakespanMs({ settleMakespanMs: 20_000, rankingMakespanMs: 21_000, postSettleMakespanMs: 20_900 })).toBe(21_000);
    expect(() => fullWorkMakespanMs({ settleMakespanMs: 20_000, rankingMakespanMs: 0, postSettleMakespanMs: 20_900 })).toThrow('never showed the ranking');
  });
});
