// Proves result finality end to end on the memory backend: the first result recorded for a race
// fixes its payouts. Ingest answers the same result again (even under another version) by
// republishing the recorded message, refuses a different one (another order, void after
// official, another payout table) with RESULT.ALREADY_FINAL naming both and changes nothing, and
// a message naming a version other than the recorded one is dead-lettered with that reason.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createMemoryStore, createVirtualClock } from '../backends/memory/index.ts';
import type { Delivery } from '../core/ports.ts';
import { createRng } from '../core/rng.ts';
import { deadLetterTopicOf, SUBSCRIPTIONS, TOPICS } from '../core/topology.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import { loadDay } from '../sim/world.ts';
import { createCounters, type HandlerDeps } from './context.ts';
import { createIngest } from './ingest.ts';
import { noProbe } from './probe.ts';
import { createRaceCache } from './race-cache.ts';
import { startPipeline } from './runner.ts';
import { createSettleHandler, createUserSettler } from './settle.ts';
import { DEFAULT_VARIANTS } from './settings.ts';
import { encodeSettleRequest } from './wire.ts';

const SHAPE = { usersMin: 30, usersMax: 30, ticketsPerUserMax: 3, stakeUnitsMax: 5 };

async function world() {
  const clock = createVirtualClock();
  const bus = createMemoryBus({ clock });
  const store = createMemoryStore({ clock });
  const day = smokeRaceDay(11, createRng(11), SHAPE);
  await loadDay(store, day);
  const race = day.races[0];
  if (race === undefined) throw new Error('no race');
  const riders = Array.from({ length: race.riders }, (_, i) => [i + 1]);
  const first = { raceId: race.raceId, resultVersion: 1, result: { status: 'official', order: riders }, scratched: [] as number[] };
  const other = { ...first, resultVersion: 2, result: { status: 'official', order: [...riders].reverse() } };
  return { clock, bus, store, day, race, first, other };
}

function delivery(data: string, attempt = 1): Delivery & { acked: number } {
  const d = { messageId: `m${attempt}`, data, attributes: {}, deliveryAttempt: attempt, publishTimeMs: 0, acked: 0, ack: () => void d.acked++, nack: () => undefined };
  return d;
}

describe('result finality at ingest', () => {
  it('refuses a different result for a race that has one, naming both, and writes and publishes nothing', async () => {
    const { clock, bus, store, first, other } = await world();
    const ingest = createIngest({ store, bus, clock });
    expect((await ingest(first)).ok).toBe(true);
    const recorded = await store.getOutcome(first.raceId);
    const refusals = [
      other,
      { ...first, resultVersion: 2, result: { status: 'void' } },
      { ...first, result: { status: 'void' } }, // same version, another result
      { ...first, resultVersion: 3, scratched: [1], result: { status: 'official', order: first.result.order.slice(1) } },
      { ...first, resultVersion: 2, returnRates: { trifecta: { num: 1n, den: 2n }, exacta: { num: 1n, den: 2n }, quinella: { num: 1n, den: 2n } } }, // same result, another payout table
    ];
    for (const input of refusals) {
      const r = await ingest(input);
      expect(r.ok ? `ok: ${JSON.stringify(input.result)}` : r.error.code).toBe('RESULT.ALREADY_FINAL');
      if (!r.ok) expect(r.error.message).toContain(`recorded v1 official ${JSON.stringify(first.result.order)} vs refused v${input.resultVersion}`);
    }
    expect(await store.getOutcome(first.raceId)).toEqual(recorded);
    expect(bus.subscriptionStats(SUBSCRIPTIONS.fanOut.name).published).toBe(1);
  });

  it('refuses official after void the same way', async () => {
    const { clock, bus, store, first } = await world();
    const ingest = createIngest({ store, bus, clock });
    expect((await ingest({ ...first, result: { status: 'void' } })).ok).toBe(true);
    const r = await ingest({ ...first, resultVersion: 2 });
    expect(r.ok ? 'ok' : r.error.message).toMatch(/recorded v1 void vs refused v2 official/);
  });

  it('answers the same result under a later version as a duplicate: the recorded message again, same publishedAt', async () => {
    const { clock, bus, store, first } = await world();
    const ingest = createIngest({ store, bus, clock });
    const a = await ingest(first);
    const later = clock.sleep(7);
    await clock.runUntilIdle();
    await later;
    expect(clock.nowMs()).toBeGreaterThan(0);
    const b = await ingest({ ...first, resultVersion: 4 });
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(b.value).toEqual({ recorded: false, resultVersion: 1, publishedAtMs: a.value.publishedAtMs });
    expect((await store.getOutcome(first.raceId))?.resultVersion).toBe(1);
    expect(bus.subscriptionStats(SUBSCRIPTIONS.fanOut.name).published).toBe(2);
  });
});

describe('result finality on the bus', () => {
  it('dead-letters a settle request naming another version with RESULT.ALREADY_FINAL and settles nothing', async () => {
    const { clock, bus, store, day, first } = await world();
    await createIngest({ store, bus, clock })(first);
    const deps: HandlerDeps = { store, bus, clock, variants: DEFAULT_VARIANTS, probe: noProbe, races: createRaceCache(store), counters: createCounters() };
    const handler = createSettleHandler(deps, createUserSettler(deps, undefined));
    const userId = day.users[0]?.userId as string;
    const d = delivery(encodeSettleRequest({ raceId: first.raceId, resultVersion: 2, publishedAtMs: 0, userIds: [userId] }));
    await handler(d);
    expect(d.acked).toBe(1);
    const [letter] = bus.deadLetters(deadLetterTopicOf(TOPICS.settleRequests));
    expect(letter?.attributes['reason']).toMatch(/^RESULT\.ALREADY_FINAL: race \S+ is final at result v1; this message names v2/);
    expect(await store.readback.settlementMarkers(first.raceId)).toEqual([]);
  });

  it('pays every ticket on the first table when a conflicting result arrives mid-race', async () => {
    const { clock, bus, store, day, first, other } = await world();
    const pipeline = startPipeline({ store, bus, clock });
    await pipeline.ingest(first);
    const refused = await pipeline.ingest(other);
    await clock.runUntilIdle();
    expect(refused.ok ? 'ok' : refused.error.code).toBe('RESULT.ALREADY_FINAL');
    const markers = await store.readback.settlementMarkers(first.raceId);
    expect(markers).toHaveLength(day.users.length);
    expect(new Set(markers.map((m) => m.resultVersion))).toEqual(new Set([1]));
    expect(pipeline.counters.rankingsPublished).toBe(1);
  });
});
