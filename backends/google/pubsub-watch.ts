// Watching a Pub/Sub bus from the process that runs the whole pipeline: when is nothing
// outstanding, how deep did each subscription's backlog get, and what reached the dead-letter
// topics. Pub/Sub (and its emulator) exposes no backlog counters to a client, so the watcher
// derives them from what this process published and acked (every publisher and subscriber of a
// `raceday run` lives in one process), and reads the dead-letter audit subscriptions of
// core/topology.ts to see dead letters, both those the pipeline publishes with a reason and those
// Pub/Sub forwards after max delivery attempts.
import type { SubscriptionHandle } from '../../core/ports.ts';
import { allSubscriptions, deadLetterTopicOf, isAuditSubscription, type SubscriptionSpec } from '../../core/topology.ts';
import type { PubSubBus } from './pubsub-bus.ts';

export interface WatchedDeadLetter {
  readonly data: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface SubscriptionBacklog {
  readonly subscription: string;
  readonly topic: string;
  /** Published to the topic by this process, minus the distinct messages acked on the subscription and those forwarded to its dead-letter topic. */
  readonly backlog: number;
}

export interface PubSubWatch {
  /** Nothing published and unacked, in flight or waiting on any watched subscription. */
  isIdle(): boolean;
  stats(): { readonly subscriptions: readonly SubscriptionBacklog[] };
  /** Dead letters seen so far on the dead-letter topic of `topic` (source or dead-letter topic name). */
  deadLetters(topic: string): readonly WatchedDeadLetter[];
  /** Records the current backlogs into the maxima (call it on a timeline). */
  sample(): void;
  backlogMax(): Readonly<Record<string, number>>;
  /** Deliveries with deliveryAttempt > 1, over all watched subscriptions. */
  redeliveries(): number;
  close(): Promise<void>;
}

export const WATCH_LIMITS = {
  /** Dead letters kept per dead-letter topic (a broken run must not grow memory without bound). */
  deadLettersKeptMax: 10_000,
  auditMaxInFlight: 64,
  auditAckDeadlineMs: 60_000,
} as const;

/** Attributes Pub/Sub sets on a message it forwards to a dead-letter topic. */
const SOURCE_SUBSCRIPTION = 'CloudPubSubDeadLetterSourceSubscription';
const SOURCE_DELIVERY_COUNT = 'CloudPubSubDeadLetterSourceDeliveryCount';
/** The memory bus's reason attribute and value for the same event, so checkers read both alike. */
const REASON_ATTRIBUTE = 'deadLetterReason';
const REASON_MAX_ATTEMPTS = 'max-delivery-attempts';

function isDeadLetterTopic(topic: string): boolean {
  return topic.endsWith('-dead-letter');
}

/** `projects/p/subscriptions/name` or `name` -> `name`. */
function shortName(subscription: string): string {
  const slash = subscription.lastIndexOf('/');
  return slash === -1 ? subscription : subscription.slice(slash + 1);
}

export function watchPubSub(bus: PubSubBus, subscriptions: readonly SubscriptionSpec[] = allSubscriptions()): PubSubWatch {
  // The dead-letter intake's subscriptions are pipeline work like any stage's; the audit ones are read here.
  const watched = subscriptions.filter((s) => !isAuditSubscription(s.name));
  const audits = subscriptions.filter((s) => isAuditSubscription(s.name) && isDeadLetterTopic(s.topic));
  const letters = new Map<string, WatchedDeadLetter[]>();
  const forwardedFrom = new Map<string, number>();
  const maxima = new Map<string, number>();
  const handles: SubscriptionHandle[] = audits.map((spec) =>
    bus.subscribe(
      spec.name,
      async (d) => {
        const source = d.attributes[SOURCE_SUBSCRIPTION];
        const attributes = source !== undefined && d.attributes[SOURCE_DELIVERY_COUNT] !== undefined ? { ...d.attributes, [REASON_ATTRIBUTE]: d.attributes[REASON_ATTRIBUTE] ?? REASON_MAX_ATTEMPTS } : d.attributes;
        if (source !== undefined) forwardedFrom.set(shortName(source), (forwardedFrom.get(shortName(source)) ?? 0) + 1);
        let list = letters.get(spec.topic);
        if (list === undefined) letters.set(spec.topic, (list = []));
        if (list.length < WATCH_LIMITS.deadLettersKeptMax) list.push({ data: d.data, attributes });
        d.ack();
      },
      { maxInFlight: WATCH_LIMITS.auditMaxInFlight, ackDeadlineMs: WATCH_LIMITS.auditAckDeadlineMs },
    ),
  );

  const backlogs = (): SubscriptionBacklog[] => {
    const s = bus.stats();
    const byName = new Map(s.subscriptions.map((c) => [c.subscription, c]));
    return watched.map((spec) => {
      const published = s.publishedByTopic[spec.topic] ?? 0;
      // Distinct message ids: Pub/Sub may deliver a message twice and both deliveries be acked;
      // counting acks then let the backlog reach 0 while other messages were still unacked, so a
      // run could end early. Forwarded dead letters carry no source id and are counted as they come.
      const acked = byName.get(spec.name)?.ackedMessages ?? 0;
      // A dead-letter topic also receives what Pub/Sub forwarded (seen on the audit subscription).
      const forwardedInto = subscriptions.reduce((n, from) => (from.maxDeliveryAttempts > 0 && from.deadLetterTopic === spec.topic ? n + (forwardedFrom.get(from.name) ?? 0) : n), 0);
      return { subscription: spec.name, topic: spec.topic, backlog: Math.max(0, published + forwardedInto - acked - (forwardedFrom.get(spec.name) ?? 0)) };
    });
  };

  return {
    isIdle() {
      const counters = new Map(bus.stats().subscriptions.map((c) => [c.subscription, c]));
      const busy = watched.some((spec) => {
        const c = counters.get(spec.name);
        return c !== undefined && (c.inFlight > 0 || c.waiting > 0);
      });
      return !busy && backlogs().every((b) => b.backlog === 0);
    },
    stats: () => ({ subscriptions: backlogs() }),
    deadLetters(topic) {
      return letters.get(isDeadLetterTopic(topic) ? topic : deadLetterTopicOf(topic)) ?? [];
    },
    sample() {
      for (const b of backlogs()) if (b.backlog > (maxima.get(b.subscription) ?? 0)) maxima.set(b.subscription, b.backlog);
    },
    backlogMax: () => Object.fromEntries(watched.map((s) => [s.name, maxima.get(s.name) ?? 0])),
    redeliveries: () => bus.stats().subscriptions.filter((c) => watched.some((w) => w.name === c.subscription)).reduce((n, c) => n + c.redelivered, 0),
    async close() {
      await Promise.all(handles.splice(0).map((h) => h.close()));
    },
  };
}
