// `bytes:B:disconnect`: the Centrifugo / Redis way. What a subscriber owes (frames queued here
// plus bytes its socket has not yet handed to the kernel) may not exceed B bytes; the frame that
// would exceed it closes the subscriber with 4008 "slow consumer" instead. A subscriber that owes
// nothing always gets its frame, however large, so one big frame never disconnects an idle client.
// The dispatcher never waits; memory is bounded by subscribers x B.
import type { DeliveryPolicy, Outbound, SubscriberInfo, SubscriberQueue } from '../contracts.ts';
import { SLOW_CONSUMER_CLOSE } from './close-codes.ts';
import { FrameQueue } from './frame-queue.ts';
import { StatsRecorder } from './stats.ts';

export function createByteCapPolicy(capBytes: number, name = `bytes:${capBytes}:disconnect`): DeliveryPolicy {
  const recorder = new StatsRecorder();
  return {
    name,
    intake: {},
    queueFor(sub: SubscriberInfo): SubscriberQueue {
      const frames = new FrameQueue();
      return {
        offer(out: Outbound): void {
          if (frames.isClosed) return;
          const owed = frames.bytes + sub.socket.bufferedBytes();
          if (owed > 0 && owed + out.bytes > capBytes) {
            // Another subscription of the same connection may have evicted it already: count it once.
            if (!sub.socket.isOpen) return frames.close();
            const since = frames.behindSinceMs ?? Date.now();
            recorder.evicted(Date.now() - since);
            frames.close();
            sub.socket.close(SLOW_CONSUMER_CLOSE.code, SLOW_CONSUMER_CLOSE.reason);
            return;
          }
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
