// The bounded shared channel of the incident, on its own: it passes messages through in order while
// the consumer keeps up, buffers up to its capacity behind a consumer that waits, holds senders back
// when full (first come, first in), and drops a message whose send waited longer than the timeout,
// logging "channel is full" and counting it.
import { describe, expect, it } from 'vitest';
import { createIntakeChannel } from './intake-channel.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A consumer that records what it got and waits on a gate the test opens. */
function gatedConsumer() {
  const got: number[] = [];
  let open: (() => void) | undefined;
  let gate = new Promise<void>((resolve) => (open = resolve));
  return {
    got,
    consume: (n: number): Promise<void> => {
      got.push(n);
      return gate;
    },
    release(): void {
      open?.();
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    releaseAll(): void {
      open?.();
      gate = Promise.resolve();
    },
  };
}

describe('createIntakeChannel', () => {
  it('passes every message through, in order, without making the sender wait, while the consumer keeps up', () => {
    const got: number[] = [];
    const ch = createIntakeChannel<number>({ capacity: 2, sendTimeoutMs: 10 }, (n) => void got.push(n));
    for (let i = 1; i <= 50; i += 1) expect(ch.send(i)).toBeUndefined();
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(ch.stats()).toEqual({ drops: 0, maxDepth: 1, waitingSenders: 0 });
  });

  it('buffers up to its capacity behind a waiting consumer, then holds senders back in arrival order', async () => {
    const c = gatedConsumer();
    const ch = createIntakeChannel<number>({ capacity: 3, sendTimeoutMs: 5_000 }, c.consume);
    expect(ch.send(1)).toBeUndefined(); // taken by the consumer at once
    for (const n of [2, 3, 4]) expect(ch.send(n)).toBeUndefined();
    expect(ch.depth()).toBe(3);
    const held = [5, 6].map((n) => ch.send(n));
    expect(held.every((p) => p instanceof Promise)).toBe(true);
    expect(ch.stats().waitingSenders).toBe(2);
    c.releaseAll();
    await Promise.all(held);
    await sleep(0);
    expect(c.got).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ch.stats().drops).toBe(0);
  });

  it('drops a message whose send waited past the timeout, logging "channel is full" and counting it', async () => {
    const c = gatedConsumer();
    const log: string[] = [];
    const dropped: number[] = [];
    const ch = createIntakeChannel<number>({ capacity: 2, sendTimeoutMs: 50 }, c.consume, {
      log: (line) => log.push(line),
      onDrop: (n) => dropped.push(n),
      describe: (n) => `message ${n}`,
    });
    for (const n of [1, 2, 3]) ch.send(n);
    const started = Date.now();
    await ch.send(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(log).toEqual(['gateway: intake channel is full for 50 ms (message is dropped): message 4']);
    expect(dropped).toEqual([4]);
    expect(ch.stats().drops).toBe(1);
    c.releaseAll();
    await sleep(10);
    expect(c.got).toEqual([1, 2, 3]);
    expect(ch.send(5)).toBeUndefined();
    expect(c.got).toEqual([1, 2, 3, 5]);
  });

  it('close lets held senders go and stops consuming', async () => {
    const c = gatedConsumer();
    const ch = createIntakeChannel<number>({ capacity: 1, sendTimeoutMs: 60_000 }, c.consume, { log: () => {} });
    ch.send(1);
    ch.send(2);
    const held = ch.send(3);
    ch.close();
    await held;
    c.releaseAll();
    await sleep(5);
    expect(c.got).toEqual([1]);
    expect(ch.stats().drops).toBe(0);
    expect(ch.send(4)).toBeUndefined();
    expect(c.got).toEqual([1]);
  });
});

describe('createIntakeChannel without a send timeout', () => {
  it('holds a sender until there is room, however long, and drops nothing', async () => {
    const c = gatedConsumer();
    const ch = createIntakeChannel<number>({ capacity: 1 }, c.consume, { log: () => {} });
    ch.send(1);
    ch.send(2);
    let through = false;
    const held = Promise.resolve(ch.send(3)).then(() => (through = true));
    await sleep(30);
    expect(through).toBe(false);
    c.releaseAll();
    await held;
    await sleep(0);
    expect(c.got).toEqual([1, 2, 3]);
    expect(ch.stats().drops).toBe(0);
  });
});

describe('createIntakeChannel with a failing consumer', () => {
  it('logs a consumer that throws or rejects and goes on with the next message', async () => {
    const got: number[] = [];
    const log: string[] = [];
    const ch = createIntakeChannel<number>(
      { capacity: 4, sendTimeoutMs: 1_000 },
      (n) => {
        if (n === 2) throw new Error('boom');
        if (n === 3) return Promise.reject(new Error('bang'));
        got.push(n);
      },
      { log: (line) => log.push(line) },
    );
    for (const n of [1, 2, 3, 4]) ch.send(n);
    await sleep(5);
    expect(got).toEqual([1, 4]);
    expect(log).toEqual(['gateway: intake consumer failed: Error: boom', 'gateway: intake consumer failed: Error: bang']);
  });
});
