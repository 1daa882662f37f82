// `unbounded`: one queue per subscriber without a bound, the way an in-memory PubSub hands
// every subscriber its own ever-growing buffer. Nobody stalls and nothing is dropped; memory
// grows with the bytes owed to slow clients.
import type { DeliveryPolicy, Outbound, SubscriberInfo, SubscriberQueue } from '../contracts.ts';
import { FrameQueue } from './frame-queue.ts';
import { StatsRecorder } from './stats.ts';

export function createUnboundedPolicy(name = 'unbounded'): DeliveryPolicy {
  const recorder = new StatsRecorder();
  return {
    name,
    intake: {},
    queueFor(_sub: SubscriberInfo): SubscriberQueue {
      const frames = new FrameQueue();
      return {
        offer(out: Outbound): void {
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
