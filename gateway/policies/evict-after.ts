// `per-subscriber:N:evict-after:MS`: the incident's fix. Each subscriber's queue holds at most N
// frames; when it has stayed full for MS the subscriber is closed with 4008 "slow consumer" and
// its queue freed. While it is full, a new frame pushes out the oldest (counted as a drop), so
// memory stays bounded by subscribers x N whatever the client does. A client that drains one
// frame before MS has passed is no longer full and its timer stops. The dispatcher never waits.
import type { DeliveryPolicy } from '../contracts.ts';
import { FrameQueue } from './frame-queue.ts';
import { evictSlow, perSubscriberPolicy, pushFrame } from './queue-policy.ts';

export function createEvictAfterPolicy(capacity: number, evictAfterMs: number, name = `per-subscriber:${capacity}:evict-after:${evictAfterMs}`): DeliveryPolicy {
  return perSubscriberPolicy(name, (sub, recorder) => {
    let timer: NodeJS.Timeout | undefined;
    const stopTimer = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    };
    const frames: FrameQueue = new FrameQueue({
      onTake: () => {
        if (frames.messages < capacity) stopTimer();
      },
      onClose: stopTimer,
    });
    const evict = (): void => {
      timer = undefined;
      if (frames.isClosed || frames.messages < capacity) return;
      evictSlow(sub, frames, recorder);
    };
    return {
      frames,
      offer(out) {
        if (frames.isClosed) return;
        if (frames.messages >= capacity && frames.dropOldest() !== undefined) recorder.drop();
        pushFrame(frames, recorder, out);
        if (frames.messages >= capacity && timer === undefined) {
          timer = setTimeout(evict, evictAfterMs);
          // An eviction timer must not keep a finished process alive.
          timer.unref();
        }
      },
    };
  });
}
