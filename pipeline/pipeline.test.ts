// Proves the handlers' contracts on the memory backend in virtual time: ingest refuses unknown
// races and bad results as error values and is idempotent per result version; each fan-out variant
// publishes the settle requests it promises; settle dead-letters poison with its reason and never
// pays twice when a request is delivered again, while still republishing `settled`.
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
import { DEFAULT_VARIANTS, parseFanoutVariant, type PipelineVariants } from './settings.ts';
import { encodeSettleRequest } from './wire.ts';

const SHAPE = { usersMin: 23, usersMax: 23, ticketsPerUserMax: 3, stakeUnitsMax: 5 };

async function world(seed = 5) {
  const clock = createVirtualClock();
  const bus = createMemoryBus({ clock });
  const store = createMemoryStore({ clock });
  const day = smokeRaceDay(seed, createRng(seed), SHAPE);
  await loadDay(store, day);
  const race = day.races[0];
  if (race === undefined) throw new Error('no race');
  return { clock, bus, store, day, race };
}

function fakeDelivery(data: string, attempt = 1): Delivery & { acked: number; nacked: number } {
  const d = {
    messageId: `m${attempt}`,
    data,
    attributes: {},
    deliveryAttempt: attempt,
    publishTimeMs: 0,
    acked: 0,
    nacked: 0,
    ack: () => void d.acked++,
    nack: () => void d.nacked++,
  };
  return d;
}

describe('ingest', () => {
  it('refuses an unknown race and an invalid result as error values', async () => {
    const { clock, bus, store, race } = await world();
    const ingest = createIngest({ store, bus, clock });
    const unknown = await ingest({ raceId: 'nope', resultVersion: 1, result: race.result, scratched: [] });
    expect(unknown.ok ? 'ok' : unknown.error.code).toBe('RACE.UNKNOWN');
    const bad = await ingest({ raceId: race.raceId, resultVersion: 1, result: { status: 'official', order: [[99]] }, scratched: [] });
    expect(bad.ok ? 'ok' : bad.error.code).toBe('RESULT.ORDER_INVALID');
    expect(await store.getOutcome(race.raceId)).toBeUndefined();
  });

  it('records a result version once and republishes on a retry', async () => {
    const { clock, bus, store, race } = await world();
    const ingest = createIngest({ store, bus, clock });
    const input = { raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched };
    const first = await ingest(input);
    const again = await ingest(input);
    expect(first.ok && first.value.recorded).toBe(true);
    expect(again.ok && again.value.recorded).toBe(false);
    expect(bus.subscriptionStats(SUBSCRIPTIONS.fanOut.name).published).toBe(2);
  });
});

describe('fan-out variants', () => {
  const cases: [string, (users: number) => number][] = [
    ['per-user', (n) => n],
    ['user-batch:7', (n) => Math.ceil(n / 7)],
    ['single-worker', () => 0],
  ];
  for (const [name, expectedRequests] of cases) {
    it(`${name} publishes the settle requests it promises and settles everyone`, async () => {
      const { clock, bus, store, day, race } = await world();
      const fanout = parseFanoutVariant(name);
      if (!fanout.ok) throw new Error(fanout.error.message);
      const pipeline = startPipeline({ store, bus, clock, variants: { ...DEFAULT_VARIANTS, fanout: fanout.value } });
      await pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched });
      await clock.runUntilIdle();
      expect(bus.subscriptionStats(SUBSCRIPTIONS.settle.name).published).toBe(expectedRequests(day.users.length));
      expect(bus.subscriptionStats(SUBSCRIPTIONS.postSettle.name).acked).toBe(day.users.length);
      expect(bus.subscriptionStats(SUBSCRIPTIONS.notify.name).acked).toBe(day.users.length);
      expect(pipeline.counters.notificationsPublished).toBe(day.users.length);
      expect(pipeline.counters.settlementsApplied).toBe(day.users.length);
      expect(pipeline.counters.rankingsPublished).toBe(1);
      expect(await store.fanoutUsers?.(race.raceId)).toBe(day.users.length);
    });
  }
});

describe('settle', () => {
  async function settleSetup(variants: PipelineVariants = DEFAULT_VARIANTS) {
    const w = await world();
    await createIngest(w)({ raceId: w.race.raceId, resultVersion: 1, result: w.race.result, scratched: w.race.scratched });
    const deps: HandlerDeps = { store: w.store, bus: w.bus, clock: w.clock, variants, probe: noProbe, races: createRaceCache(w.store), counters: createCounters() };
    return { ...w, deps, handler: createSettleHandler(deps, createUserSettler(deps, undefined)) };
  }

  it('dead-letters poison with its reason and acks it', async () => {
    const { bus, handler } = await settleSetup();
    const d = fakeDelivery('{"schemaVersion":1,"raceId":');
    await handler(d);
    expect(d.acked).toBe(1);
    const [letter] = bus.deadLetters(deadLetterTopicOf(TOPICS.settleRequests));
    expect(letter?.attributes['reason']).toMatch(/not valid JSON/);
  });

  it('pays once however often a request is delivered, and republishes settled each time', async () => {
    const { store, bus, race, day, handler, deps } = await settleSetup();
    const userId = day.users[0]?.userId as string;
    const data = encodeSettleRequest({ raceId: race.raceId, resultVersion: 1, publishedAtMs: 0, userIds: [userId] });
    const before = await store.readback?.balances(userId);
    await handler(fakeDelivery(data, 1));
    const once = await store.readback?.balances(userId);
    await handler(fakeDelivery(data, 2));
    const twice = await store.readback?.balances(userId);
    expect(twice).toEqual(once);
    expect(deps.counters.settlementsApplied).toBe(1);
    expect(deps.counters.settlementsDuplicate).toBe(1);
    expect(bus.subscriptionStats(SUBSCRIPTIONS.postSettle.name).published).toBe(2);
    const markers = await store.readback?.settlementMarkers(race.raceId);
    expect(markers?.find((m) => m.userId === userId)?.applications).toBe(1);
    // The one payment is the user's tickets' payouts, credited once to the balance before.
    const paid = { cash: 0, medal: 0 };
    for await (const t of store.readback!.ticketsOfRace(race.raceId)) if (t.userId === userId) paid[t.currency] += t.payout;
    expect(once).toEqual({ userId, cash: (before?.cash ?? Number.NaN) + paid.cash, medals: (before?.medals ?? Number.NaN) + paid.medal });
  });
});
