// The dispatcher's routing, on in-memory sockets: a notification reaches every notification
// subscription of its user and nobody else, odds reach every watcher of their race and nobody
// else, and a subscription leaves the routes however it ends (remove, close, iterator return).
import { describe, expect, it } from 'vitest';
import type { Outbound, SocketPort, SubscriberInfo, SubscriberQueue } from './contracts.ts';
import { createDispatcher } from './dispatcher.ts';
import { parsePolicy } from './policies/index.ts';

const idleSocket = (): SocketPort => ({ bufferedBytes: () => 0, whenBelow: () => Promise.resolve(), close: () => {}, isOpen: true });
const sub = (id: string, userId: string): SubscriberInfo => ({ id, userId, socket: idleSocket() });

const note = (userId: string, seq: number): Outbound => ({ kind: 'notification', raceId: 'R1', userId, seq, payload: { seq }, bytes: 10, enteredAtMs: 0, originAtMs: 0 });
const odds = (raceId: string): Outbound => ({ kind: 'odds', raceId, payload: {}, bytes: 100, enteredAtMs: 0, originAtMs: 0 });

function unbounded() {
  const p = parsePolicy('unbounded');
  if (!p.ok) throw new Error(p.error.message);
  return createDispatcher(p.value);
}

async function take(q: SubscriberQueue, n: number): Promise<Outbound[]> {
  const it = q[Symbol.asyncIterator]();
  const got: Outbound[] = [];
  for (let i = 0; i < n; i += 1) got.push((await it.next()).value as Outbound);
  return got;
}

describe('createDispatcher', () => {
  it('routes a notification to every subscription of its user only', async () => {
    const d = unbounded();
    const a1 = d.add(sub('a1', 'alice'));
    const a2 = d.add(sub('a2', 'alice'));
    const b = d.add(sub('b', 'bob'));
    const w = d.add(sub('w', 'alice'), 'R1');
    expect(d.deliver(note('alice', 1))).toBeUndefined();
    d.deliver(note('alice', 2));
    d.deliver(note('carol', 1));
    expect((await take(a1, 2)).map((o) => o.seq)).toEqual([1, 2]);
    expect((await take(a2, 2)).map((o) => o.seq)).toEqual([1, 2]);
    expect(b.depth().messages).toBe(0);
    expect(w.depth().messages).toBe(0);
  });

  it('routes odds to every watcher of the race only', () => {
    const d = unbounded();
    const w1 = d.add(sub('w1', 'alice'), 'R1');
    const w2 = d.add(sub('w2', 'bob'), 'R1');
    const w3 = d.add(sub('w3', 'bob'), 'R2');
    const n = d.add(sub('n', 'bob'));
    d.deliver(odds('R1'));
    expect([w1, w2, w3, n].map((q) => q.depth().messages)).toEqual([1, 1, 0, 0]);
    expect(d.snapshot()).toMatchObject({ subscriptions: 4, queuedMessages: 2, queuedBytes: 200, deepestQueueMessages: 1 });
  });

  it('forgets a subscription on remove, on close and when the writer returns the iterator', async () => {
    const d = unbounded();
    d.add(sub('x', 'u'));
    const y = d.add(sub('y', 'u'));
    const z = d.add(sub('z', 'u'));
    d.remove('x');
    y.close();
    await z[Symbol.asyncIterator]().return?.();
    d.deliver(note('u', 1));
    expect(d.snapshot().subscriptions).toBe(0);
    expect(d.snapshot().queuedMessages).toBe(0);
  });

  it('replaces a subscription added twice under the same id', () => {
    const d = unbounded();
    const first = d.add(sub('s', 'u'));
    const second = d.add(sub('s', 'u'));
    d.deliver(note('u', 1));
    expect(first.depth().messages).toBe(0);
    expect(second.depth().messages).toBe(1);
    expect(d.snapshot().subscriptions).toBe(1);
  });
});

describe('createDispatcher ids', () => {
  it('a replaced subscription ending late does not take its successor out of the routes', async () => {
    const d = unbounded();
    const first = d.add(sub('s', 'u'));
    const second = d.add(sub('s', 'u'));
    await first[Symbol.asyncIterator]().return?.();
    d.deliver(note('u', 1));
    expect(second.depth().messages).toBe(1);
  });
});

describe('createDispatcher onWritten', () => {
  it('reports a frame written when the writer asks for the next one, with the time of that ask', async () => {
    let now = 1_000;
    const p = parsePolicy('unbounded');
    if (!p.ok) throw new Error(p.error.message);
    const d = createDispatcher(p.value, { nowMs: () => now });
    const written: [number | undefined, number][] = [];
    const stop = d.onWritten((out, at) => written.push([out.seq, at]));
    const it = d.add(sub('a', 'u'))[Symbol.asyncIterator]();
    d.deliver(note('u', 1));
    d.deliver(note('u', 2));
    await it.next(); // takes 1
    expect(written).toEqual([]);
    now = 1_005;
    await it.next(); // 1 was written; takes 2
    expect(written).toEqual([[1, 1_005]]);
    stop();
    now = 1_009;
    const pending = it.next(); // 2 written, but nobody listens any more
    expect(written).toEqual([[1, 1_005]]);
    d.remove('a');
    expect((await pending).done).toBe(true);
  });
});
