// Proves what the shared bus contract (pubsub-bus.contract.test.ts, which also covers redelivery
// after the ack deadline) does not: on the real Pub/Sub emulator a round trip keeps data and exact
// attributes with deliveryAttempt 1; a nack and a thrown handler each bring the message back with
// the attempt counted up (1, 2, 3); dead-lettering happens after exactly attempts 1..5; the
// flow-control gate lets handlers run in parallel yet never beyond maxInFlight; ack deadlines are
// raised to Pub/Sub's floor; a message that waits for a handler slot longer than one ack deadline
// keeps its lease (delivered once, attempt 1); a handler that runs longer than the ack deadline
// keeps its lease too (delivered once, its ack counts) up to the maximum lease, past which the
// message comes back; and the bus refuses to reach Google Cloud unless told so. Each test
// gets fresh topics, so the emulator tests run concurrently.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Delivery } from '../../core/ports.ts';
import { deadLetterTopicOf, type SubscriptionSpec } from '../../core/topology.ts';
import { provisionPubSub } from '../../emulators/provision.ts';
import { describeWithEmulators, useEmulators } from '../../emulators/test-support.ts';
import { createPubSubBus, effectiveAckDeadlineMs, type PubSubBus } from './pubsub-bus.ts';

/** Waits for a condition driven by the emulator; the bound only keeps a broken run from hanging. */
async function eventually(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('createPubSubBus without an emulator', () => {
  it('raises ack deadlines to whole seconds and to the 10 s floor of Pub/Sub', () => {
    expect(effectiveAckDeadlineMs(1)).toBe(10_000);
    expect(effectiveAckDeadlineMs(12_001)).toBe(13_000);
    expect(() => effectiveAckDeadlineMs(0)).toThrow(/ackDeadlineMs/);
    expect(() => effectiveAckDeadlineMs(601_000)).toThrow(/ackDeadlineMs/);
  });

  it('refuses to reach Google Cloud unless googleCloud: true is given', () => {
    const saved = process.env.PUBSUB_EMULATOR_HOST;
    delete process.env.PUBSUB_EMULATOR_HOST;
    try {
      expect(() => createPubSubBus({ projectId: 'p' })).toThrow(/googleCloud: true/);
      expect(() => createPubSubBus({ projectId: 'p', emulatorHost: 'pubsub.googleapis.com:443' })).toThrow(/emulator host/);
      expect(() => createPubSubBus({ projectId: 'p', googleCloud: true, emulatorHost: '127.0.0.1:8085' })).toThrow(/emulator host is set/);
    } finally {
      if (saved !== undefined) process.env.PUBSUB_EMULATOR_HOST = saved;
    }
  });
});

describeWithEmulators('createPubSubBus on the Pub/Sub emulator', () => {
  const emulators = useEmulators({ spanner: false });

  /** A fresh topic, its subscription (dead-letter policy unless maxDeliveryAttempts is 0) and dead-letter audit subscription. */
  async function setup(maxDeliveryAttempts = 5, leaseMaxMs?: number): Promise<{ bus: PubSubBus; topic: string; sub: string; audit: string }> {
    const h = emulators();
    const topic = `t-${randomUUID().slice(0, 8)}`;
    const spec: SubscriptionSpec = { name: `${topic}-sub`, topic, ackDeadlineSeconds: 10, maxDeliveryAttempts, deadLetterTopic: deadLetterTopicOf(topic), minBackoffMs: 100, maxBackoffMs: 1_000 };
    const audit: SubscriptionSpec = { ...spec, name: `${topic}-audit`, topic: deadLetterTopicOf(topic), maxDeliveryAttempts: 0 };
    await provisionPubSub(h, { topics: [topic, deadLetterTopicOf(topic)], subscriptions: [spec, audit] });
    return { bus: createPubSubBus({ projectId: h.projectId, emulatorHost: h.pubsubHost, ...(leaseMaxMs === undefined ? {} : { leaseMaxMs }) }), topic, sub: spec.name, audit: audit.name };
  }

  it.concurrent('delivers every published message once with its data and attributes', async () => {
    const { bus, topic, sub } = await setup();
    const got: Delivery[] = [];
    const s = bus.subscribe(sub, async (d) => void (got.push(d), d.ack()), { maxInFlight: 10, ackDeadlineMs: 10_000 });
    const before = Date.now();
    await bus.publish(topic, Array.from({ length: 50 }, (_, i) => ({ data: JSON.stringify({ i }), attributes: { kind: `k${i % 3}` } })));
    await eventually('50 deliveries', () => got.length >= 50);
    await s.close();
    await bus.close();
    const byIndex = new Map(got.map((d) => [(JSON.parse(d.data) as { i: number }).i, d]));
    expect(byIndex.size).toBe(50);
    for (const [i, d] of byIndex) {
      expect(d.attributes).toEqual({ kind: `k${i % 3}` });
      expect(d.deliveryAttempt).toBe(1);
      expect(d.publishTimeMs).toBeGreaterThanOrEqual(before - 5_000);
    }
  });

  it.concurrent('redelivers after a nack and after a handler throws, counting attempts', async () => {
    const { bus, topic, sub } = await setup();
    const attempts: number[] = [];
    const s = bus.subscribe(
      sub,
      async (d) => {
        attempts.push(d.deliveryAttempt);
        if (d.deliveryAttempt === 1) return d.nack();
        if (d.deliveryAttempt === 2) throw new Error('handler failure counts as a nack');
        d.ack();
      },
      { maxInFlight: 1, ackDeadlineMs: 10_000 },
    );
    await bus.publish(topic, [{ data: 'x' }]);
    await eventually('third attempt', () => attempts.length >= 3);
    await s.close();
    expect(bus.stats().subscriptions).toEqual([{ subscription: sub, delivered: 3, acked: 1, ackedMessages: 1, nacked: 2, redelivered: 2, expired: 0, inFlight: 0, waiting: 0 }]);
    expect(bus.stats().publishedByTopic).toEqual({ [topic]: 1 });
    await bus.close();
    expect(attempts).toEqual([1, 2, 3]);
  });

  it.concurrent('dead-letters after max delivery attempts, each attempt numbered', async () => {
    const { bus, topic, sub, audit } = await setup(5);
    const attempts: number[] = [];
    const dead: Delivery[] = [];
    const s = bus.subscribe(sub, async (d) => void (attempts.push(d.deliveryAttempt), d.nack()), { maxInFlight: 1, ackDeadlineMs: 10_000 });
    const a = bus.subscribe(audit, async (d) => void (dead.push(d), d.ack()), { maxInFlight: 1, ackDeadlineMs: 10_000 });
    await bus.publish(topic, [{ data: 'poison', attributes: { why: 'test' } }]);
    await eventually('dead letter', () => dead.length >= 1);
    await s.close();
    await a.close();
    await bus.close();
    expect(attempts).toEqual([1, 2, 3, 4, 5]);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.data).toBe('poison');
    expect(dead[0]?.attributes.why).toBe('test');
  });

  it.concurrent('keeps the lease of a message that waits for a busy handler past one ack deadline', async () => {
    const { bus, topic, sub } = await setup();
    const holdMs = 9_000; // each handler finishes within its 10 s deadline...
    const got: Delivery[] = [];
    const s = bus.subscribe(
      sub,
      async (d) => {
        got.push(d);
        await new Promise((r) => setTimeout(r, holdMs));
        d.ack();
      },
      { maxInFlight: 1, ackDeadlineMs: 10_000 },
    );
    // ...but the second message, pulled with the first, is acked about 18 s after it arrived.
    await bus.publish(topic, [{ data: 'a' }, { data: 'b' }]);
    await eventually('both handled', () => got.length >= 2, 40_000);
    await new Promise((r) => setTimeout(r, holdMs + 2_000)); // time for a wrongful redelivery to show
    const stats = bus.stats().subscriptions[0];
    await s.close();
    await bus.close();
    expect(got.map((d) => [d.data, d.deliveryAttempt]).sort()).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    expect(stats).toMatchObject({ delivered: 2, acked: 2, expired: 0, redelivered: 0 });
  }, 60_000);

  it.concurrent('keeps the lease of a message whose handler runs longer than the ack deadline: delivered once, its ack counts', async () => {
    const { bus, topic, sub } = await setup();
    const got: Delivery[] = [];
    const s = bus.subscribe(
      sub,
      async (d) => {
        got.push(d);
        await new Promise((r) => setTimeout(r, 14_000)); // past the 10 s deadline
        d.ack();
      },
      { maxInFlight: 1, ackDeadlineMs: 10_000 },
    );
    await bus.publish(topic, [{ data: 'slow' }]);
    await eventually('the slow handler to ack', () => bus.stats().subscriptions[0]?.acked === 1, 40_000);
    await new Promise((r) => setTimeout(r, 3_000)); // time for a wrongful redelivery to show
    const stats = bus.stats().subscriptions[0];
    await s.close();
    await bus.close();
    expect(got.map((d) => [d.data, d.deliveryAttempt])).toEqual([['slow', 1]]);
    expect(stats).toMatchObject({ delivered: 1, acked: 1, ackedMessages: 1, expired: 0, redelivered: 0, nacked: 0 });
  }, 60_000);

  it.concurrent('gives the message back when its handler is still running at the maximum lease', async () => {
    const { bus, topic, sub } = await setup(5, 12_000);
    const got: Delivery[] = [];
    const s = bus.subscribe(
      sub,
      async (d) => {
        got.push(d);
        if (d.deliveryAttempt === 1) await new Promise((r) => setTimeout(r, 20_000)); // stuck past the 12 s lease
        d.ack(); // late for the first delivery: ignored
      },
      { maxInFlight: 2, ackDeadlineMs: 10_000 },
    );
    await bus.publish(topic, [{ data: 'stuck' }]);
    await eventually('the redelivery to be acked', () => got.length >= 2 && bus.stats().subscriptions[0]?.acked === 1, 40_000);
    await new Promise((r) => setTimeout(r, 9_000)); // the first handler's late ack
    const stats = bus.stats().subscriptions[0];
    await s.close();
    await bus.close();
    expect(got.map((d) => d.deliveryAttempt)).toEqual([1, 2]);
    expect(stats).toMatchObject({ delivered: 2, acked: 1, expired: 1, redelivered: 1 });
  }, 60_000);

  it.concurrent('never has more than maxInFlight deliveries with the handler', async () => {
    const { bus, topic, sub } = await setup();
    const maxInFlight = 3;
    let inFlight = 0;
    let inFlightMax = 0;
    const acked = new Set<string>();
    const s = bus.subscribe(
      sub,
      async (d) => {
        inFlight++;
        inFlightMax = Math.max(inFlightMax, inFlight);
        await new Promise((r) => setTimeout(r, 15));
        inFlight--;
        acked.add(d.data);
        d.ack();
      },
      { maxInFlight, ackDeadlineMs: 10_000 },
    );
    await bus.publish(topic, Array.from({ length: 60 }, (_, i) => ({ data: String(i) })));
    await eventually('60 acks', () => acked.size >= 60);
    await s.close();
    await bus.close();
    expect(acked.size).toBe(60);
    expect(inFlightMax).toBeLessThanOrEqual(maxInFlight);
    expect(inFlightMax).toBeGreaterThan(1); // the gate allows parallelism, it does not serialize
  });
});
