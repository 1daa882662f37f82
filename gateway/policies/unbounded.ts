// `unbounded`: one queue per subscriber without a bound, the way an in-memory PubSub hands
// every subscriber its own ever-growing buffer. Nobody stalls and nothing is dropped; memory
// grows with the bytes owed to slow clients.
import type { DeliveryPolicy } from '../contracts.ts';
import { FrameQueue } from './frame-queue.ts';
import { perSubscriberPolicy, pushFrame } from './queue-policy.ts';

export function createUnboundedPolicy(name = 'unbounded'): DeliveryPolicy {
  return perSubscriberPolicy(name, (_sub, recorder) => {
    const frames = new FrameQueue();
    return { frames, offer: (out) => pushFrame(frames, recorder, out) };
  });
}
