// Proves the outbox relay survives failures of the store and the bus: when the outbox read, a
// publish or the delete fails a few times and then works, every row is still published and the
// outbox ends empty, with no unhandled rejection (vitest fails a run on one; the test also listens
// itself); each failure is counted and retried after a wait that doubles per failure in a row and
// stays within RELAY_LIMITS.retryBackoffMsMax. It fails if a failure escapes the relay, drops a
// row, or retries at once or without bound on the wait.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { BusMessage, Clock, MessageBus, OutboxMessage, Store } from '../core/ports.ts';
import { createCounters, type PipelineCounters } from './context.ts';
import { RELAY_LIMITS, createOutboxRelay, relayBackoffMs } from './outbox-relay.ts';
import { noProbe } from './probe.ts';

interface Faults {
  read?: number;
  publish?: number;
  delete?: number;
}

/** An outbox of `rows` rows whose read, publish and delete each fail the given number of times first. */
function world(rows: number, faults: Faults) {
  const outbox = new Map<string, OutboxMessage>(Array.from({ length: rows }, (_, i) => [`o${i}`, { outboxId: `o${i}`, topic: 'settled', data: `m${i}` }]));
  const left = { read: faults.read ?? 0, publish: faults.publish ?? 0, delete: faults.delete ?? 0 };
  const fail = (what: keyof typeof left): void => {
    if (left[what] > 0) {
      left[what]--;
      throw new Error(`${what} failed`);
    }
  };
  const store = {
    async readOutbox(limit: number) {
      fail('read');
      return [...outbox.values()].slice(0, limit);
    },
    async deleteOutbox(ids: readonly string[]) {
      fail('delete');
      for (const id of ids) outbox.delete(id);
    },
  } as unknown as Store;
  const published: BusMessage[] = [];
  const bus: MessageBus = {
    async publish(_topic, messages) {
      fail('publish');
      published.push(...messages);
    },
    subscribe: () => ({ close: async () => undefined }),
    close: async () => undefined,
  };
  const sleeps: number[] = [];
  // Waits are recorded, not slept: a macrotask each, so the relay's loop cannot starve the test.
  const clock: Clock = { nowMs: () => 0, sleep: (ms) => new Promise<void>((r) => (sleeps.push(ms), setImmediate(r))) };
  const counters: PipelineCounters = createCounters();
  const errors: string[] = [];
  const relay = createOutboxRelay({ store, bus, clock, probe: noProbe, counters, onError: (e) => errors.push(String(e)) });
  return { outbox, published, sleeps, counters, errors, relay };
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** Lets pending rejections surface (Node reports them after the microtask queue drains). */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

/**
 * Kicks the relay as a settlement does (nobody awaits it) and waits, in real time but with the
 * relay's waits recorded rather than slept, until the outbox is empty; the bound only keeps a
 * broken relay from hanging the test.
 */
async function kickAndDrain(w: ReturnType<typeof world>): Promise<void> {
  w.relay.kick();
  const start = Date.now();
  while (w.outbox.size > 0 && Date.now() - start < 2_000) await settle();
  await settle();
}

it.each([
  ['the outbox read', { read: 3 }],
  ['the publish', { publish: 3 }],
  ['the delete', { delete: 3 }],
  ['each step', { read: 2, publish: 2, delete: 2 }],
])('relays every row when %s fails a few times first, without an unhandled rejection', async (_what, faults: Faults) => {
  const w = world(7, faults);
  await kickAndDrain(w);
  expect(unhandled).toEqual([]);
  expect(w.outbox.size).toBe(0);
  await w.relay.idle();
  expect(new Set(w.published.map((m) => m.data))).toEqual(new Set(Array.from({ length: 7 }, (_, i) => `m${i}`)));
  const failures = (faults.read ?? 0) + (faults.publish ?? 0) + (faults.delete ?? 0);
  expect(w.counters.outboxRelayErrors).toBe(failures);
  expect(w.errors).toHaveLength(failures);
  // Every poll fails until the faults run out (the read comes first in each poll): a wait after
  // each failure, doubling from the minimum.
  expect(w.sleeps.slice(0, failures)).toEqual(Array.from({ length: failures }, (_, i) => RELAY_LIMITS.retryBackoffMsMin * 2 ** i));
});

it('doubles the wait per failure in a row and holds it at the maximum, then relays once the store recovers', async () => {
  const w = world(2, { read: 12 });
  await kickAndDrain(w);
  expect(unhandled).toEqual([]);
  await w.relay.idle();
  expect(w.sleeps.slice(0, 12)).toEqual([50, 100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000, 5_000, 5_000]);
  expect(w.outbox.size).toBe(0);
  expect(w.published.map((m) => m.data).sort()).toEqual(['m0', 'm1']);
  expect(relayBackoffMs(1_000)).toBe(RELAY_LIMITS.retryBackoffMsMax);
});
