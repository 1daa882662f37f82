// Proves the local end of the Pub/Sub bus's leases (startSubscriber, pubsub-bus.ts) with a fake
// subscription and fake timers: a handler that runs past the ack deadline keeps its delivery (no
// nack, its ack counts), up to the maximum lease, where the delivery is nacked and its late ack
// ignored; a handler that returns without settling has its message nacked one deadline later (a
// crashed worker's message comes back); and a message delivered and acked twice counts once among
// the distinct acked messages. The emulator tests (pubsub-bus.test.ts) prove the renewal itself.
import { EventEmitter } from 'node:events';
import type { Message, Subscription } from '@google-cloud/pubsub';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { Delivery, DeliveryHandler } from '../../core/ports.ts';
import { newSubscriberCounters, startSubscriber, type SubscriberCounters } from './pubsub-bus.ts';

const DEADLINE_MS = 10_000;
const LEASE_MAX_MS = 60_000;

interface FakeMessage {
  readonly message: Message;
  readonly settledAs: string[];
}

function fakeMessage(id: string, deliveryAttempt = 1): FakeMessage {
  const settledAs: string[] = [];
  const message = { id, data: Buffer.from(id), attributes: {}, deliveryAttempt, publishTime: new Date(), received: Date.now(), ack: () => settledAs.push('ack'), nack: () => settledAs.push('nack') };
  return { message: message as unknown as Message, settledAs };
}

function subscriber(handler: DeliveryHandler): { emit: (m: FakeMessage) => void; counters: SubscriberCounters } {
  const sub = Object.assign(new EventEmitter(), { close: async () => undefined });
  const counters = newSubscriberCounters();
  startSubscriber(sub as unknown as Subscription, handler, { maxInFlight: 4, ackDeadlineMs: DEADLINE_MS, leaseMaxMs: LEASE_MAX_MS }, counters, () => undefined);
  return { emit: (m) => void sub.emit('message', m.message), counters };
}

/** A handler that holds each delivery until the test releases it (acking, or returning unsettled). */
function heldHandler(): { handler: DeliveryHandler; got: Delivery[]; release: (i: number, how: 'ack' | 'return') => void } {
  const got: Delivery[] = [];
  const releases: ((how: 'ack' | 'return') => void)[] = [];
  const handler: DeliveryHandler = (d) =>
    new Promise<void>((done) => {
      got.push(d);
      releases.push((how) => {
        if (how === 'ack') d.ack();
        done();
      });
    });
  return { handler, got, release: (i, how) => releases[i]?.(how) };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

it('keeps a delivery whose handler runs past the ack deadline, and counts its ack', async () => {
  const h = heldHandler();
  const { emit, counters } = subscriber(h.handler);
  const m = fakeMessage('slow');
  emit(m);
  await vi.advanceTimersByTimeAsync(5 * DEADLINE_MS);
  expect(m.settledAs).toEqual([]);
  expect(counters.inFlight).toBe(1);
  h.release(0, 'ack');
  await vi.advanceTimersByTimeAsync(LEASE_MAX_MS);
  expect(m.settledAs).toEqual(['ack']);
  expect(counters).toMatchObject({ delivered: 1, acked: 1, expired: 0, nacked: 0, inFlight: 0 });
});

it('nacks a delivery still with its handler at the maximum lease and ignores its late ack', async () => {
  const h = heldHandler();
  const { emit, counters } = subscriber(h.handler);
  const m = fakeMessage('stuck');
  emit(m);
  await vi.advanceTimersByTimeAsync(LEASE_MAX_MS - 1);
  expect(m.settledAs).toEqual([]);
  await vi.advanceTimersByTimeAsync(1);
  expect(m.settledAs).toEqual(['nack']);
  h.release(0, 'ack');
  await vi.advanceTimersByTimeAsync(0);
  expect(m.settledAs).toEqual(['nack']);
  expect(counters).toMatchObject({ acked: 0, expired: 1, inFlight: 0 });
  expect(counters.ackedIds.size).toBe(0);
});

it('gives back a message one deadline after its handler returned without settling it, unless acked before', async () => {
  const h = heldHandler();
  const { emit, counters } = subscriber(h.handler);
  const [crashed, handedOn] = [fakeMessage('crashed'), fakeMessage('handed-on')];
  emit(crashed);
  emit(handedOn);
  await vi.advanceTimersByTimeAsync(3 * DEADLINE_MS);
  h.release(0, 'return');
  h.release(1, 'return');
  await vi.advanceTimersByTimeAsync(DEADLINE_MS - 1);
  expect(crashed.settledAs).toEqual([]);
  h.got[1]?.ack(); // work handed elsewhere acks within the deadline
  await vi.advanceTimersByTimeAsync(1);
  expect(crashed.settledAs).toEqual(['nack']);
  expect(handedOn.settledAs).toEqual(['ack']);
  expect(counters).toMatchObject({ acked: 1, expired: 1, inFlight: 0 });
});

it('counts a message delivered and acked twice once among the distinct acked messages', async () => {
  const { emit, counters } = subscriber(async (d) => d.ack());
  emit(fakeMessage('m1'));
  emit(fakeMessage('m1', 2));
  emit(fakeMessage('m2'));
  await vi.advanceTimersByTimeAsync(0);
  expect(counters.acked).toBe(3);
  expect([...counters.ackedIds].sort()).toEqual(['m1', 'm2']);
});
