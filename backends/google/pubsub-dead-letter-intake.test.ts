// The dead-letter intake on the Pub/Sub emulator, with Pub/Sub's own dead-letter policy (5
// delivery attempts, core/topology.ts): the settle subscription's handler never acks one user's
// request (it nacks it every time, as a worker that dies on that user would leave it to expire,
// only faster), so Pub/Sub itself forwards the request to `settle-requests-dead-letter` with no
// reason of the pipeline's. The intake's own subscription takes it in, marks the user
// DELIVERY.ATTEMPTS_EXHAUSTED, and the race is ranked once over the others, naming it left out.
import { expect, it } from 'vitest';
import { createMemoryStore, createRealClock } from '../memory/index.ts';
import type { MessageBus } from '../../core/ports.ts';
import { createRng } from '../../core/rng.ts';
import { allSubscriptions, DEAD_LETTER_INTAKE, SUBSCRIPTIONS, TOPICS } from '../../core/topology.ts';
import { provisionPubSub } from '../../emulators/provision.ts';
import { describeWithEmulators, useEmulators } from '../../emulators/test-support.ts';
import { startPipeline } from '../../pipeline/runner.ts';
import { smokeRaceDay } from '../../sim/workload.ts';
import { loadDay } from '../../sim/world.ts';
import { createPubSubBus } from './pubsub-bus.ts';
import { watchPubSub } from './pubsub-watch.ts';
import { rankings } from '../../pipeline/_fixtures/rankings.ts';

/** Short redelivery backoff so the five attempts take seconds, as in the bus contract test. */
const subscriptions = allSubscriptions().map((s) => ({ ...s, maxBackoffMs: 1_000 }));
const WAIT_MS_MAX = 60_000;

async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > WAIT_MS_MAX) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The bus the pipeline sees: the settle stage's handler never acks `victim`'s request; notifications are kept. */
function hostile(bus: MessageBus, victim: string, notifications: string[]): MessageBus {
  return {
    publish: (topic, messages) => {
      if (topic === TOPICS.notifications) for (const m of messages) notifications.push(m.data);
      return bus.publish(topic, messages);
    },
    subscribe: (subscription, handler, options) =>
      bus.subscribe(
        subscription,
        subscription === SUBSCRIPTIONS.settle.name ? async (d) => (d.data.includes(`"${victim}"`) ? d.nack() : handler(d)) : handler,
        options,
      ),
    close: () => bus.close(),
  };
}

describeWithEmulators('dead-letter intake on the Pub/Sub emulator', () => {
  const emulators = useEmulators({ spanner: false });

  it('a request Pub/Sub dead-letters after 5 deliveries leaves its user out of a ranking that still comes, once', { timeout: 120_000 }, async () => {
    const h = emulators();
    await provisionPubSub(h, { subscriptions });
    const pubsub = createPubSubBus({ projectId: h.projectId, emulatorHost: h.pubsubHost as string });
    const watch = watchPubSub(pubsub, subscriptions);
    const clock = createRealClock();
    const store = createMemoryStore({ clock });
    const day = smokeRaceDay(5, createRng(5), { usersMin: 8, usersMax: 8, ticketsPerUserMax: 2, stakeUnitsMax: 3 });
    const race = day.races[0];
    if (race === undefined) throw new Error('no race');
    await loadDay(store, day);
    const victim = day.users[2]?.userId as string;
    const notifications: string[] = [];
    const pipeline = startPipeline({ store, bus: hostile(pubsub, victim, notifications), clock, stages: { settle: { workers: 1, maxInFlight: 4 }, postSettle: { workers: 1 }, notify: { workers: 1 } } });
    try {
      const ingested = await pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched });
      expect(ingested.ok).toBe(true);
      await until('the ranking', () => rankings(notifications).length > 0);
      // Pub/Sub forwarded it itself: no reason attribute of the pipeline's, its delivery count instead.
      await until('the dead letter on the audit subscription', () => watch.deadLetters(TOPICS.settleRequests).length > 0);
      const [letter] = watch.deadLetters(TOPICS.settleRequests);
      expect(letter?.attributes['reason']).toBeUndefined();
      expect(letter?.attributes['CloudPubSubDeadLetterSourceDeliveryCount']).toBe('5');
      const dead = await store.deadLetteredUsers(race.raceId);
      expect(dead.map((d) => d.userId)).toEqual([victim]);
      expect(dead[0]?.reason).toMatch(/^DELIVERY\.ATTEMPTS_EXHAUSTED: 5 deliveries on settle-requests-settle/);
      expect((await store.readback.settlementMarkers(race.raceId)).map((m) => m.userId)).not.toContain(victim);
      const holders = new Set<string>();
      for (const b of day.ticketBatches()) for (const t of b.tickets) if (t.raceId === race.raceId) holders.add(t.userId);
      expect(holders.has(victim)).toBe(true);
      const usersOfRace = holders.size;
      expect((await store.readback.settlementMarkers(race.raceId)).length).toBe(usersOfRace - 1);
      // Nothing more comes: the intake's backlog drains, and the ranking was published once.
      await until('the intake to drain', () => (watch.stats().subscriptions.find((s) => s.subscription === DEAD_LETTER_INTAKE.settleRequests.name)?.backlog ?? 1) === 0);
      await new Promise((r) => setTimeout(r, 1_000));
      const ranked = rankings(notifications);
      expect(ranked).toHaveLength(1);
      expect(ranked[0]?.leftOut).toEqual({ users: 1, reasons: { 'DELIVERY.ATTEMPTS_EXHAUSTED': 1 } });
      expect(ranked[0]?.top.map((e) => e.userId)).not.toContain(victim);
      expect(pipeline.errors).toEqual([]);
    } finally {
      await pipeline.stop();
      await watch.close();
      await pubsub.close();
    }
  });
});
