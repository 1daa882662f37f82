// The shape every per-subscriber policy shares: each subscriber gets its own FrameQueue, which
// graphql-ws drains as the subscription's iterator, and the policy supplies only what an offered
// frame does to it. Eviction (close 4008 "slow consumer", counted once per connection) is here too.
import type { DeliveryPolicy, Outbound, SubscriberInfo } from '../contracts.ts';
import { SLOW_CONSUMER_CLOSE } from './close-codes.ts';
import { FrameQueue } from './frame-queue.ts';
import { StatsRecorder } from './stats.ts';

export interface OpenedQueue {
  readonly frames: FrameQueue;
  /** Never awaits a socket: the dispatcher's loop must not wait on one slow subscriber. */
  offer(out: Outbound): void;
}

export function perSubscriberPolicy(name: string, open: (sub: SubscriberInfo, recorder: StatsRecorder) => OpenedQueue): DeliveryPolicy {
  const recorder = new StatsRecorder();
  return {
    name,
    intake: {},
    queueFor(sub) {
      const q = open(sub, recorder);
      return { offer: (out) => q.offer(out), depth: () => q.frames.depth(), close: () => q.frames.close(), [Symbol.asyncIterator]: () => q.frames };
    },
    stats: () => recorder.snapshot(),
  };
}

/** Queues a frame and records the queue's depth. */
export function pushFrame(frames: FrameQueue, recorder: StatsRecorder, out: Outbound): void {
  frames.push(out);
  recorder.depth(frames.messages, frames.bytes);
}

/** Closes a subscriber that fell behind; another subscription of the same connection may have evicted it already, so it counts once. */
export function evictSlow(sub: SubscriberInfo, frames: FrameQueue, recorder: StatsRecorder): void {
  if (!sub.socket.isOpen) return frames.close();
  const since = frames.behindSinceMs ?? Date.now();
  recorder.evicted(Date.now() - since);
  frames.close();
  sub.socket.close(SLOW_CONSUMER_CLOSE.code, SLOW_CONSUMER_CLOSE.reason);
}
