// Each delivery policy against a client that stalls on a REAL socket: a raw TCP client completes
// the WebSocket handshake and never reads again, so the kernel buffers on both sides fill (about
// 4 MB on loopback) and the server's writer stops, exactly as in production. A healthy `ws` client
// watches the same race on the same dispatcher. Frames are 64 KiB so the stall appears within
// about a hundred frames. Only the policy differs between the tests.
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryPolicy } from '../contracts.ts';
import { createDispatcher, type Dispatcher } from '../dispatcher.ts';
import { healthyClient, oddsFrame, sleep, stalledClient, startHarness, waitFor, type Harness, type HealthyClient, type ServerSideSubscription, type StalledClient } from './_fixtures/ws-harness.ts';
import { parsePolicy, SLOW_CONSUMER_CLOSE } from './index.ts';

const FRAME_BYTES = 64 * 1024;
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function policy(spec: string): DeliveryPolicy {
  const r = parsePolicy(spec);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

interface World {
  readonly h: Harness;
  readonly d: Dispatcher;
  readonly healthy: HealthyClient;
  readonly stalled: StalledClient;
  /** The stalled client's subscription as the server sees it. */
  readonly stalledSub: ServerSideSubscription;
  readonly log: string[];
}

let open: World | undefined;
afterEach(async () => {
  open?.stalled.close();
  open?.healthy.close();
  await open?.h.close();
  open = undefined;
});

async function world(spec: string): Promise<World> {
  const log: string[] = [];
  const d = createDispatcher(policy(spec), { log: (line) => log.push(line) });
  const h = await startHarness(d);
  const healthy = await healthyClient(h.url, 'fast', 'R1');
  const stalled = await stalledClient(h.url, 'stuck', 'R1');
  expect(await waitFor(() => d.snapshot().subscriptions === 2, 2_000)).toBe(true);
  const stalledSub = [...h.subscriptions.values()].find((s) => s.userId === 'stuck') as ServerSideSubscription;
  open = { h, d, healthy, stalled, stalledSub, log };
  return open;
}

/**
 * Delivers frames `from..to` as a non-blocking intake would, asserting the dispatcher never returns
 * a promise. It pauses after every BURST frames, so a bounded queue larger than BURST never
 * overflows for the healthy client, whose writer takes one frame per completed send.
 */
const BURST = 4;
async function deliverAll(d: Dispatcher, from: number, to: number): Promise<void> {
  for (let seq = from; seq <= to; seq += 1) {
    expect(d.deliver(oddsFrame('R1', seq, FRAME_BYTES))).toBeUndefined();
    if (seq % BURST === 0) await sleep(1);
  }
}

/** Waits until the stalled subscriber's writer has stopped (its count of written frames holds for 200 ms). */
async function writerStopped(sub: ServerSideSubscription): Promise<number> {
  let seen = -1;
  while (seen !== sub.written.length) {
    seen = sub.written.length;
    await sleep(200);
  }
  return seen;
}

describe('delivery policies with a stalled client on a real socket', () => {
  it('unbounded: the stalled queue grows with every frame, the healthy client gets all, nothing is dropped', async () => {
    const { d, healthy, stalled, stalledSub } = await world('unbounded');
    await deliverAll(d, 1, 300);
    expect(await waitFor(() => healthy.seqs.length === 300, 5_000)).toBe(true);
    const written = await writerStopped(stalledSub);
    expect(stalledSub.socketBufferedBytes()).toBeGreaterThan(0); // one frame stuck in the socket
    // Everything the writer did not take (written, plus the one in flight) is queued.
    expect(d.snapshot().deepestQueueMessages).toBe(300 - written - 1);
    await deliverAll(d, 301, 400);
    expect(d.snapshot().deepestQueueMessages).toBe(400 - written - 1);
    expect(d.snapshot().deepestQueueBytes).toBeGreaterThan((400 - written - 1) * (FRAME_BYTES - 64));
    const stats = d.policy.stats();
    expect(stats).toMatchObject({ drops: 0, evictions: 0, maxQueueMessages: 400 - written - 1 });
    // Once it reads again, it gets every frame in order: unbounded loses nothing, it only grows.
    stalled.resume();
    expect(await waitFor(() => stalled.seqs.length === 400, 5_000)).toBe(true);
    expect(stalled.seqs).toEqual(range(1, 400));
    expect(healthy.seqs).toEqual(range(1, 400));
  });

  it('per-subscriber:N:drop-oldest: the stalled queue keeps the newest N, the rest is counted as drops', async () => {
    const { d, healthy, stalled, stalledSub } = await world('per-subscriber:16:drop-oldest');
    await deliverAll(d, 1, 300);
    expect(await waitFor(() => healthy.seqs.length === 300, 5_000)).toBe(true);
    const written = await writerStopped(stalledSub);
    const taken = written + 1; // written, plus the one in flight
    expect(d.snapshot().deepestQueueMessages).toBe(16);
    expect(d.policy.stats()).toMatchObject({ drops: 300 - taken - 16, evictions: 0, maxQueueMessages: 16 });
    stalled.resume();
    expect(await waitFor(() => stalled.seqs.length === taken + 16, 5_000)).toBe(true);
    expect(stalled.seqs).toEqual([...range(1, taken), ...range(285, 300)]);
    expect(healthy.seqs).toEqual(range(1, 300));
    expect(stalledSub.closedWith).toBeUndefined();
  });

  it('per-subscriber:N:evict-after:MS: the stalled one is closed "slow consumer" while the healthy one keeps receiving', async () => {
    const { d, healthy, stalledSub } = await world('per-subscriber:16:evict-after:300');
    const deliveredAt: number[] = [];
    for (let seq = 1; seq <= 250; seq += 1) {
      expect(d.deliver(oddsFrame('R1', seq, FRAME_BYTES))).toBeUndefined();
      deliveredAt[seq] = Date.now();
      await sleep(4);
    }
    expect(await waitFor(() => healthy.seqs.length === 250, 5_000)).toBe(true);
    expect(healthy.seqs).toEqual(range(1, 250));
    expect(healthy.closed).toBeUndefined();
    expect(stalledSub.closedWith).toMatchObject({ code: SLOW_CONSUMER_CLOSE.code, reason: 'slow consumer' });
    expect(SLOW_CONSUMER_CLOSE.code).toBe(4008);
    const stats = d.policy.stats();
    expect(stats.evictions).toBe(1);
    expect(stats.timeToEvictMs[0]).toBeGreaterThanOrEqual(300);
    expect(stats.maxQueueMessages).toBe(16);
    // The eviction came mid-stream and the healthy client kept receiving what followed it.
    const evictedAt = stalledSub.closedWith?.atMs ?? Infinity;
    expect(deliveredAt.filter((at) => at > evictedAt).length).toBeGreaterThan(20);
    expect(await waitFor(() => d.snapshot().subscriptions === 1, 2_000)).toBe(true);
  });

  it('per-subscriber:N:evict-after:MS: a subscriber that drains in time is not evicted', async () => {
    const { d, healthy, stalled, stalledSub } = await world('per-subscriber:16:evict-after:1000');
    await deliverAll(d, 1, 150);
    await writerStopped(stalledSub);
    stalled.resume(); // well before the 1 s deadline
    expect(await waitFor(() => stalled.seqs.length >= 16 && d.snapshot().queuedMessages === 0, 3_000)).toBe(true);
    await sleep(1_200);
    expect(stalledSub.closedWith).toBeUndefined();
    expect(d.policy.stats().evictions).toBe(0);
    expect(healthy.seqs).toEqual(range(1, 150));
  });

  it('per-subscriber:N:evict-after:MS with several stalled clients: each is evicted once, no healthy one misses a frame', async () => {
    const d = createDispatcher(policy('per-subscriber:16:evict-after:300'));
    const h = await startHarness(d);
    const healthy = await Promise.all(Array.from({ length: 12 }, (_, i) => healthyClient(h.url, `fast-${i}`, 'R1')));
    const stalled = await Promise.all(Array.from({ length: 3 }, (_, i) => stalledClient(h.url, `stuck-${i}`, 'R1')));
    try {
      expect(await waitFor(() => d.snapshot().subscriptions === 15, 3_000)).toBe(true);
      for (let seq = 1; seq <= 250; seq += 1) {
        expect(d.deliver(oddsFrame('R1', seq, FRAME_BYTES))).toBeUndefined();
        await sleep(seq % BURST === 0 ? 4 : 0);
      }
      expect(await waitFor(() => healthy.every((c) => c.seqs.length === 250), 10_000)).toBe(true);
      for (const c of healthy) expect(c.seqs).toEqual(range(1, 250));
      const closed = [...h.subscriptions.values()].filter((s) => s.closedWith !== undefined);
      expect(closed.map((s) => s.userId).sort()).toEqual(['stuck-0', 'stuck-1', 'stuck-2']);
      expect(closed.every((s) => s.closedWith?.code === 4008)).toBe(true);
      expect(d.policy.stats().evictions).toBe(3);
    } finally {
      for (const c of [...healthy, ...stalled]) c.close();
      await h.close();
    }
  });

  it('bytes:B:disconnect: the stalled one is closed "slow consumer" once it owes more than B bytes', async () => {
    const cap = 1024 * 1024;
    const { d, healthy, stalledSub } = await world('bytes:1MiB:disconnect');
    await deliverAll(d, 1, 200);
    expect(await waitFor(() => healthy.seqs.length === 200, 5_000)).toBe(true);
    expect(healthy.seqs).toEqual(range(1, 200));
    expect(stalledSub.closedWith).toMatchObject({ code: 4008, reason: 'slow consumer' });
    const stats = d.policy.stats();
    expect(stats.evictions).toBe(1);
    expect(stats.drops).toBe(0);
    expect(stats.maxQueueBytes).toBeLessThanOrEqual(cap);
    expect(stats.maxQueueBytes).toBeGreaterThan(cap - 2 * FRAME_BYTES - 1024);
    expect(await waitFor(() => d.snapshot().subscriptions === 1, 2_000)).toBe(true);
  });

  it('shared-blocking without a stalled client: every frame reaches every subscriber in order, nothing dropped', async () => {
    const log: string[] = [];
    const d = createDispatcher(policy('shared-blocking:10:300'), { log: (line) => log.push(line) });
    const h = await startHarness(d);
    const a = await healthyClient(h.url, 'a', 'R1');
    const b = await healthyClient(h.url, 'b', 'R1');
    try {
      expect(await waitFor(() => d.snapshot().subscriptions === 2, 2_000)).toBe(true);
      for (let seq = 1; seq <= 200; seq += 1) await d.deliver(oddsFrame('R1', seq, FRAME_BYTES));
      expect(await waitFor(() => a.seqs.length === 200 && b.seqs.length === 200, 5_000)).toBe(true);
      expect(a.seqs).toEqual(range(1, 200));
      expect(b.seqs).toEqual(range(1, 200));
      expect(d.policy.stats().drops).toBe(0);
      expect(log).toEqual([]);
    } finally {
      a.close();
      b.close();
      await h.close();
    }
  });

  it('shared-blocking: one stalled client stops the healthy one too, and the full intake logs "channel is full"', async () => {
    const { d, healthy, stalled, log } = await world('shared-blocking:10:300');
    let offered = 0;
    let running = true;
    // The intake: one message at a time, waiting whenever the dispatcher makes it wait.
    const intake = (async () => {
      for (let seq = 1; running; seq += 1) {
        offered = seq;
        await d.deliver(oddsFrame('R1', seq, FRAME_BYTES));
        await sleep(1);
      }
    })();
    expect(await waitFor(() => log.length >= 2, 8_000)).toBe(true);
    const before = healthy.seqs.length;
    const offeredBefore = offered;
    await sleep(1_000);
    // A whole second of intake and not one more frame for the healthy client: the incident.
    expect(healthy.seqs.length).toBe(before);
    expect(offered).toBeGreaterThan(offeredBefore);
    expect(offered).toBeGreaterThan(before + 10);
    expect(healthy.seqs).toEqual(range(1, before));
    expect(log[0]).toMatch(/channel is full for 300 ms \(message is dropped\): odds race R1/);
    expect(d.policy.stats().drops).toBe(log.filter((l) => l.includes('channel is full')).length);
    expect(d.policy.stats().evictions).toBe(0);
    // The stall is the stalled client's doing: once it is gone, the healthy client moves again.
    stalled.close();
    expect(await waitFor(() => healthy.seqs.length > before + 5, 5_000)).toBe(true);
    running = false;
    await open?.h.close();
    await intake;
  });
});
