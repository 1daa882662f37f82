// `per-subscriber:N:drop-oldest`: each subscriber's queue holds at most N frames; a frame that
// finds it full pushes out the oldest one (counted as a drop). The dispatcher never waits, memory
// is bounded by subscribers x N, and a slow client sees the newest frames, with gaps it can fill
// from the store by sequence number.
import type { DeliveryPolicy, Outbound, SubscriberInfo, SubscriberQueue } from '../contracts.ts';
import { FrameQueue } from './frame-queue.ts';
import { StatsRecorder } from './stats.ts';

export function createDropOldestPolicy(capacity: number, name = `per-subscriber:${capacity}:drop-oldest`): DeliveryPolicy {
  const recorder = new StatsRecorder();
  return {
    name,
    intake: {},
    queueFor(_sub: SubscriberInfo): SubscriberQueue {
      const frames = new FrameQueue();
      return {
        offer(out: Outbound): void {
          if (frames.isClosed) return;
          if (frames.messages >= capacity && frames.dropOldest() !== undefined) recorder.drop();
          frames.push(out);
          recorder.depth(frames.messages, frames.bytes);
        },
        depth: () => frames.depth(),
        close: () => frames.close(),
        [Symbol.asyncIterator]: () => frames,
      };
    },
    stats: () => recorder.snapshot(),
  };
}
