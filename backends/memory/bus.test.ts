// Proves the memory bus's Pub/Sub semantics and fault injection in virtual time: duplicates,
// reordering, lost acks and late deliveries each show up in the trace and the stats, yet every
// message ends acked or dead-lettered; late acks are ignored; closed subscribers' leases expire to
// the others; topics without subscriptions drop messages; backlog and oldest age are measured.
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../core/ports.ts';
import { createRng } from '../../core/rng.ts';
import { allSubscriptions, SUBSCRIPTIONS, TOPICS } from '../../core/topology.ts';
import { createMemoryBus, createVirtualClock, type BusFaults } from './index.ts';

const SETTLE = SUBSCRIPTIONS.settle.name;

async function world(faults: BusFaults, seed = 1, count = 50, deadlineMs = 100) {
  const clock = createVirtualClock();
  const bus = createMemoryBus({ clock, rng: createRng(seed), faults });
  const deliveries: Delivery[] = [];
  bus.subscribe(
    SETTLE,
    async (d) => {
      deliveries.push(d);
      await clock.sleep(5);
      d.ack();
    },
    { maxInFlight: 4, ackDeadlineMs: deadlineMs },
  );
  await bus.publish(TOPICS.settleRequests, Array.from({ length: count }, (_, i) => ({ data: `m${i}` })));
  await clock.runUntilIdle();
  return { bus, clock, deliveries, stats: bus.subscriptionStats(SETTLE) };
}

describe('memory bus faults', () => {
  it('delivers every message once and in order with faults off', async () => {
    const { deliveries, stats, bus } = await world({});
    expect(deliveries.map((d) => d.data)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    expect(stats).toMatchObject({ published: 50, delivered: 50, acked: 50, redelivered: 0, backlog: 0 });
    expect(bus.isIdle()).toBe(true);
  });

  it('duplicate delivery hands out the same message id twice', async () => {
    const { deliveries, stats } = await world({ duplicateProbability: 1 });
    expect(stats.duplicates).toBe(50);
    expect(stats.acked).toBe(50);
    const perId = new Map<string, number>();
    for (const d of deliveries) perId.set(d.messageId, (perId.get(d.messageId) ?? 0) + 1);
    expect([...perId.values()].every((n) => n === 2)).toBe(true);
  });

  it('reordering delays messages so delivery order differs from publish order', async () => {
    const { deliveries, stats } = await world({ reorderProbability: 1, reorderMaxDelayMs: 200 });
    const order = deliveries.map((d) => Number(d.data.slice(1)));
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
    expect(new Set(order).size).toBe(50);
    expect(stats.acked).toBe(50);
  });

  it('lost acks lead to redelivery after the deadline, never to a lost message', async () => {
    const { stats, bus } = await world({ lostAckProbability: 0.3 });
    expect(stats.lostAcks).toBeGreaterThan(0);
    expect(stats.expired).toBeGreaterThan(0);
    expect(stats.redelivered).toBeGreaterThan(0);
    expect(stats.acked + stats.deadLettered).toBe(50);
    expect(bus.deadLetters(TOPICS.settleRequests)).toHaveLength(stats.deadLettered);
  });

  it('a delivery past its deadline is redelivered and its late ack is ignored', async () => {
    const { stats, deliveries } = await world({ delayPastDeadlineProbability: 0.3 });
    expect(stats.lateAcks).toBeGreaterThan(0);
    expect(deliveries.some((d) => d.deliveryAttempt > 1)).toBe(true);
    expect(stats.acked + stats.deadLettered).toBe(50);
    expect(stats.backlog).toBe(0);
  });

  it('dead-letters after maxDeliveryAttempts with the reason and the attempt count', async () => {
    const { bus, stats } = await world({ lostAckProbability: 1 }, 1, 3);
    expect(stats.deadLettered).toBe(3);
    expect(stats.delivered).toBe(3 * SUBSCRIPTIONS.settle.maxDeliveryAttempts);
    const dead = bus.deadLetters(TOPICS.settleRequests);
    expect(dead.map((d) => d.data).sort()).toEqual(['m0', 'm1', 'm2']);
    for (const d of dead) {
      expect(d.attributes).toMatchObject({ deadLetterReason: 'max-delivery-attempts', CloudPubSubDeadLetterSourceDeliveryCount: '5', CloudPubSubDeadLetterSourceSubscription: SETTLE });
    }
    expect(bus.subscriptionStats('settle-requests-dead-letter-audit').backlog).toBe(3);
    // The dead-letter intake has work to do (nobody runs it here); the audit copies are no work.
    expect(bus.subscriptionStats('settle-requests-dead-letter-intake').backlog).toBe(3);
    expect(bus.isIdle()).toBe(false);
  });
});

describe('memory bus semantics', () => {
  it('ignores an ack that arrives after the deadline and redelivers', async () => {
    const clock = createVirtualClock();
    const bus = createMemoryBus({ clock });
    const seen: number[] = [];
    bus.subscribe(
      SETTLE,
      async (d) => {
        seen.push(d.deliveryAttempt);
        if (d.deliveryAttempt === 1) await clock.sleep(150); // past the 100 ms deadline
        d.ack();
      },
      { maxInFlight: 1, ackDeadlineMs: 100 },
    );
    await bus.publish(TOPICS.settleRequests, [{ data: 'x' }]);
    await clock.runUntilIdle();
    expect(seen).toEqual([1, 2]);
    expect(bus.subscriptionStats(SETTLE)).toMatchObject({ acked: 1, expired: 1, lateAcks: 1, backlog: 0 });
  });

  it('keeps each subscriber within maxInFlight and moves a closed subscriber’s leases to the others', async () => {
    const clock = createVirtualClock();
    const bus = createMemoryBus({ clock });
    const inFlight = [0, 0];
    const peak = [0, 0];
    const done = new Set<string>();
    const handles = [0, 1].map((w) =>
      bus.subscribe(
        SETTLE,
        async (d) => {
          if (w === 0) return; // a stuck worker: never acks
          inFlight[w]!++;
          peak[w] = Math.max(peak[w]!, inFlight[w]!);
          await clock.sleep(7);
          inFlight[w]!--;
          done.add(d.data);
          d.ack();
        },
        { maxInFlight: 3, ackDeadlineMs: 1_000 },
      ),
    );
    await bus.publish(TOPICS.settleRequests, Array.from({ length: 30 }, (_, i) => ({ data: `m${i}` })));
    await clock.runUntilIdle({ maxVirtualMs: 10 });
    await handles[0]!.close();
    await clock.runUntilIdle();
    expect(done.size).toBe(30);
    expect(peak[1]).toBe(3);
    expect(bus.subscriptionStats(SETTLE)).toMatchObject({ expired: 3, acked: 30, backlog: 0 });
  });

  it('treats a throwing handler as a nack and accepts a handler that returns no promise', async () => {
    const clock = createVirtualClock();
    const bus = createMemoryBus({ clock });
    const attempts: number[] = [];
    const handler = (d: Delivery) => {
      attempts.push(d.deliveryAttempt);
      if (d.deliveryAttempt === 1) throw new Error('boom');
      d.ack();
    };
    bus.subscribe(SETTLE, handler as unknown as (d: Delivery) => Promise<void>, { maxInFlight: 1, ackDeadlineMs: 1_000 });
    await bus.publish(TOPICS.settleRequests, [{ data: 'x' }]);
    await clock.runUntilIdle();
    expect(attempts).toEqual([1, 2]);
    expect(bus.subscriptionStats(SETTLE)).toMatchObject({ nacked: 1, acked: 1, expired: 0, backlog: 0 });
  });

  it('drops messages on a topic without subscriptions and rejects unknown topics', async () => {
    const clock = createVirtualClock();
    const bus = createMemoryBus({ clock, subscriptions: allSubscriptions().filter((s) => s.topic !== TOPICS.notifications) });
    await bus.publish(TOPICS.notifications, [{ data: 'lost' }]);
    expect(bus.stats().droppedNoSubscription).toBe(1);
    await expect(bus.publish('no-such-topic', [{ data: 'x' }])).rejects.toThrow(/unknown topic/);
    expect(() => bus.subscribe('no-such-sub', async () => {}, { maxInFlight: 1, ackDeadlineMs: 10 })).toThrow(/unknown subscription/);
  });

  it('measures backlog and the oldest unacked age while nobody consumes', async () => {
    const clock = createVirtualClock();
    const bus = createMemoryBus({ clock });
    await bus.publish(TOPICS.settleRequests, [{ data: 'a' }, { data: 'b' }]);
    void clock.sleep(500).then(() => bus.publish(TOPICS.settleRequests, [{ data: 'c' }]));
    await clock.runUntilIdle();
    expect(bus.subscriptionStats(SETTLE)).toMatchObject({ published: 3, backlog: 3, oldestUnackedAgeMs: 500 });
    expect(bus.isIdle()).toBe(false);
  });
});
