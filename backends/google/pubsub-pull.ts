// A subscription read with unary Pull instead of StreamingPull, shaped like the client library's
// Subscription for the bus's subscriber (pubsub-bus.ts startSubscriber): it emits `message` and
// `error`, and closes. Why: on the Pub/Sub emulator, a subscriber process killed after its
// streaming pull had been broken and reopened leaves what it held leased to nobody, for minutes,
// and the subscription then stops delivering new messages as well (docs/chaos.md, the stall).
// Unary pulls open no stream: each pull leases its messages for one ack deadline, renewed here
// while they are held, so a dead process's messages simply come back when their deadline passes.
// It costs a request per pull, per renewal round and per ack flush (acks of 20 ms go together), which is why it is the worker processes'
// choice (where processes die) and not the default.
import { EventEmitter } from 'node:events';
import type { PubSub } from '@google-cloud/pubsub';

/** What the bus's subscriber reads of a message (the client library's Message has all of it). */
export interface PulledMessage {
  readonly id: string;
  readonly data: Buffer;
  readonly attributes: { [key: string]: string };
  readonly deliveryAttempt: number;
  readonly publishTime: Date;
  /** Receipt time, ms since the epoch. */
  readonly received: number;
  ack(): void;
  nack(): void;
}

export const PULL_LIMITS = {
  /**
   * Pulls return at once; after an empty one the next waits this long. (The emulator holds a
   * waiting pull for about 30 s and hands it neither nacked nor expired messages meanwhile, only
   * new ones, so a held pull would delay every redelivery by up to that.)
   */
  emptyPollMs: 250,
  pullTimeoutMs: 10_000,
  /** After a failed pull, wait this long before the next (doubling to the maximum). */
  retryMsMin: 200,
  retryMsMax: 5_000,
  /** Leases are renewed this often, as a share of the ack deadline. */
  renewShare: 0.5,
  /**
   * Acks and nacks wait this long to go out together, one request each kind (a pull's messages
   * are mostly handled together). An ack lost to a death in this window only means a redelivery.
   */
  ackFlushMs: 20,
  /** Ids per acknowledge or modifyAckDeadline request at most. */
  ackIdsPerRequestMax: 1_000,
} as const;

interface SubscriberApi {
  pull(req: { subscription: string; maxMessages: number; returnImmediately: boolean }, opts: { timeout: number; retry: null }): Promise<[{ receivedMessages?: ReceivedMessage[] | null }]> & { cancel?: () => void };
  acknowledge(req: { subscription: string; ackIds: string[] }): Promise<unknown>;
  modifyAckDeadline(req: { subscription: string; ackIds: string[]; ackDeadlineSeconds: number }): Promise<unknown>;
}

interface ReceivedMessage {
  ackId?: string | null;
  deliveryAttempt?: number | null;
  message?: { messageId?: string | null; data?: Uint8Array | string | null; attributes?: { [k: string]: string } | null; publishTime?: { seconds?: number | string | null; nanos?: number | null } | null } | null;
}

function subscriberApi(pubsub: PubSub): Promise<SubscriberApi> {
  return new Promise((resolve, reject) => {
    pubsub.getClient_({ client: 'SubscriberClient' }, (e, client) => (e ? reject(e) : resolve(client as unknown as SubscriberApi)));
  });
}

/** DEADLINE_EXCEEDED (the pull found nothing in time) and CANCELLED: not failures. */
const isQuiet = (e: unknown): boolean => [1, 4].includes((e as { code?: number }).code ?? -1);

export interface UnaryPullOptions {
  /** Messages held (pulled and not yet acked or nacked) at most. */
  readonly window: number;
  readonly ackDeadlineSeconds: number;
}

export interface UnaryPullSubscription extends EventEmitter {
  close(): Promise<void>;
}

export function unaryPullSubscription(pubsub: PubSub, name: string, o: UnaryPullOptions): UnaryPullSubscription {
  const emitter = new EventEmitter() as UnaryPullSubscription;
  const subscription = `projects/${pubsub.projectId}/subscriptions/${name}`;
  const held = new Set<string>();
  let closed = false;
  let wake: (() => void) | undefined;
  const apiP = subscriberApi(pubsub);
  apiP.catch(() => undefined); // reported by the loop

  const release = (ackId: string): boolean => {
    if (!held.delete(ackId)) return false;
    wake?.();
    return true;
  };
  /** Nacks sent for a pull that returned after close(): close() waits for them. */
  const lateNacks: Promise<unknown>[] = [];
  // After close() nobody listens, and an 'error' event without a listener would throw.
  const fail = (e: unknown): void => {
    if (!closed && emitter.listenerCount('error') > 0) emitter.emit('error', e instanceof Error ? e : new Error(String(e)));
  };

  // Acks and nacks of one flush window, sent as one request each (see PULL_LIMITS.ackFlushMs).
  const pending = { ack: [] as string[], nack: [] as string[] };
  let flushTimer: NodeJS.Timeout | undefined;
  const flush = async (): Promise<void> => {
    flushTimer = undefined;
    const { ack, nack } = pending;
    pending.ack = [];
    pending.nack = [];
    const api = await apiP;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < ack.length; i += PULL_LIMITS.ackIdsPerRequestMax) sends.push(api.acknowledge({ subscription, ackIds: ack.slice(i, i + PULL_LIMITS.ackIdsPerRequestMax) }).catch(fail));
    for (let i = 0; i < nack.length; i += PULL_LIMITS.ackIdsPerRequestMax) sends.push(api.modifyAckDeadline({ subscription, ackIds: nack.slice(i, i + PULL_LIMITS.ackIdsPerRequestMax), ackDeadlineSeconds: 0 }).catch(fail));
    await Promise.all(sends);
  };
  const settle = (kind: 'ack' | 'nack', ackId: string): void => {
    if (!release(ackId)) return;
    pending[kind].push(ackId);
    flushTimer ??= setTimeout(() => void flush(), PULL_LIMITS.ackFlushMs);
  };

  const messageOf = (r: ReceivedMessage): PulledMessage => {
    const ackId = r.ackId ?? '';
    const m = r.message ?? {};
    const data = m.data ?? '';
    const seconds = Number(m.publishTime?.seconds ?? 0);
    return {
      id: m.messageId ?? '',
      data: typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data),
      attributes: m.attributes ?? {},
      deliveryAttempt: r.deliveryAttempt ?? 0,
      publishTime: new Date(seconds * 1000 + Math.floor((m.publishTime?.nanos ?? 0) / 1e6)),
      received: Date.now(),
      ack: () => settle('ack', ackId),
      nack: () => settle('nack', ackId),
    };
  };

  // Every message held has its lease renewed, in one request per round.
  const renewer = setInterval(
    () => {
      if (held.size === 0) return;
      void apiP.then((api) => api.modifyAckDeadline({ subscription, ackIds: [...held], ackDeadlineSeconds: o.ackDeadlineSeconds })).catch(fail);
    },
    Math.max(1_000, o.ackDeadlineSeconds * 1000 * PULL_LIMITS.renewShare),
  );
  renewer.unref();

  /** A wait that close() (or a freed slot) cuts short. */
  const nap = async (ms: number): Promise<void> => {
    await new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      wake = () => (clearTimeout(t), r());
    });
    wake = undefined;
  };

  const loop = (async () => {
    let retryMs: number = PULL_LIMITS.retryMsMin;
    while (!closed) {
      if (held.size >= o.window) {
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
        continue;
      }
      try {
        const api = await apiP;
        // No retries inside the call: a pull that times out is simply followed by the next one.
        // Never cancelled, close() included: the emulator may have leased the messages already,
        // and a cancelled call's messages stay leased to nobody for the subscription's deadline.
        const [res] = await api.pull({ subscription, maxMessages: o.window - held.size, returnImmediately: true }, { timeout: PULL_LIMITS.pullTimeoutMs, retry: null });
        retryMs = PULL_LIMITS.retryMsMin;
        if ((res.receivedMessages ?? []).length === 0) {
          await nap(PULL_LIMITS.emptyPollMs);
          continue;
        }
        const received = res.receivedMessages ?? [];
        const ackIds = received.map((r) => r.ackId ?? '');
        if (closed) {
          lateNacks.push(api.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: 0 }).catch(() => undefined));
          continue;
        }
        // A pull leases for the subscription's own ack deadline (a minute or more in the topology);
        // this process's deadline is set at once, so a death right after the pull costs only it.
        // (A handler may ack before this lands; the refusal then changes nothing, so it is not reported.)
        void api.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: o.ackDeadlineSeconds }).catch(() => undefined);
        for (const r of received) {
          held.add(r.ackId ?? '');
          emitter.emit('message', messageOf(r));
        }
      } catch (e) {
        if (closed) break;
        if (!isQuiet(e)) {
          fail(e);
          await nap(retryMs);
          retryMs = Math.min(PULL_LIMITS.retryMsMax, retryMs * 2);
        }
      }
    }
  })();

  emitter.close = async () => {
    closed = true;
    clearInterval(renewer);
    wake?.();
    // The pull in flight returns at once (returnImmediately) and what it brought is nacked.
    await loop;
    await Promise.all(lateNacks);
    // What is still held (handed out and never settled: a draining worker's held deliveries, a
    // handler still running) goes back at once, as the client library's close does with its
    // inventory, instead of one lease later. A late ack or nack of one of them is ignored.
    for (const ackId of held) pending.nack.push(ackId);
    held.clear();
    // What was acked or nacked before the close still goes out (a drained worker must not see its
    // handled messages redelivered).
    if (flushTimer !== undefined) clearTimeout(flushTimer);
    if (pending.ack.length + pending.nack.length > 0) await flush();
  };
  return emitter;
}
