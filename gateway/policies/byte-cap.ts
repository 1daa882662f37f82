// `bytes:B:disconnect`: the Centrifugo / Redis way. What a subscriber owes (frames queued here
// plus bytes its socket has not yet handed to the kernel) may not exceed B bytes; the frame that
// would exceed it closes the subscriber with 4008 "slow consumer" instead. A subscriber that owes
// nothing always gets its frame, however large, so one big frame never disconnects an idle client.
// The dispatcher never waits; memory is bounded by subscribers x B.
import type { DeliveryPolicy } from '../contracts.ts';
import { FrameQueue } from './frame-queue.ts';
import { evictSlow, perSubscriberPolicy, pushFrame } from './queue-policy.ts';

export function createByteCapPolicy(capBytes: number, name = `bytes:${capBytes}:disconnect`): DeliveryPolicy {
  return perSubscriberPolicy(name, (sub, recorder) => {
    const frames = new FrameQueue();
    return {
      frames,
      offer(out) {
        if (frames.isClosed) return;
        const owed = frames.bytes + sub.socket.bufferedBytes();
        if (owed > 0 && owed + out.bytes > capBytes) return evictSlow(sub, frames, recorder);
        pushFrame(frames, recorder, out);
      },
    };
  });
}
