// The per-subscriber queues against a plain-array model, over random interleavings of offers and
// writer takes (fast-check): what the writer takes is exactly what the model says (order kept, the
// oldest dropped first when bounded), depth and bytes match, and drops are counted one by one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeliveryPolicy, Outbound, SocketPort, SubscriberQueue } from '../contracts.ts';
import { createByteCapPolicy } from './byte-cap.ts';
import { createDropOldestPolicy } from './drop-oldest.ts';
import { createEvictAfterPolicy } from './evict-after.ts';
import { createUnboundedPolicy } from './unbounded.ts';

const socket: SocketPort = { bufferedBytes: () => 0, whenBelow: () => Promise.resolve(), close: () => {}, isOpen: true };
const frame = (n: number, bytes: number): Outbound => ({ kind: 'odds', raceId: 'R', payload: n, bytes, enteredAtMs: 0, originAtMs: 0 });

type Step = { readonly op: 'offer'; readonly bytes: number } | { readonly op: 'take' };
// Offers outnumber takes so queues grow past the ring buffer's first sizes with the head mid-ring.
const offer = fc.record({ op: fc.constant('offer' as const), bytes: fc.integer({ min: 1, max: 5_000 }) });
const take = fc.constant({ op: 'take' as const });
const steps = fc.array(fc.oneof({ arbitrary: offer, weight: 3 }, { arbitrary: take, weight: 2 }), { maxLength: 400, size: 'max' });

/** Runs the steps against a policy's queue and a model bounded at `capacity` (Infinity: unbounded). */
async function check(policy: DeliveryPolicy, capacity: number, run: readonly Step[]): Promise<void> {
  const q: SubscriberQueue = policy.queueFor({ id: 's', userId: 'u', socket });
  const it = q[Symbol.asyncIterator]();
  const model: Outbound[] = [];
  let drops = 0;
  let n = 0;
  for (const step of run) {
    if (step.op === 'offer') {
      const out = frame((n += 1), step.bytes);
      expect(q.offer(out)).toBeUndefined();
      model.push(out);
      if (model.length > capacity) {
        model.shift();
        drops += 1;
      }
    } else if (model.length > 0) {
      const got = await it.next();
      expect(got.value).toBe(model.shift());
    }
    expect(q.depth()).toEqual({ messages: model.length, bytes: model.reduce((s, o) => s + o.bytes, 0) });
  }
  expect(policy.stats().drops).toBe(drops);
  q.close();
  expect(await it.next()).toEqual({ done: true, value: undefined });
}

describe('per-subscriber queues against a model', () => {
  it('unbounded keeps every frame in order', async () => {
    await fc.assert(fc.asyncProperty(steps, (run) => check(createUnboundedPolicy(), Infinity, run)));
  });

  it('drop-oldest keeps the newest N in order and counts each drop', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 40 }), steps, (cap, run) => check(createDropOldestPolicy(cap), cap, run)));
  });

  it('evict-after, before its timer fires, behaves as drop-oldest', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 40 }), steps, (cap, run) => check(createEvictAfterPolicy(cap, 3_600_000), cap, run)));
  });

  it('a frame offered to a waiting writer goes straight to it', async () => {
    const q = createDropOldestPolicy(1).queueFor({ id: 's', userId: 'u', socket });
    const waiting = q[Symbol.asyncIterator]().next();
    q.offer(frame(1, 10));
    q.offer(frame(2, 10));
    expect((await waiting).value).toMatchObject({ payload: 1 });
    expect(q.depth()).toEqual({ messages: 1, bytes: 10 });
  });
});

describe('eviction of a connection with several subscriptions', () => {
  /** A socket that goes from open to closing on its first close, as ws does. */
  function closingSocket(): SocketPort & { closes: number } {
    const s = { closes: 0, bufferedBytes: () => 0, whenBelow: () => Promise.resolve(), close: () => void (s.closes += 1), get isOpen() { return s.closes === 0; } };
    return s;
  }

  it('counts one eviction per connection under the byte cap', () => {
    const policy = createByteCapPolicy(100);
    const shared = closingSocket();
    const a = policy.queueFor({ id: 'a', userId: 'u', socket: shared });
    const b = policy.queueFor({ id: 'b', userId: 'u', socket: shared });
    for (const q of [a, b]) for (let n = 0; n < 3; n += 1) q.offer(frame(n, 60));
    expect(shared.closes).toBe(1);
    expect(policy.stats().evictions).toBe(1);
    expect(b.depth().messages).toBe(0);
  });

  it('counts one eviction per connection under evict-after', async () => {
    const policy = createEvictAfterPolicy(1, 20);
    const shared = closingSocket();
    const queues = ['a', 'b'].map((id) => policy.queueFor({ id, userId: 'u', socket: shared }));
    for (const q of queues) for (let n = 0; n < 2; n += 1) q.offer(frame(n, 10));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(shared.closes).toBe(1);
    expect(policy.stats().evictions).toBe(1);
    expect(queues.map((q) => q.depth().messages)).toEqual([0, 0]);
  });
});
