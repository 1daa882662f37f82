// `per-subscriber:N:drop-oldest`: each subscriber's queue holds at most N frames; a frame that
// finds it full pushes out the oldest one (counted as a drop). The dispatcher never waits, memory
// is bounded by subscribers x N, and a slow client sees the newest frames, with gaps it can fill
// from the store by sequence number.
import type { DeliveryPolicy } from '../contracts.ts';
import { FrameQueue } from './frame-queue.ts';
import { perSubscriberPolicy, pushFrame } from './queue-policy.ts';

export function createDropOldestPolicy(capacity: number, name = `per-subscriber:${capacity}:drop-oldest`): DeliveryPolicy {
  return perSubscriberPolicy(name, (_sub, recorder) => {
    const frames = new FrameQueue();
    return {
      frames,
      offer(out) {
        if (frames.isClosed) return;
        if (frames.messages >= capacity && frames.dropOldest() !== undefined) recorder.drop();
        pushFrame(frames, recorder, out);
      },
    };
  });
}
