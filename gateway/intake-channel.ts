// The bounded shared channel between an intake and the dispatcher, modelled on the Redis client
// of the incident: a buffer of `capacity` messages drained by ONE consumer loop (the dispatcher's
// fan-out). A send into a full buffer waits up to `sendTimeoutMs` for room; when the time runs
// out the message is dropped, counted and logged with "channel is full". The intake's message
// handler returns the send's promise, so the intake itself is held up meanwhile, as the Redis
// client's reader was. With a consumer that never waits, the buffer never fills.
import type { IntakeShape } from './contracts.ts';

export interface IntakeChannelOptions<T> {
  /** Called once per message dropped by the send timeout. */
  readonly onDrop?: (item: T) => void;
  /** Where the "channel is full" line goes (stderr by default). */
  readonly log?: (line: string) => void;
  /** A short description of a message for the log line, e.g. `notification race R user U`. */
  readonly describe?: (item: T) => string;
}

export interface IntakeChannel<T> {
  /** Returns at once when there is room; else a promise settled when the message got room or was dropped. */
  send(item: T): void | Promise<void>;
  /** Messages buffered, not counting senders still waiting for room. */
  depth(): number;
  stats(): { readonly drops: number; readonly maxDepth: number; readonly waitingSenders: number };
  /** Stops the consumer loop and drops (without counting) what is buffered or waiting. */
  close(): void;
}

interface Waiter<T> {
  readonly item: T;
  readonly resolve: () => void;
  /** Undefined when sends wait for room without a time limit. */
  readonly timer: NodeJS.Timeout | undefined;
}

/** `shape.sendTimeoutMs` undefined: a send into a full channel waits for room however long it takes. */
export function createIntakeChannel<T>(shape: IntakeShape & { readonly capacity: number }, consume: (item: T) => void | Promise<void>, options: IntakeChannelOptions<T> = {}): IntakeChannel<T> {
  const { capacity, sendTimeoutMs } = shape;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const buffer: T[] = [];
  let head = 0; // buffer[head..] are queued; compacted when half is spent
  const waiters: Waiter<T>[] = [];
  let drops = 0;
  let maxDepth = 0;
  let pumping = false;
  let closed = false;

  const depth = (): number => buffer.length - head;
  const enqueue = (item: T): void => {
    buffer.push(item);
    if (depth() > maxDepth) maxDepth = depth();
  };
  const take = (): T => {
    const item = buffer[head] as T;
    head += 1;
    if (head > 1024 && head * 2 > buffer.length) {
      buffer.splice(0, head);
      head = 0;
    }
    // The oldest waiting sender gets the slot just freed, in arrival order.
    const waiter = waiters.shift();
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      enqueue(waiter.item);
      waiter.resolve();
    }
    return item;
  };

  async function pump(): Promise<void> {
    try {
      while (!closed && depth() > 0) {
        // A consumer that fails loses that one message, never the loop (nor the process).
        try {
          const pending = consume(take());
          if (pending !== undefined) await pending;
        } catch (e) {
          log(`gateway: intake consumer failed: ${String(e)}`);
        }
      }
    } finally {
      pumping = false;
    }
  }
  const kick = (): void => {
    if (pumping || closed) return;
    pumping = true;
    void pump();
  };

  /** The send timeout ran out for this waiter: the message is dropped, as the Redis client did. */
  const drop = (waiter: Waiter<T>): void => {
    const at = waiters.indexOf(waiter);
    if (at >= 0) waiters.splice(at, 1);
    drops += 1;
    const what = options.describe === undefined ? '' : `: ${options.describe(waiter.item)}`;
    log(`gateway: intake channel is full for ${sendTimeoutMs ?? 0} ms (message is dropped)${what}`);
    options.onDrop?.(waiter.item);
    waiter.resolve();
  };
  const waitForRoom = (item: T): Promise<void> =>
    new Promise<void>((resolve) => {
      if (sendTimeoutMs === undefined) {
        waiters.push({ item, resolve, timer: undefined });
        return;
      }
      const waiter: Waiter<T> = { item, resolve, timer: setTimeout(() => drop(waiter), sendTimeoutMs) };
      waiters.push(waiter);
    });

  return {
    send(item: T): void | Promise<void> {
      if (closed) return;
      if (depth() < capacity && waiters.length === 0) {
        enqueue(item);
        kick();
        return;
      }
      return waitForRoom(item);
    },
    depth,
    stats: () => ({ drops, maxDepth, waitingSenders: waiters.length }),
    close(): void {
      closed = true;
      buffer.length = 0;
      head = 0;
      for (const w of waiters.splice(0)) {
        clearTimeout(w.timer);
        w.resolve();
      }
    },
  };
}
