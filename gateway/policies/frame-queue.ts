// The buffer under every policy's subscriber queue: a ring buffer of frames with a byte count,
// read by exactly one writer (graphql-ws iterating the subscription) through the async iterator
// protocol. The policies decide what to push, drop or evict; this file only keeps order and counts.
import type { Outbound } from '../contracts.ts';

const INITIAL_CAPACITY = 16;

export interface FrameQueueHooks {
  /** The writer took a frame out of the queue (its depth fell by one). */
  readonly onTake?: () => void;
  /** The queue closed (subscription ended, socket closed or the policy evicted it). */
  readonly onClose?: () => void;
}

export class FrameQueue implements AsyncIterableIterator<Outbound> {
  private ring: (Outbound | undefined)[] = new Array<Outbound | undefined>(INITIAL_CAPACITY);
  private head = 0;
  private count = 0;
  private queuedBytes = 0;
  private closed = false;
  /** The writer's pending `next()`, when it is waiting for a frame. */
  private waiting: ((r: IteratorResult<Outbound>) => void) | undefined;
  /** When the queue last went from empty to non-empty: the subscriber's first sign of falling behind. */
  private behindSince: number | undefined;
  private readonly hooks: FrameQueueHooks;
  private readonly nowMs: () => number;

  constructor(hooks: FrameQueueHooks = {}, nowMs: () => number = Date.now) {
    this.hooks = hooks;
    this.nowMs = nowMs;
  }

  get messages(): number {
    return this.count;
  }

  get bytes(): number {
    return this.queuedBytes;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** ms since the epoch when the subscriber started owing frames; undefined while it is caught up. */
  get behindSinceMs(): number | undefined {
    return this.behindSince;
  }

  /** Hands the frame straight to a waiting writer, else appends it. A closed queue ignores it. */
  push(out: Outbound): void {
    if (this.closed) return;
    const waiter = this.waiting;
    if (waiter !== undefined) {
      this.waiting = undefined;
      waiter({ done: false, value: out });
      return;
    }
    if (this.count === this.ring.length) this.grow();
    this.ring[(this.head + this.count) % this.ring.length] = out;
    this.count += 1;
    this.queuedBytes += out.bytes;
    if (this.count === 1) this.behindSince = this.nowMs();
  }

  /** Removes and returns the oldest queued frame (for drop-oldest), without calling onTake. */
  dropOldest(): Outbound | undefined {
    return this.shift();
  }

  depth(): { readonly messages: number; readonly bytes: number } {
    return { messages: this.count, bytes: this.queuedBytes };
  }

  /** Ends the iterator and forgets the queued frames: the subscription is gone. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ring = [];
    this.head = 0;
    this.count = 0;
    this.queuedBytes = 0;
    this.behindSince = undefined;
    const waiter = this.waiting;
    this.waiting = undefined;
    waiter?.({ done: true, value: undefined });
    this.hooks.onClose?.();
  }

  next(): Promise<IteratorResult<Outbound>> {
    if (this.closed) return Promise.resolve({ done: true, value: undefined });
    const out = this.shift();
    if (out !== undefined) {
      this.hooks.onTake?.();
      return Promise.resolve({ done: false, value: out });
    }
    if (this.waiting !== undefined) return Promise.reject(new Error('a subscriber queue has exactly one reader'));
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<Outbound>> {
    this.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Outbound> {
    return this;
  }

  private shift(): Outbound | undefined {
    if (this.count === 0) return undefined;
    const out = this.ring[this.head] as Outbound;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.count -= 1;
    this.queuedBytes -= out.bytes;
    if (this.count === 0) this.behindSince = undefined;
    return out;
  }

  private grow(): void {
    const bigger = new Array<Outbound | undefined>(this.ring.length * 2);
    for (let i = 0; i < this.count; i += 1) bigger[i] = this.ring[(this.head + i) % this.ring.length];
    this.ring = bigger;
    this.head = 0;
  }
}
