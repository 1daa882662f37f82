// Routes each frame the gateway owes to the queues of the subscriptions that want it: a user's
// notification to every notification subscription of that user, a race's odds to every watcher of
// that race. The policy's queues decide what happens when a subscriber cannot keep up; the
// dispatcher only waits where a queue's `offer` returns a promise, which only `shared-blocking`
// does (the incident). A policy with a bounded intake gets the shared channel in front of the
// fan-out (intake-channel.ts), so `deliver` then returns a promise the intake waits on.
import type { DeliveryPolicy, Outbound, SubscriberInfo, SubscriberQueue } from './contracts.ts';
import { createIntakeChannel, type IntakeChannel } from './intake-channel.ts';

export interface DispatcherOptions {
  /** Where the intake channel's "channel is full" lines go (stderr by default). */
  readonly log?: (line: string) => void;
  readonly nowMs?: () => number;
}

/** Told when a frame's send finished: `writtenAtMs - out.enteredAtMs` is its delivery latency in the gateway. */
export type WrittenListener = (out: Outbound, writtenAtMs: number) => void;

/** Totals over every live subscription, read by /metrics at scrape time. */
export interface DispatcherSnapshot {
  readonly subscriptions: number;
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  /** The deepest single queue right now. */
  readonly deepestQueueMessages: number;
  readonly deepestQueueBytes: number;
  /** Bytes the subscriptions' sockets hold that the kernel has not taken (a socket counted once). */
  readonly socketBufferedBytes: number;
  /** Frames waiting in the shared intake channel (0 without one). */
  readonly intakeDepth: number;
}

export interface Dispatcher {
  readonly policy: DeliveryPolicy;
  /** Registers a subscription: with `raceFilter` it watches that race's odds, else its user's notifications. */
  add(sub: SubscriberInfo, raceFilter?: string): SubscriberQueue;
  /** Forgets a subscription and closes its queue. Idempotent. */
  remove(id: string): void;
  deliver(out: Outbound): void | Promise<void>;
  snapshot(): DispatcherSnapshot;
  /**
   * Registers a listener told of every frame whose send finished; returns its removal. A writer
   * (graphql-ws) asks a subscription for its next frame only once the previous send finished, so
   * the moment of that ask is when the previous frame was written.
   */
  onWritten(listener: WrittenListener): () => void;
  /** Closes every queue and stops the intake channel. */
  close(): void;
}

interface Entry {
  readonly sub: SubscriberInfo;
  readonly queue: SubscriberQueue;
  /** The key of the routing map it sits in: `u:<userId>` or `r:<raceId>`. */
  readonly route: string;
}

/**
 * The policy's queue, wrapped so that however it ends (closed, returned, evicted) it leaves the
 * routes (`onEnd`), and so that each ask of the writer reports the frame it took before as written.
 */
function trackedQueue(inner: SubscriberQueue, onEnd: () => void, written: (out: Outbound) => void): SubscriberQueue {
  return {
    offer: (out) => inner.offer(out),
    depth: () => inner.depth(),
    close(): void {
      onEnd();
      inner.close();
    },
    [Symbol.asyncIterator](): AsyncIterator<Outbound> {
      const it = inner[Symbol.asyncIterator]();
      /** The frame handed to the writer last; its send has finished when the writer asks again. */
      let handed: Outbound | undefined;
      return {
        next: () => {
          if (handed !== undefined) written(handed);
          handed = undefined;
          return it.next().then((r) => {
            if (r.done === true) onEnd();
            else handed = r.value;
            return r;
          });
        },
        return: (value?: unknown) => {
          onEnd();
          inner.close();
          return it.return === undefined ? Promise.resolve({ done: true as const, value: undefined }) : it.return(value);
        },
      };
    },
  };
}

/** Offers a frame to each target in turn; from the first offer that returns a promise on, waits for each. */
function offerAll(targets: readonly Entry[], out: Outbound): void | Promise<void> {
  for (let i = 0; i < targets.length; i += 1) {
    const pending = (targets[i] as Entry).queue.offer(out);
    if (pending !== undefined) return offerRestInTurn(targets, i + 1, pending, out);
  }
}

async function offerRestInTurn(targets: readonly Entry[], from: number, pending: Promise<void>, out: Outbound): Promise<void> {
  await pending;
  for (let i = from; i < targets.length; i += 1) {
    const r = (targets[i] as Entry).queue.offer(out);
    if (r !== undefined) await r;
  }
}

function snapshotOf(entries: Iterable<Entry>, count: number, intakeDepth: number): DispatcherSnapshot {
  let queuedMessages = 0;
  let queuedBytes = 0;
  let deepestQueueMessages = 0;
  let deepestQueueBytes = 0;
  let socketBufferedBytes = 0;
  const sockets = new Set<SubscriberInfo['socket']>();
  for (const { sub, queue } of entries) {
    const d = queue.depth();
    queuedMessages += d.messages;
    queuedBytes += d.bytes;
    deepestQueueMessages = Math.max(deepestQueueMessages, d.messages);
    deepestQueueBytes = Math.max(deepestQueueBytes, d.bytes);
    if (!sockets.has(sub.socket)) {
      sockets.add(sub.socket);
      socketBufferedBytes += sub.socket.bufferedBytes();
    }
  }
  return { subscriptions: count, queuedMessages, queuedBytes, deepestQueueMessages, deepestQueueBytes, socketBufferedBytes, intakeDepth };
}

const describeFrame = (out: Outbound): string =>
  out.kind === 'notification' ? `notification race ${out.raceId} user ${out.userId ?? '?'} seq ${out.seq ?? '?'}` : `odds race ${out.raceId}`;

export function createDispatcher(policy: DeliveryPolicy, options: DispatcherOptions = {}): Dispatcher {
  const byId = new Map<string, Entry>();
  const routes = new Map<string, Map<string, Entry>>();
  const nowMs = options.nowMs ?? Date.now;
  const writtenListeners = new Set<WrittenListener>();

  /** Takes one entry out of the routes (not a newer entry that reused its id). */
  const detach = (entry: Entry): void => {
    const id = entry.sub.id;
    if (byId.get(id) !== entry) return;
    byId.delete(id);
    const group = routes.get(entry.route);
    group?.delete(id);
    if (group !== undefined && group.size === 0) routes.delete(entry.route);
  };
  const written = (out: Outbound): void => {
    if (writtenListeners.size === 0) return;
    const at = nowMs();
    for (const listener of writtenListeners) listener(out, at);
  };
  const fanOut = (out: Outbound): void | Promise<void> => {
    const route = out.kind === 'notification' ? (out.userId === undefined ? undefined : `u:${out.userId}`) : `r:${out.raceId}`;
    const group = route === undefined ? undefined : routes.get(route);
    // A snapshot of the targets: an offer may evict (and so detach) its subscriber while we iterate.
    return group === undefined ? undefined : offerAll([...group.values()], out);
  };

  const { capacity, sendTimeoutMs } = policy.intake;
  const channel: IntakeChannel<Outbound> | undefined =
    capacity === undefined
      ? undefined
      : createIntakeChannel({ capacity, ...(sendTimeoutMs === undefined ? {} : { sendTimeoutMs }) }, fanOut, {
          onDrop: () => policy.recordIntakeDrop?.(),
          describe: describeFrame,
          ...(options.log === undefined ? {} : { log: options.log }),
        });

  return {
    policy,
    add(sub: SubscriberInfo, raceFilter?: string): SubscriberQueue {
      if (byId.has(sub.id)) byId.get(sub.id)?.queue.close();
      const route = raceFilter === undefined ? `u:${sub.userId}` : `r:${raceFilter}`;
      const queue = trackedQueue(policy.queueFor(sub), () => detach(entry), written);
      const entry: Entry = { sub, queue, route };
      byId.set(sub.id, entry);
      let group = routes.get(route);
      if (group === undefined) routes.set(route, (group = new Map()));
      group.set(sub.id, entry);
      return queue;
    },
    remove(id: string): void {
      byId.get(id)?.queue.close();
    },
    deliver: (out) => (channel === undefined ? fanOut(out) : channel.send(out)),
    snapshot: () => snapshotOf(byId.values(), byId.size, channel?.depth() ?? 0),
    onWritten(listener: WrittenListener): () => void {
      writtenListeners.add(listener);
      return () => writtenListeners.delete(listener);
    },
    close(): void {
      channel?.close();
      for (const { queue } of [...byId.values()]) queue.close();
    },
  };
}
