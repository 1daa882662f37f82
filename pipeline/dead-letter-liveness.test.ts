// Proves a user that cannot be settled does not stall the race, on the memory backend with the
// production subscriptions (5 delivery attempts): a user whose ticket the pure core refuses, in
// every fan-out variant (stored before its race was known, so the store checked it against the
// widest field), and a user whose settlement fails on every attempt, are dead-lettered
// with the reason as a replayable settle request of that user, counted terminal, and the ranking
// is published exactly once over the users that settled, saying who was left out and why. A
// re-drive after the fix settles and notifies the user once and does not issue the ranking again.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createMemoryStore, createVirtualClock } from '../backends/memory/index.ts';
import { encodeSettleRequest, parseMessage } from '../core/messages.ts';
import type { Store } from '../core/ports.ts';
import { createRng } from '../core/rng.ts';
import { DEAD_LETTER_INTAKE, deadLetterTopicOf, SUBSCRIPTIONS, TOPICS } from '../core/topology.ts';
import { drawFinalityPlan, loadRejectableUsers, type FinalityPlan } from '../sim/finality-faults.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import { loadDay } from '../sim/world.ts';
import { InjectedCrash, type Probe, type ProbePoint } from './probe.ts';
import { startPipeline } from './runner.ts';
import { DEFAULT_VARIANTS, parseFanoutVariant } from './settings.ts';
import { rankings } from './_fixtures/rankings.ts';

const SHAPE = { usersMin: 20, usersMax: 20, ticketsPerUserMax: 3, stakeUnitsMax: 5 };

/** A world with `refused` extra users each holding one ticket the core refuses (a rider named twice). */
async function world(refused: number) {
  const clock = createVirtualClock();
  const bus = createMemoryBus({ clock });
  const store = createMemoryStore({ clock });
  const day = smokeRaceDay(3, createRng(3), SHAPE);
  const race = day.races[0];
  if (race === undefined) throw new Error('no race');
  let plan: FinalityPlan = { rejectable: [], republications: [] };
  for (let seed = 0; plan.rejectable.length !== refused; seed++) {
    if (seed > 100) throw new Error(`no plan with ${refused} refused users for a ${race.riders}-rider race`);
    plan = drawFinalityPlan(createRng(seed), race, 0);
  }
  await loadRejectableUsers(store, plan);
  await loadDay(store, day);
  return { clock, bus, store, day, race, plan };
}

/** Taps every notification published, so ranking publications are counted on the bus itself. */
function tap(bus: ReturnType<typeof createMemoryBus>, out: string[]): ReturnType<typeof createMemoryBus> {
  const publish = bus.publish.bind(bus);
  bus.publish = async (topic, messages) => {
    if (topic === TOPICS.notifications) for (const m of messages) out.push(m.data);
    return publish(topic, messages);
  };
  return bus;
}

describe('a user the core refuses', () => {
  for (const variant of ['per-user', 'user-batch:4', 'single-worker']) {
    it(`is dead-lettered as a replayable request and the race is still ranked once (${variant})`, async () => {
      const { clock, bus, store, day, race, plan } = await world(2);
      const published: string[] = [];
      const fanout = parseFanoutVariant(variant);
      if (!fanout.ok) throw new Error(fanout.error.message);
      const pipeline = startPipeline({ store, bus: tap(bus, published), clock, variants: { ...DEFAULT_VARIANTS, fanout: fanout.value } });
      await pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched });
      await clock.runUntilIdle();
      const refused = plan.rejectable.map((r) => r.account.userId).sort();
      // The race is ranked once although two users never settle, and the dead letters are real requests.
      expect(rankings(published)).toHaveLength(1);
      for (const userId of refused) {
        const letter = bus.deadLetters(deadLetterTopicOf(TOPICS.settleRequests)).find((l) => l.attributes['userId'] === userId);
        const request = parseMessage(TOPICS.settleRequests, letter?.data ?? '');
        expect(request.ok && 'userId' in request.value.message && request.value.message.userId).toBe(userId);
      }
      const dead = await store.deadLetteredUsers(race.raceId);
      expect(dead.map((d) => d.userId)).toEqual(refused);
      for (const d of dead) expect(d.reason).toMatch(/^BET\.COMBINATION_INVALID: /);
      for (const userId of refused) {
        const letter = bus.deadLetters(deadLetterTopicOf(TOPICS.settleRequests)).find((l) => l.attributes['userId'] === userId);
        const request = parseMessage(TOPICS.settleRequests, letter?.data ?? '');
        expect(request.ok && 'userId' in request.value.message && request.value.message.userId).toBe(userId);
        expect(letter?.attributes['reason']).toMatch(/^BET\.COMBINATION_INVALID: /);
      }
      const ranked = rankings(published);
      expect(ranked).toHaveLength(1);
      expect(ranked[0]?.leftOut).toEqual({ users: 2, reasons: { 'BET.COMBINATION_INVALID': 2 } });
      expect((await store.readback.rankingClaims()).find((c) => c.raceId === race.raceId)?.postSettledUsers).toBe(day.users.length + 2);
    });
  }
});

describe('a user whose settlement fails on every delivery attempt', () => {
  it('is dead-lettered by the handler on the last attempt, the ranking comes, and a re-drive settles it once without re-ranking', async () => {
    const { clock, bus, store, day, race } = await world(0);
    const victim = day.users[4]?.userId as string;
    const broken = { on: true };
    const flaky: Store = {
      ...store,
      settleUser: (raceId, userId, ...rest) => (broken.on && userId === victim ? Promise.reject(new Error('disk on fire')) : store.settleUser(raceId, userId, ...rest)),
    };
    const published: string[] = [];
    const pipeline = startPipeline({ store: flaky, bus: tap(bus, published), clock, stages: { settle: { ackDeadlineMs: 100 } } });
    await pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched });
    await clock.runUntilIdle();
    expect(rankings(published)).toHaveLength(1);
    const [dead] = await store.deadLetteredUsers(race.raceId);
    expect(dead?.userId).toBe(victim);
    expect(dead?.reason).toMatch(new RegExp(`^DELIVERY\\.ATTEMPTS_EXHAUSTED: attempt ${SUBSCRIPTIONS.settle.maxDeliveryAttempts} of 5 failed: disk on fire`));
    const letters = bus.deadLetters(deadLetterTopicOf(TOPICS.settleRequests));
    expect(letters).toHaveLength(1);
    expect(letters[0]?.attributes['reason']).toMatch(/^DELIVERY\.ATTEMPTS_EXHAUSTED/);
    expect(rankings(published)).toHaveLength(1);
    expect(rankings(published)[0]?.leftOut).toEqual({ users: 1, reasons: { 'DELIVERY.ATTEMPTS_EXHAUSTED': 1 } });

    // The fix, then the re-drive: the request goes back to its topic as it was dead-lettered.
    broken.on = false;
    await bus.publish(TOPICS.settleRequests, [{ data: letters[0]?.data as string }]);
    await clock.runUntilIdle();
    const markers = await store.readback.settlementMarkers(race.raceId);
    expect(markers.find((m) => m.userId === victim)?.applications).toBe(1);
    const settledOfVictim = published.filter((d) => d.includes(`"userId":"${victim}"`) && d.includes('"kind":"settled"'));
    expect(settledOfVictim).toHaveLength(1);
    expect(rankings(published)).toHaveLength(1);
  });
});

describe('a settled user whose post-settle fails on every delivery attempt', () => {
  it('is dead-lettered on the last attempt and counted terminal; the ranking comes once and still ranks it', async () => {
    const { clock, bus, store, day, race } = await world(0);
    const victim = day.users[7]?.userId as string;
    const flaky: Store = { ...store, markPostSettled: (raceId, userId) => (userId === victim ? Promise.reject(new Error('marker table locked')) : store.markPostSettled(raceId, userId)) };
    const published: string[] = [];
    const pipeline = startPipeline({ store: flaky, bus: tap(bus, published), clock, stages: { postSettle: { ackDeadlineMs: 100 } } });
    await pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched });
    await clock.runUntilIdle();
    const letters = bus.deadLetters(deadLetterTopicOf(TOPICS.settled));
    expect(letters.map((l) => l.attributes['userId'])).toEqual([victim]);
    expect(letters[0]?.attributes['reason']).toMatch(/^DELIVERY\.ATTEMPTS_EXHAUSTED: post-settle attempt 5 of 5 failed: marker table locked/);
    const ranked = rankings(published);
    expect(ranked).toHaveLength(1);
    // Settled, so not left out: the ranking reads the settlements.
    expect(ranked[0]?.leftOut).toBeUndefined();
    expect((await store.readback.settlementMarkers(race.raceId)).some((m) => m.userId === victim)).toBe(true);
  });
});

describe('a message whose handler crashes on every delivery attempt (the bus dead-letters it itself)', () => {
  /** A probe that kills the worker at `point` whenever the item names `victim`: no ack, no nack, the lease expires. */
  const crashFor = (point: ProbePoint, victim: string): Probe => (p, item) => {
    if (p === point && item.includes(`/${victim}#`)) throw new InjectedCrash(p, item);
  };

  it('a settle request: the intake marks the user DELIVERY.ATTEMPTS_EXHAUSTED and the race is ranked once without it', async () => {
    const { clock, bus, store, day, race } = await world(0);
    const victim = day.users[3]?.userId as string;
    const published: string[] = [];
    const pipeline = startPipeline({ store, bus: tap(bus, published), clock, probe: crashFor('settle.beforeCommit', victim), stages: { settle: { ackDeadlineMs: 100 } } });
    await pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched });
    await clock.runUntilIdle();
    // The bus forwarded it (no reason of the pipeline's), after the subscription's 5 deliveries.
    const letters = bus.deadLetters(deadLetterTopicOf(TOPICS.settleRequests));
    expect(letters).toHaveLength(1);
    expect(letters[0]?.attributes['reason']).toBeUndefined();
    expect(letters[0]?.attributes['CloudPubSubDeadLetterSourceDeliveryCount']).toBe('5');
    const dead = await store.deadLetteredUsers(race.raceId);
    expect(dead.map((d) => d.userId)).toEqual([victim]);
    expect(dead[0]?.reason).toMatch(/^DELIVERY\.ATTEMPTS_EXHAUSTED: 5 deliveries on settle-requests-settle/);
    expect((await store.readback.settlementMarkers(race.raceId)).some((m) => m.userId === victim)).toBe(false);
    const ranked = rankings(published);
    expect(ranked).toHaveLength(1);
    expect(ranked[0]?.leftOut).toEqual({ users: 1, reasons: { 'DELIVERY.ATTEMPTS_EXHAUSTED': 1 } });
    expect((await store.readback.rankingClaims()).find((c) => c.raceId === race.raceId)?.postSettledUsers).toBe(day.users.length);
    expect(pipeline.counters.deadLettersTakenIn).toBe(1);
    expect(pipeline.errors).toEqual([]);
    expect(bus.subscriptionStats(DEAD_LETTER_INTAKE.settleRequests.name).backlog).toBe(0);
  });

  it('a settled message: the settled user is counted terminal once, ranked, and not left out', async () => {
    const { clock, bus, store, day, race } = await world(0);
    const victim = day.users[6]?.userId as string;
    const published: string[] = [];
    const pipeline = startPipeline({ store, bus: tap(bus, published), clock, probe: crashFor('postSettle.afterBonus', victim), stages: { postSettle: { ackDeadlineMs: 100 } } });
    await pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched });
    await clock.runUntilIdle();
    const letters = bus.deadLetters(deadLetterTopicOf(TOPICS.settled));
    expect(letters.map((l) => l.attributes['CloudPubSubDeadLetterSourceSubscription'])).toEqual([SUBSCRIPTIONS.postSettle.name]);
    expect((await store.deadLetteredUsers(race.raceId)).map((d) => d.userId)).toEqual([victim]);
    const ranked = rankings(published);
    expect(ranked).toHaveLength(1);
    expect(ranked[0]?.leftOut).toBeUndefined();
    // Settled and dead-lettered is one terminal user: the claim saw exactly every user.
    expect((await store.readback.rankingClaims()).find((c) => c.raceId === race.raceId)?.postSettledUsers).toBe(day.users.length);
    expect(pipeline.errors).toEqual([]);
  });

  it('malformed dead letters and ones of no recorded race are counted and acked, never retried', async () => {
    const { clock, bus, store, race } = await world(0);
    const pipeline = startPipeline({ store, bus, clock });
    await bus.publish(deadLetterTopicOf(TOPICS.settleRequests), [{ data: '{"not":"a request"' }, { data: encodeSettleRequest({ raceId: 'no-such-race', resultVersion: 1, publishedAt: 0, userId: 'u00001' }) }]);
    await bus.publish(deadLetterTopicOf(TOPICS.settled), [{ data: 'garbage', attributes: { reason: 'X.Y: z' } }]);
    await clock.runUntilIdle();
    expect(pipeline.counters.deadLettersIgnored).toBe(3);
    expect(pipeline.counters.deadLettersTakenIn).toBe(0);
    expect(pipeline.errors).toEqual([]);
    expect(bus.isIdle()).toBe(true);
    expect(await store.deadLetteredUsers(race.raceId)).toEqual([]);
  });
});
