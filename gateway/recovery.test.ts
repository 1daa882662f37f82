// The recovery sequencer against a fake live feed and the memory store's notification log: out of
// order, duplicated and lost live frames, a reconnect after eviction with the last number seen,
// and generated feeds (fast-check); the client must get every notification after its number,
// in order, once.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../backends/memory/store.ts';
import { settledBody } from '../backends/contract/notification-log-contract.ts';
import type { Store } from '../core/ports.ts';
import type { Outbound } from './contracts.ts';
import { liveNotificationFrame, sequenceNotifications } from './recovery.ts';

/** A live feed the test pushes frames into, ended by `end()` (an eviction or a closed socket). */
function fakeLive() {
  const frames: Outbound[] = [];
  const waiters: ((r: IteratorResult<Outbound>) => void)[] = [];
  let ended = false;
  const iterable: AsyncIterable<Outbound> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        const f = frames.shift();
        if (f !== undefined) return Promise.resolve({ done: false, value: f });
        if (ended) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => waiters.push(resolve));
      },
      return: () => {
        ended = true;
        return Promise.resolve({ done: true, value: undefined });
      },
    }),
  };
  return {
    iterable,
    push(f: Outbound) {
      const w = waiters.shift();
      if (w !== undefined) w({ done: false, value: f });
      else frames.push(f);
    },
    end() {
      ended = true;
      for (const w of waiters.splice(0)) w({ done: true, value: undefined });
    },
  };
}

const USER = 'u1';

/** Appends `n` notifications of USER to the log (races r1..rn) and returns their live frames by seq. */
async function logged(store: Store, from: number, to: number): Promise<Map<number, Outbound>> {
  const bodies = Array.from({ length: to - from + 1 }, (_, i) => settledBody(USER, `r${from + i}`));
  const seqs = await store.appendNotifications(bodies);
  return new Map(bodies.map((b, i) => [seqs[i] as number, liveNotificationFrame({ ...b, seq: seqs[i] as number }, 0)]));
}

async function collect(feed: AsyncIterable<Outbound>): Promise<number[]> {
  const out: number[] = [];
  for await (const f of feed) out.push(f.seq as number);
  return out;
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('recovery sequencer', () => {
  it('delivers the Store after afterSeq, then live frames, dropping duplicates of what the Store gave', async () => {
    const store = createMemoryStore();
    const frames = await logged(store, 1, 6);
    const live = fakeLive();
    const feed = sequenceNotifications(live.iterable, { userId: USER, afterSeq: 2, store, pageSize: 2 });
    const got = collect(feed);
    for (const s of [3, 4, 5, 6, 6, 3]) live.push(frames.get(s) as Outbound);
    live.end();
    expect(await got).toEqual([3, 4, 5, 6]);
    expect(feed.stats()).toMatchObject({ fromStore: 4, live: 0, duplicates: 6, missing: 0 });
  });

  it('fills a gap in the live frames from the Store before delivering past it, and drops the late frames', async () => {
    const store = createMemoryStore();
    const frames = await logged(store, 1, 3);
    const live = fakeLive();
    const feed = sequenceNotifications(live.iterable, { userId: USER, afterSeq: 3, store });
    const got = collect(feed);
    const later = await logged(store, 4, 9);
    // 4 arrives, 5 and 6 were dropped by the policy, 8 overtakes 7, then 7 and 5 arrive late, then 9.
    for (const s of [4, 8, 7, 5, 9]) live.push(later.get(s) as Outbound);
    live.end();
    expect(await got).toEqual(range(4, 9));
    expect(feed.stats()).toMatchObject({ fromStore: 3, live: 3, duplicates: 2, gapsFilled: 1, missing: 0 });
    expect(frames.size).toBe(3);
  });

  it('after an eviction, a reconnect with the last number seen gets what was missed, then live, once', async () => {
    const store = createMemoryStore();
    const first = await logged(store, 1, 3);
    const live1 = fakeLive();
    const feed1 = sequenceNotifications(live1.iterable, { userId: USER, afterSeq: 0, store });
    const seen: number[] = [];
    const reading = (async () => {
      for await (const f of feed1) {
        seen.push(f.seq as number);
        if (f.seq === 2) return; // the client stops reading here: the policy evicts it
      }
    })();
    live1.push(first.get(1) as Outbound);
    await reading;
    live1.end();
    // While it is away: 4..7 are published (it never sees them), then it reconnects after 2.
    const missed = await logged(store, 4, 7);
    const live2 = fakeLive();
    const feed2 = sequenceNotifications(live2.iterable, { userId: USER, afterSeq: seen[seen.length - 1] as number, store });
    const got = collect(feed2);
    const more = await logged(store, 8, 8);
    for (const f of [missed.get(6), missed.get(7), more.get(8)]) live2.push(f as Outbound);
    live2.end();
    const all = [...seen, ...(await got)];
    expect(all).toEqual(range(1, 8));
  });

  it('live only (no afterSeq): starts at the first live frame and still fills later gaps', async () => {
    const store = createMemoryStore();
    const frames = await logged(store, 1, 5);
    const live = fakeLive();
    const feed = sequenceNotifications(live.iterable, { userId: USER, afterSeq: undefined, store });
    const got = collect(feed);
    for (const s of [3, 5, 4]) live.push(frames.get(s) as Outbound);
    live.end();
    expect(await got).toEqual([3, 4, 5]);
  });

  it('passes frames without a number (not a user notification) on as they are', async () => {
    const store = createMemoryStore();
    const live = fakeLive();
    const feed = sequenceNotifications(live.iterable, { userId: USER, afterSeq: 0, store });
    const got = collect(feed);
    live.push({ kind: 'notification', raceId: 'r1', payload: {}, bytes: 2, enteredAtMs: 0, originAtMs: 0 });
    live.end();
    expect(await got).toEqual([undefined]);
  });

  it('with idleCheckMs, delivers a lost last notification from the Store when nothing live follows it', async () => {
    const store = createMemoryStore();
    const frames = await logged(store, 1, 3);
    const live = fakeLive();
    const feed = sequenceNotifications(live.iterable, { userId: USER, afterSeq: 0, store, idleCheckMs: 20 });
    const got: number[] = [];
    const reading = (async () => {
      for await (const f of feed) got.push(f.seq as number);
    })();
    await new Promise((r) => setTimeout(r, 30));
    // 4 is logged and its live frame is lost (a policy dropped it); nothing comes after it.
    await logged(store, 4, 4);
    live.push(frames.get(3) as Outbound);
    for (let i = 0; i < 100 && got.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    live.end();
    await reading;
    expect(got).toEqual([1, 2, 3, 4]);
    expect(feed.stats().idleChecks).toBeGreaterThan(0);
  });

  it('ends the live feed when the client stops reading (graphql-ws returns the iterator)', async () => {
    const store = createMemoryStore();
    let returned = false;
    const live: AsyncIterable<Outbound> = {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.resolve({ done: false, value: liveNotificationFrame({ ...settledBody(USER, 'r1'), seq: 1 }, 0) }),
        return: () => {
          returned = true;
          return Promise.resolve({ done: true, value: undefined });
        },
      }),
    };
    const feed = sequenceNotifications(live, { userId: USER, afterSeq: undefined, store });
    for await (const f of feed) if (f.seq === 1) break;
    expect(returned).toBe(true);
  });

  it('refuses a bad afterSeq or page size', () => {
    const store = createMemoryStore();
    expect(() => sequenceNotifications(fakeLive().iterable, { userId: USER, afterSeq: -1, store })).toThrow(/afterSeq/);
    expect(() => sequenceNotifications(fakeLive().iterable, { userId: USER, afterSeq: 0, store, pageSize: 0 })).toThrow(/page size/);
    expect(() => sequenceNotifications(fakeLive().iterable, { userId: USER, afterSeq: 0, store, idleCheckMs: 0 })).toThrow(/idleCheckMs/);
  });

  it('for any live feed (lost, duplicated, reordered frames), delivers afterSeq+1 .. the highest number seen, in order, once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 30 }),
        fc.nat(),
        fc.nat(),
        fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 7 }),
        async (n, kDraw, afterDraw, liveSeqs, pageSize) => {
          // The client subscribes when the log holds 1..k, after afterSeq <= k; then k+1..n are
          // logged and published, and the live path delivers some of 1..n in any order.
          const k = kDraw % (n + 1);
          const afterSeq = afterDraw % (k + 1);
          const store = createMemoryStore();
          const frames = k === 0 ? new Map<number, Outbound>() : await logged(store, 1, k);
          const live = fakeLive();
          const feed = sequenceNotifications(live.iterable, { userId: USER, afterSeq, store, pageSize });
          const got = collect(feed);
          await new Promise((r) => setTimeout(r, 0));
          if (n > k) for (const [seq, f] of await logged(store, k + 1, n)) frames.set(seq, f);
          const pushed = liveSeqs.filter((s) => s <= n);
          for (const s of pushed) live.push(frames.get(s) as Outbound);
          live.end();
          expect(await got).toEqual(range(afterSeq + 1, Math.max(k, ...pushed)));
          expect(feed.stats().missing).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});
