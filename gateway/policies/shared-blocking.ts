// `shared-blocking[:CAPACITY[:SEND_TIMEOUT_MS[:HIGH_WATER_BYTES]]]`: the incident, reproduced on
// purpose. One shared intake buffer of CAPACITY frames (100) sits in front of one fan-out loop
// (gateway/intake-channel.ts); a send into the full buffer waits SEND_TIMEOUT_MS (60 s) and is then
// dropped with the log line "channel is full". The fan-out loop writes to each subscriber in turn
// and, like a WebSocket write without a deadline, waits for that subscriber's previous frame to
// leave the queue and for its socket buffer to fall to HIGH_WATER_BYTES (16 KiB, Node's stream
// default) before it moves on. One client that never reads therefore stops the loop, the shared
// buffer fills, and every other subscriber stops receiving while connections look healthy.
import type { DeliveryPolicy, Outbound, SubscriberInfo, SubscriberQueue } from '../contracts.ts';
import { FrameQueue } from './frame-queue.ts';
import { StatsRecorder } from './stats.ts';

export const SHARED_BLOCKING_DEFAULTS = {
  capacity: 100, // frames, the Redis client's shared subscription channel
  sendTimeoutMs: 60_000, // 60 s, its send timeout before "channel is full"
  highWaterBytes: 16 * 1024, // 16 KiB, Node's writable highWaterMark
} as const;

export interface SharedBlockingOptions {
  readonly capacity: number;
  readonly sendTimeoutMs: number;
  readonly highWaterBytes: number;
}

export function createSharedBlockingPolicy(options: SharedBlockingOptions = SHARED_BLOCKING_DEFAULTS, name?: string): DeliveryPolicy {
  const recorder = new StatsRecorder();
  const { capacity, sendTimeoutMs, highWaterBytes } = options;
  return {
    name: name ?? `shared-blocking:${capacity}:${sendTimeoutMs}:${highWaterBytes}`,
    intake: { capacity, sendTimeoutMs },
    queueFor: (sub) => blockingQueue(sub, highWaterBytes, recorder),
    stats: () => recorder.snapshot(),
    recordIntakeDrop: () => recorder.drop(),
  };
}

function blockingQueue(sub: SubscriberInfo, highWaterBytes: number, recorder: StatsRecorder): SubscriberQueue {
  // Offers parked until the writer takes the frame ahead of them (or the queue closes).
  let parked: (() => void)[] = [];
  const wake = (): void => {
    const woken = parked;
    parked = [];
    for (const resume of woken) resume();
  };
  const frames = new FrameQueue({ onTake: wake, onClose: wake });
  const push = (out: Outbound): void => {
    frames.push(out);
    recorder.depth(frames.messages, frames.bytes);
  };
  const gone = (): boolean => frames.isClosed || !sub.socket.isOpen;
  const writeBlocking = async (out: Outbound): Promise<void> => {
    for (;;) {
      if (gone()) return;
      if (frames.messages > 0) {
        await new Promise<void>((resume) => parked.push(resume));
      } else if (sub.socket.bufferedBytes() > highWaterBytes) {
        await sub.socket.whenBelow(highWaterBytes);
      } else {
        push(out);
        return;
      }
    }
  };
  return {
    offer(out: Outbound): void | Promise<void> {
      if (gone()) return;
      if (frames.messages === 0 && sub.socket.bufferedBytes() <= highWaterBytes) return push(out);
      return writeBlocking(out);
    },
    depth: () => frames.depth(),
    close: () => frames.close(),
    [Symbol.asyncIterator]: () => frames,
  };
}
