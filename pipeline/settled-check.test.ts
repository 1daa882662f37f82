// A forged `settled` message (well-formed, a real user of the race) is believed only as far as the
// store agrees: before the user settled it names no stored settlement, after it the amounts differ.
// Either way post-settle and notify dead-letter it with the reason, no medal is granted, no
// notification is shown, the barrier does not count the user, and the race still settles and ranks
// every user exactly once.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createMemoryStore, createVirtualClock } from '../backends/memory/index.ts';
import type { BusMessage, MessageBus } from '../core/ports.ts';
import { createRng } from '../core/rng.ts';
import { settlementIdOf } from '../core/settlement-record.ts';
import { deadLetterTopicOf, TOPICS } from '../core/topology.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import { loadDay } from '../sim/world.ts';
import { startPipeline } from './runner.ts';
import { encodeSettled, parseSettleRequest } from './wire.ts';

async function world() {
  const clock = createVirtualClock();
  const inner = createMemoryBus({ clock });
  const store = createMemoryStore({ clock });
  const day = smokeRaceDay(21, createRng(21), { usersMin: 8, usersMax: 8, ticketsPerUserMax: 3, stakeUnitsMax: 5 });
  await loadDay(store, day);
  const race = day.races[0]!;
  const victim = day.users.map((u) => u.userId).sort()[2] as string;
  // The victim's settle request is held back until released, so a forgery can land before it settles.
  let held: BusMessage[] = [];
  let holding = true;
  const bus: MessageBus = {
    publish: async (topic, messages) => {
      const keep = messages.filter((m) => {
        const r = topic === TOPICS.settleRequests && holding ? parseSettleRequest(m.data) : undefined;
        if (r?.ok === true && r.value.userIds.includes(victim)) return void held.push(m), false;
        return true;
      });
      if (keep.length > 0) await inner.publish(topic, keep);
    },
    subscribe: inner.subscribe.bind(inner),
    close: inner.close.bind(inner),
  };
  const release = async (): Promise<void> => {
    holding = false;
    await inner.publish(TOPICS.settleRequests, held);
    held = [];
  };
  const pipeline = startPipeline({ store, bus, clock });
  const forge = (over: { cash?: number; hits?: number } = {}) =>
    encodeSettled({ raceId: race.raceId, userId: victim, settlementId: settlementIdOf(race.raceId, victim, 1), resultVersion: 1, publishedAtMs: 0, cash: over.cash ?? 1_000_000, medals: 0, hits: over.hits ?? 9, trifectaHits: 3 });
  const letters = (data: string) => inner.deadLetters(deadLetterTopicOf(TOPICS.settled)).filter((l) => l.data === data);
  return { clock, inner, store, day, race, victim, pipeline, release, forge, letters };
}

describe('a forged settled message', () => {
  it('before the user settled: refused as SETTLED.UNKNOWN by post-settle and notify, and the barrier waits for the real settlement', async () => {
    const w = await world();
    await w.pipeline.ingest({ raceId: w.race.raceId, resultVersion: 1, result: w.race.result, scratched: w.race.scratched });
    await w.clock.runUntilIdle();
    const before = await w.store.readback!.balances(w.victim);
    const forged = w.forge();
    await w.inner.publish(TOPICS.settled, [{ data: forged }]);
    await w.clock.runUntilIdle();
    const letters = w.letters(forged);
    expect(letters.map((l) => l.attributes['reason']?.split(':')[0])).toEqual(['SETTLED.UNKNOWN', 'SETTLED.UNKNOWN']);
    // Neither terminal nor ranked: the forgery did not complete the barrier.
    expect(await w.store.terminalUserCount(w.race.raceId)).toBe(w.day.users.length - 1);
    expect((await w.store.rankingClaim(w.race.raceId))?.published).not.toBe(true);
    expect(await w.store.readback!.balances(w.victim)).toEqual(before);
    expect(w.pipeline.counters.notificationsPublished).toBe(w.day.users.length - 1);

    await w.release();
    await w.clock.runUntilIdle();
    expect((await w.store.rankingClaim(w.race.raceId))?.published).toBe(true);
    expect((await w.store.readback!.settlementMarkers(w.race.raceId)).map((m) => m.applications)).toEqual(w.day.users.map(() => 1));
    expect(w.pipeline.counters.notificationsPublished).toBe(w.day.users.length);
    expect(await w.store.deadLetteredUsers(w.race.raceId)).toEqual([]);
  });

  it('after the user settled: refused as SETTLED.MISMATCH, naming the fields, granting and notifying nothing', async () => {
    const w = await world();
    await w.pipeline.ingest({ raceId: w.race.raceId, resultVersion: 1, result: w.race.result, scratched: w.race.scratched });
    await w.release();
    await w.clock.runUntilIdle();
    const balance = await w.store.readback!.balances(w.victim);
    const bonuses = (await w.store.readback!.bonuses()).length;
    const notified = w.pipeline.counters.notificationsPublished;
    const forged = w.forge({ cash: 987_654, hits: 7 });
    await w.inner.publish(TOPICS.settled, [{ data: forged }]);
    await w.clock.runUntilIdle();
    const reasons = w.letters(forged).map((l) => l.attributes['reason'] ?? '');
    expect(reasons).toHaveLength(2);
    for (const r of reasons) expect(r).toMatch(/^SETTLED\.MISMATCH: .*cash 987654\/\d+.*hits 7\/\d+/);
    expect(await w.store.readback!.balances(w.victim)).toEqual(balance);
    expect((await w.store.readback!.bonuses()).length).toBe(bonuses);
    expect(w.pipeline.counters.notificationsPublished).toBe(notified);
    expect(await w.store.deadLetteredUsers(w.race.raceId)).toEqual([]);
  });
});
