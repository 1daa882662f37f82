// MessageBus on Pub/Sub through @google-cloud/pubsub: the same code for the emulator and for real
// Google Cloud, which it reaches only when the caller says `googleCloud: true`.
//
// Semantics as the port states them, and how they map onto the client:
// - publish batches (batching settings below) and resolves when every message has a server id.
// - flow control: at most `maxInFlight` deliveries are with the handler at any time. The client's
//   own flow control bounds what it pulls; a local gate enforces the bound on handler calls, so a
//   handler that overruns its deadline cannot let the client hand out extra work.
// - leases: `ackDeadlineMs` (rounded up to whole seconds and to at least 10 s: Pub/Sub's unit and
//   floor, see effectiveAckDeadlineMs) is the lease Pub/Sub grants per renewal, so it is how soon
//   the messages of a process that died come back. While the process lives, the client renews the
//   lease of every message it holds (modifyAckDeadline before each deadline, as the client library
//   does by default), both while the message waits for a free handler slot and while its handler
//   runs, up to the maximum lease (`leaseMaxMs`, default 60 minutes, the client's default
//   maxExtensionMinutes), counted from receipt. So a handler that runs longer than one deadline
//   (a large fan-out, a slow transaction) is neither redelivered meanwhile nor dead-lettered, and
//   its ack counts. Nacking at the deadline instead duplicated every slow handler's work and
//   dead-lettered an always-long one though it finished; capping renewal at one deadline made
//   messages that waited behind busy handlers come back unhandled (measured: 863 redeliveries for
//   4,000 users). A delivery is nacked, its slot freed and its late ack/nack ignored (counted as
//   expired) when its handler is still running at the maximum lease, or one ack deadline after its
//   handler returned without settling it (as a crashed worker's delivery would come back).
// - streaming pulls per subscribe() call scale with maxInFlight (streamsFor): one for a small
//   subscriber, up to the client's default of five for a large one.
// - deliveryAttempt comes from Pub/Sub, which counts only on subscriptions with a dead-letter
//   policy (every subscription of core/topology.ts except the dead-letter audit ones); elsewhere
//   it reads 1.
// - a handler that throws or rejects without settling counts as a nack.
import { Duration, PubSub, type Topic } from '@google-cloud/pubsub';
import { unaryPullSubscription, type PulledMessage } from './pubsub-pull.ts';
import { EMULATOR_GRPC_KEEPALIVE } from './grpc-keepalive.ts';
import type { BusMessage, Delivery, DeliveryHandler, MessageBus, SubscribeOptions, SubscriptionHandle } from '../../core/ports.ts';

export const PUBSUB_BUS_LIMITS = {
  /** Pub/Sub accepts at most 1,000 messages per publish request. */
  publishBatchMessagesMax: 1_000,
  /** How long the publisher waits to fill a batch (the client's default): short, because fan-out latency is measured. */
  publishBatchDelayMs: 10,
  /**
   * Acks and receipt modAcks are sent in batches after at most this long (the client's default).
   * Every request costs the emulator's JVM about half a millisecond of CPU on these machines; with
   * 10 ms batches a pipeline at ~100 users/s sent one request per message and the emulator used
   * more CPU than the settlement client itself (measured: pipeline 77 -> 111 users/s at 100 ms).
   */
  ackBatchDelayMs: 100,
  /**
   * The client counts a message against its flow-control window until its ack has been SENT (the
   * batch above), so its window is this many times the handler slots: acks waiting for their batch
   * must not stall deliveries. The handler bound itself is the local gate's (maxInFlight).
   */
  clientWindowPerHandlerSlot: 2,
  /** Pub/Sub's streaming-pull ack deadline bounds, in seconds. */
  ackDeadlineSecondsMin: 10,
  ackDeadlineSecondsMax: 600,
  maxInFlightMax: 100_000,
  /**
   * The default maximum lease (PubSubBusOptions.leaseMaxMs): how long, from receipt, the client
   * keeps renewing a message's lease while the process holds it. 60 minutes, the client library's
   * default maxExtensionMinutes: a handler still running then is taken for stuck, and its message
   * goes back for another attempt.
   */
  leaseMaxMsDefault: 3_600_000,
  /**
   * Streaming pulls per subscribe() call: one per this many handler slots, at most
   * streamsPerSubscriberMax (the client's default). Measured on the emulator: one stream delivers
   * about 1,900 messages/s and five about 8,300-9,300, but every stream takes its own share of the
   * messages, so a small subscriber on five streams gets smaller batches and the emulator does
   * more work per message (a pipeline at 4 x 64 slots: 136 users/s on one stream each, 108 on five).
   */
  handlerSlotsPerStream: 250,
  streamsPerSubscriberMax: 5,
} as const;

export interface PubSubBusOptions {
  readonly projectId: string;
  /** `host:port` of the emulator; defaults to PUBSUB_EMULATOR_HOST. */
  readonly emulatorHost?: string;
  /** Must be true to reach real Google Cloud Pub/Sub (then no emulator host may be set). */
  readonly googleCloud?: boolean;
  /** The maximum lease of a held message, from receipt (default PUBSUB_BUS_LIMITS.leaseMaxMsDefault); see the header. */
  readonly leaseMaxMs?: number;
  /**
   * How subscribers pull: `streaming` (StreamingPull, the client library's way and the default) or
   * `unary` (Pull requests; pubsub-pull.ts says when and why).
   */
  readonly pull?: 'streaming' | 'unary';
  /** Called with subscriber stream errors (e.g. NOT_FOUND for a missing subscription); default: stderr. */
  readonly onError?: (subscription: string, error: Error) => void;
}

/** Counts seen by this process (Pub/Sub itself keeps no counters the emulator would expose). */
export interface PubSubSubscriberStats {
  readonly subscription: string;
  readonly delivered: number;
  readonly acked: number;
  readonly nacked: number;
  /**
   * Distinct messages acked (by message id). `acked` counts acks, so a message Pub/Sub delivered
   * twice and both deliveries acked counts twice there and once here. The ids are kept for the
   * bus's life: a few megabytes per hundred thousand messages, fine for a run's process.
   */
  readonly ackedMessages: number;
  /** Deliveries with deliveryAttempt > 1. */
  readonly redelivered: number;
  /**
   * Deliveries nacked unsettled: still with their handler at the maximum lease, or left unsettled
   * by a handler that returned (one ack deadline later). Their late ack/nack was ignored.
   */
  readonly expired: number;
  readonly inFlight: number;
  /** Received from Pub/Sub and waiting for a free handler slot. */
  readonly waiting: number;
}

export interface PubSubBusStats {
  /** Messages accepted by Pub/Sub, per topic. */
  readonly publishedByTopic: Readonly<Record<string, number>>;
  /** One entry per subscribe() call still open or closed, summed per subscription name. */
  readonly subscriptions: readonly PubSubSubscriberStats[];
}

export interface PubSubBus extends MessageBus {
  /** `emulator host:port`, or `google-cloud` when talking to the real service. */
  readonly target: string;
  stats(): PubSubBusStats;
}

/** One subscription's counters in this process, shared by its subscribe() calls. */
export interface SubscriberCounters {
  delivered: number;
  acked: number;
  nacked: number;
  redelivered: number;
  expired: number;
  inFlight: number;
  waiting: number;
  /** Ids of the messages acked at least once (a message delivered and acked twice counts once). */
  readonly ackedIds: Set<string>;
}

export function newSubscriberCounters(): SubscriberCounters {
  return { delivered: 0, acked: 0, nacked: 0, redelivered: 0, expired: 0, inFlight: 0, waiting: 0, ackedIds: new Set() };
}

export function createClient(options: PubSubBusOptions): { pubsub: PubSub; target: string } {
  if (options.projectId === '') throw new Error('createPubSubBus: projectId must be non-empty');
  if (options.googleCloud === true) {
    // The client silently follows PUBSUB_EMULATOR_HOST; a cloud run must not be an emulator run by accident.
    if (options.emulatorHost !== undefined || process.env.PUBSUB_EMULATOR_HOST) {
      throw new Error('createPubSubBus: googleCloud: true was asked but an emulator host is set (option or PUBSUB_EMULATOR_HOST); unset it to reach real Pub/Sub');
    }
    return { pubsub: new PubSub({ projectId: options.projectId, emulatorMode: false }), target: 'google-cloud' };
  }
  const host = options.emulatorHost ?? process.env.PUBSUB_EMULATOR_HOST;
  if (host === undefined || host === '') {
    throw new Error('createPubSubBus: no Pub/Sub emulator host (pass emulatorHost or set PUBSUB_EMULATOR_HOST; `eval "$(raceday emulators env)"`); to use real Google Cloud pass googleCloud: true');
  }
  if (!/^[^:/]+:\d{1,5}$/.test(host) || /\.googleapis\.com:/.test(host)) {
    throw new Error(`createPubSubBus: emulator host must look like 127.0.0.1:8085, got ${JSON.stringify(host)}`);
  }
  // Without credentials the auth library would probe the GCE metadata server (169.254.169.254);
  // the emulator needs none, and traffic stays on the emulator host.
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  return { pubsub: new PubSub({ projectId: options.projectId, apiEndpoint: host, emulatorMode: true, ...EMULATOR_GRPC_KEEPALIVE }), target: host };
}

/**
 * The deadline Pub/Sub will apply for a requested one: whole seconds, and at least 10 s, because
 * streaming pull refuses `stream_ack_deadline_seconds` below 10 (the emulator too).
 */
export function effectiveAckDeadlineMs(ackDeadlineMs: number): number {
  const { ackDeadlineSecondsMin: min, ackDeadlineSecondsMax: max } = PUBSUB_BUS_LIMITS;
  if (!(ackDeadlineMs > 0) || ackDeadlineMs > max * 1000) throw new Error(`subscribe: ackDeadlineMs must be in 1..${max * 1000}, got ${ackDeadlineMs}`);
  return Math.max(min, Math.ceil(ackDeadlineMs / 1000)) * 1000;
}

/** Streaming pulls for a subscriber of `maxInFlight` handler slots (see handlerSlotsPerStream). */
export function streamsFor(maxInFlight: number): number {
  const { handlerSlotsPerStream, streamsPerSubscriberMax } = PUBSUB_BUS_LIMITS;
  return Math.min(streamsPerSubscriberMax, Math.max(1, Math.ceil(maxInFlight / handlerSlotsPerStream)));
}

export interface SubscriberSettings {
  readonly maxInFlight: number;
  /** The effective ack deadline (effectiveAckDeadlineMs). */
  readonly ackDeadlineMs: number;
  readonly leaseMaxMs: number;
}

/**
 * Hands one message to the handler and keeps the local end of its lease (see the header): renewed
 * by the client while held, nacked at the maximum lease or one deadline after its handler returned
 * unsettled. `released` is called once, when the delivery is settled either way.
 */
function handOut(m: PulledMessage, handler: DeliveryHandler, settings: SubscriberSettings, c: SubscriberCounters, released: () => void): void {
  let settled = false;
  let expiry: NodeJS.Timeout | undefined;
  const finish = (settle: () => void): void => {
    if (settled) return;
    settled = true;
    clearTimeout(expiry);
    settle();
    released();
  };
  /** Ends the lease `ms` from now (never past the maximum lease): the delivery is void, the message goes back. */
  const expireIn = (ms: number): void => {
    clearTimeout(expiry);
    const leaseLeftMs = m.received + settings.leaseMaxMs - Date.now();
    expiry = setTimeout(() => finish(() => (c.expired++, m.nack())), Math.max(0, Math.min(ms, leaseLeftMs)));
    expiry.unref(); // a handler still running after close() must not keep the process alive
  };
  expireIn(settings.leaseMaxMs);
  const deliveryAttempt = Math.max(1, m.deliveryAttempt);
  c.delivered++;
  if (deliveryAttempt > 1) c.redelivered++;
  const delivery: Delivery = {
    messageId: m.id,
    data: m.data.toString('utf8'),
    attributes: m.attributes,
    deliveryAttempt,
    publishTimeMs: m.publishTime.getTime(),
    ack: () => finish(() => (c.acked++, c.ackedIds.add(m.id), m.ack())),
    nack: () => finish(() => (c.nacked++, m.nack())),
  };
  Promise.resolve()
    .then(() => handler(delivery))
    .then(
      // Returned unsettled: an ack may still come (work handed elsewhere) within one deadline,
      // after which the message comes back as a crashed worker's would.
      () => {
        if (!settled) expireIn(settings.ackDeadlineMs);
      },
      () => delivery.nack(),
    );
}

/** What startSubscriber reads from: the client library's Subscription (streaming pull) or unaryPullSubscription. */
export interface SubscriptionLike {
  on(event: 'message', listener: (m: PulledMessage) => void): unknown;
  on(event: 'error', listener: (e: Error) => void): unknown;
  close(): Promise<void>;
  removeAllListeners(): unknown;
}

/**
 * The subscriber side of one subscribe() call: a gate of `maxInFlight` handler slots in front of
 * handOut. Exported for its unit test, which drives it with a fake subscription.
 */
export function startSubscriber(sub: SubscriptionLike, handler: DeliveryHandler, settings: SubscriberSettings, c: SubscriberCounters, onError: (e: Error) => void): SubscriptionHandle {
  const { maxInFlight } = settings;
  let inFlight = 0;
  let closed = false;
  const waiting: PulledMessage[] = [];
  let waitingHead = 0;

  const dispatch = (m: PulledMessage): void => {
    inFlight++;
    c.inFlight++;
    c.waiting--;
    handOut(m, handler, settings, c, () => {
      inFlight--;
      c.inFlight--;
      pump();
    });
  };

  const pump = (): void => {
    while (!closed && inFlight < maxInFlight && waitingHead < waiting.length) {
      dispatch(waiting[waitingHead++] as PulledMessage);
    }
    if (waitingHead > 1024 && waitingHead * 2 > waiting.length) {
      waiting.splice(0, waitingHead);
      waitingHead = 0;
    }
  };

  sub.on('message', (m: PulledMessage) => {
    if (closed) return m.nack();
    c.waiting++;
    waiting.push(m);
    pump();
  });
  sub.on('error', (e: Error) => onError(e));
  return {
    async close() {
      if (closed) return;
      closed = true;
      // Not yet handed out: give them back at once instead of waiting for their deadline.
      for (let i = waitingHead; i < waiting.length; i++) (waiting[i] as PulledMessage).nack();
      c.waiting -= waiting.length - waitingHead;
      waiting.length = 0;
      waitingHead = 0;
      await sub.close();
      sub.removeAllListeners();
    },
  };
}

export function createPubSubBus(options: PubSubBusOptions): PubSubBus {
  const { pubsub, target } = createClient(options);
  const topics = new Map<string, Topic>();
  const handles = new Set<SubscriptionHandle>();
  const published = new Map<string, number>();
  const counters = new Map<string, SubscriberCounters>();
  const leaseMaxMs = options.leaseMaxMs ?? PUBSUB_BUS_LIMITS.leaseMaxMsDefault;
  if (!Number.isSafeInteger(leaseMaxMs) || leaseMaxMs < 1) throw new Error(`createPubSubBus: leaseMaxMs must be a positive integer, got ${leaseMaxMs}`);
  let closed = false;
  const pull = options.pull ?? 'streaming';
  const report = options.onError ?? ((s: string, e: Error) => process.stderr.write(`pubsub-bus: subscription ${s}: ${e.message}\n`));

  const topicOf = (name: string): Topic => {
    let t = topics.get(name);
    if (t === undefined) {
      t = pubsub.topic(name, {
        batching: { maxMessages: PUBSUB_BUS_LIMITS.publishBatchMessagesMax, maxMilliseconds: PUBSUB_BUS_LIMITS.publishBatchDelayMs },
      });
      topics.set(name, t);
    }
    return t;
  };

  return {
    target,
    async publish(topic: string, messages: readonly BusMessage[]): Promise<void> {
      if (closed) throw new Error('bus is closed');
      const t = topicOf(topic);
      await Promise.all(
        messages.map((m) => {
          if (typeof m.data !== 'string') throw new Error(`invariant violated: message data on ${topic} must be a string`);
          return t.publishMessage({ data: Buffer.from(m.data, 'utf8'), attributes: m.attributes === undefined ? undefined : { ...m.attributes } });
        }),
      );
      published.set(topic, (published.get(topic) ?? 0) + messages.length);
    },
    subscribe(subscription: string, handler: DeliveryHandler, subscribeOptions: SubscribeOptions): SubscriptionHandle {
      if (closed) throw new Error('bus is closed');
      const { maxInFlight, ackDeadlineMs } = subscribeOptions;
      if (!Number.isInteger(maxInFlight) || maxInFlight < 1 || maxInFlight > PUBSUB_BUS_LIMITS.maxInFlightMax) {
        throw new Error(`subscribe: maxInFlight must be an integer in 1..${PUBSUB_BUS_LIMITS.maxInFlightMax}, got ${maxInFlight}`);
      }
      const seconds = effectiveAckDeadlineMs(ackDeadlineMs) / 1000;
      const deadline = Duration.from({ seconds });
      const sub: SubscriptionLike =
        pull === 'unary'
          ? unaryPullSubscription(pubsub, subscription, { window: maxInFlight * PUBSUB_BUS_LIMITS.clientWindowPerHandlerSlot, ackDeadlineSeconds: seconds })
          : (pubsub.subscription(subscription, {
        flowControl: { maxMessages: maxInFlight * PUBSUB_BUS_LIMITS.clientWindowPerHandlerSlot, allowExcessMessages: false },
        minAckDeadline: deadline,
        maxAckDeadline: deadline,
        maxExtensionTime: Duration.from({ milliseconds: leaseMaxMs }),
        streamingOptions: { maxStreams: streamsFor(maxInFlight) },
        batching: { maxMilliseconds: PUBSUB_BUS_LIMITS.ackBatchDelayMs },
      }) as unknown as SubscriptionLike);
      let c = counters.get(subscription);
      if (c === undefined) counters.set(subscription, (c = newSubscriberCounters()));
      const inner = startSubscriber(sub, handler, { maxInFlight, ackDeadlineMs: seconds * 1000, leaseMaxMs }, c, (e) => report(subscription, e));
      const handle: SubscriptionHandle = {
        async close() {
          handles.delete(handle);
          await inner.close();
        },
      };
      handles.add(handle);
      return handle;
    },
    stats(): PubSubBusStats {
      return {
        publishedByTopic: Object.fromEntries(published),
        subscriptions: [...counters].map(([subscription, { ackedIds, ...c }]) => ({ subscription, ...c, ackedMessages: ackedIds.size })),
      };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await Promise.all([...handles].map((h) => h.close()));
      await Promise.all([...topics.values()].map((t) => t.flush()));
      await pubsub.close();
    },
  };
}
