// The MessageBus contract every backend must pass (memory, Pub/Sub emulator, real Pub/Sub): a
// vitest describe block in real time. Each test makes a fresh bus, tags its messages with a nonce
// and acks foreign messages, so it also works against a shared emulator with leftovers.
import { describe, expect, it } from 'vitest';
import type { Delivery, MessageBus } from '../../core/ports.ts';
import { allSubscriptions, deadLetterTopicOf, isAuditSubscription, SUBSCRIPTIONS, TOPICS, type SubscriptionSpec } from '../../core/topology.ts';

export interface BusUnderTest {
  readonly bus: MessageBus;
  cleanup(): Promise<void>;
}

export interface BusContractOptions {
  /** Ack deadline for the expiry test: short for memory; Pub/Sub's minimum is 10 s. */
  readonly ackDeadlineMs: number;
  /** Ack deadline for tests that ack promptly. */
  readonly normalAckDeadlineMs?: number;
  /** How long to wait for an expected delivery before failing. */
  readonly waitMs?: number;
  /** Per-test timeout. */
  readonly testTimeoutMs?: number;
  /** The subscription specs the bus was provisioned with (default: topology's allSubscriptions()). */
  readonly subscriptions?: readonly SubscriptionSpec[];
  /** The bus adds `deadLetterReason` and the delivery count to dead-lettered messages (memory does). */
  readonly deadLetterAttributes?: boolean;
}

const POLL_MS = 5;
let nonceCounter = 0;

function nonce(): string {
  return `n${Date.now().toString(36)}${process.pid.toString(36)}${(nonceCounter++).toString(36)}`;
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Tagged {
  readonly tag: string;
  readonly n: number;
}

/** Parses a message of this test; foreign messages (other tests, leftovers) are acked and dropped. */
function mine(d: Delivery, tag: string): Tagged | undefined {
  let value: unknown;
  try {
    value = JSON.parse(d.data);
  } catch {
    value = undefined;
  }
  const t = value as Partial<Tagged> | undefined;
  if (t?.tag === tag && typeof t.n === 'number') return t as Tagged;
  d.ack();
  return undefined;
}

export function describeBusContract(name: string, makeBus: () => Promise<BusUnderTest>, opts: BusContractOptions): void {
  const waitMs = opts.waitMs ?? Math.max(10_000, opts.ackDeadlineMs * 4);
  const timeout = opts.testTimeoutMs ?? waitMs * 3;
  const normalDeadlineMs = opts.normalAckDeadlineMs ?? Math.max(opts.ackDeadlineMs, 10_000);
  const specs = opts.subscriptions ?? allSubscriptions();
  const settleSpec = specs.find((s) => s.name === SUBSCRIPTIONS.settle.name) ?? SUBSCRIPTIONS.settle;
  const auditSpec = specs.find((s) => s.topic === deadLetterTopicOf(TOPICS.settleRequests) && isAuditSubscription(s.name));
  const topic = settleSpec.topic;

  const withBus = async (body: (bus: MessageBus, tag: string) => Promise<void>): Promise<void> => {
    const { bus, cleanup } = await makeBus();
    try {
      await body(bus, nonce());
    } finally {
      await cleanup();
    }
  };
  const payloads = (tag: string, count: number) => Array.from({ length: count }, (_, n) => ({ data: JSON.stringify({ tag, n }), attributes: { n: String(n), tag } }));

  describe(`MessageBus contract: ${name}`, () => {
    it('delivers every published message at least once, with its attributes', () =>
      withBus(async (bus, tag) => {
        const seen = new Map<number, Delivery>();
        const handle = bus.subscribe(
          settleSpec.name,
          async (d) => {
            const t = mine(d, tag);
            if (t === undefined) return;
            seen.set(t.n, d);
            d.ack();
          },
          { maxInFlight: 10, ackDeadlineMs: normalDeadlineMs },
        );
        await bus.publish(topic, payloads(tag, 25));
        await bus.publish(topic, payloads(tag, 50).slice(25));
        await waitFor('50 distinct messages', () => seen.size === 50, waitMs);
        for (const [n, d] of seen) {
          expect(d.attributes.n).toBe(String(n));
          expect(d.deliveryAttempt).toBeGreaterThanOrEqual(1);
          expect(typeof d.messageId).toBe('string');
          expect(Number.isFinite(d.publishTimeMs)).toBe(true);
        }
        expect(new Set([...seen.values()].map((d) => d.messageId)).size).toBe(50);
        await handle.close();
      }), timeout);

    it('redelivers a nacked message with a higher delivery attempt', () =>
      withBus(async (bus, tag) => {
        const deliveries: Delivery[] = [];
        const handle = bus.subscribe(
          settleSpec.name,
          async (d) => {
            if (mine(d, tag) === undefined) return;
            deliveries.push(d);
            if (deliveries.length === 1) d.nack();
            else d.ack();
          },
          { maxInFlight: 1, ackDeadlineMs: normalDeadlineMs },
        );
        await bus.publish(topic, payloads(tag, 1));
        await waitFor('a redelivery after nack', () => deliveries.length >= 2, waitMs);
        const [first, second] = deliveries as [Delivery, Delivery];
        expect(second.messageId).toBe(first.messageId);
        expect(second.deliveryAttempt).toBeGreaterThan(first.deliveryAttempt);
        await handle.close();
      }), timeout);

    it('redelivers a message whose ack deadline expired', () =>
      withBus(async (bus, tag) => {
        const deliveries: Delivery[] = [];
        const handle = bus.subscribe(
          settleSpec.name,
          async (d) => {
            if (mine(d, tag) === undefined) return;
            deliveries.push(d);
            if (deliveries.length >= 2) d.ack(); // the first delivery is neither acked nor nacked
          },
          { maxInFlight: 5, ackDeadlineMs: opts.ackDeadlineMs },
        );
        await bus.publish(topic, payloads(tag, 1));
        await waitFor('a redelivery after the ack deadline', () => deliveries.length >= 2, waitMs);
        const [first, second] = deliveries as [Delivery, Delivery];
        expect(second.messageId).toBe(first.messageId);
        expect(second.deliveryAttempt).toBeGreaterThan(first.deliveryAttempt);
        await handle.close();
      }), timeout);

    it('dead-letters a message after maxDeliveryAttempts, keeping its attributes', () =>
      withBus(async (bus, tag) => {
        expect(auditSpec, 'a subscription on the dead-letter topic').toBeDefined();
        const attempts: number[] = [];
        const dead: Delivery[] = [];
        const source = bus.subscribe(
          settleSpec.name,
          async (d) => {
            if (mine(d, tag) === undefined) return;
            attempts.push(d.deliveryAttempt);
            d.nack();
          },
          { maxInFlight: 1, ackDeadlineMs: normalDeadlineMs },
        );
        const audit = bus.subscribe(
          (auditSpec as SubscriptionSpec).name,
          async (d) => {
            if (mine(d, tag) === undefined) return;
            dead.push(d);
            d.ack();
          },
          { maxInFlight: 5, ackDeadlineMs: normalDeadlineMs },
        );
        await bus.publish(topic, [{ data: JSON.stringify({ tag, n: 0 }), attributes: { tag, kind: 'poison' } }]);
        await waitFor('the message on the dead-letter topic', () => dead.length >= 1, waitMs * 2);
        const d = dead[0] as Delivery;
        expect(d.attributes.kind).toBe('poison');
        expect(Math.max(...attempts)).toBe(settleSpec.maxDeliveryAttempts);
        if (opts.deadLetterAttributes === true) {
          expect(d.attributes.deadLetterReason).toBe('max-delivery-attempts');
          expect(d.attributes.CloudPubSubDeadLetterSourceDeliveryCount).toBe(String(settleSpec.maxDeliveryAttempts));
        }
        await source.close();
        await audit.close();
      }), timeout * 2);

    it('never has more than maxInFlight deliveries outstanding per subscriber', () =>
      withBus(async (bus, tag) => {
        const maxInFlight = 3;
        let inFlight = 0;
        let peak = 0;
        const done = new Set<number>();
        const handle = bus.subscribe(
          settleSpec.name,
          async (d) => {
            const t = mine(d, tag);
            if (t === undefined) return;
            inFlight++;
            peak = Math.max(peak, inFlight);
            await sleep(3);
            inFlight--;
            done.add(t.n);
            d.ack();
          },
          { maxInFlight, ackDeadlineMs: normalDeadlineMs },
        );
        await bus.publish(topic, payloads(tag, 30));
        await waitFor('30 messages handled', () => done.size === 30, waitMs);
        expect(peak).toBeLessThanOrEqual(maxInFlight);
        expect(peak).toBeGreaterThanOrEqual(1);
        await handle.close();
      }), timeout);

    it('shares one subscription between several subscribers', () =>
      withBus(async (bus, tag) => {
        const done = new Set<number>();
        // Messages of this test each subscriber handled: sharing means both get some.
        const handledBy = { a: 0, b: 0 };
        const handler = (who: keyof typeof handledBy) => async (d: Delivery) => {
          const t = mine(d, tag);
          if (t === undefined) return;
          handledBy[who]++;
          // Slow enough that one subscriber's two slots cannot drain the backlog alone.
          await sleep(10);
          done.add(t.n);
          d.ack();
        };
        const a = bus.subscribe(settleSpec.name, handler('a'), { maxInFlight: 2, ackDeadlineMs: normalDeadlineMs });
        const b = bus.subscribe(settleSpec.name, handler('b'), { maxInFlight: 2, ackDeadlineMs: normalDeadlineMs });
        // One message per publish, a few ms apart (as the pipeline's stages publish one user's
        // message at a time): the Pub/Sub emulator hands all messages of one publish request to
        // one streaming pull whatever its flow-control window, so a single 40-message request
        // went to one subscriber alone (emulators/README.md, quirks).
        for (const m of payloads(tag, 40)) {
          await bus.publish(topic, [m]);
          await sleep(5);
        }
        await waitFor('40 messages handled by two subscribers', () => done.size === 40, waitMs);
        expect([...done].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
        expect(handledBy.a, `subscriber a handled ${handledBy.a}, b ${handledBy.b}`).toBeGreaterThan(0);
        expect(handledBy.b, `subscriber a handled ${handledBy.a}, b ${handledBy.b}`).toBeGreaterThan(0);
        await a.close();
        await b.close();
      }), timeout);
  });
}
