// The topics and subscriptions of the reference pipeline, in one table that every backend
// provisions from (memory bus, Pub/Sub emulator, real Pub/Sub).

export const TOPICS = {
  raceResults: 'race-results',
  settleRequests: 'settle-requests',
  settled: 'settled',
  notifications: 'notifications',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

export interface SubscriptionSpec {
  readonly name: string;
  readonly topic: string;
  readonly ackDeadlineSeconds: number;
  /** After this many deliveries the bus forwards the message to `deadLetterTopic`. */
  readonly maxDeliveryAttempts: number;
  readonly deadLetterTopic: string;
  /** Redelivery backoff after a nack (Pub/Sub retry policy). */
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
}

/** Dead-letter topic of a topic: poison messages land here with a `reason` attribute. */
export function deadLetterTopicOf(topic: string): string {
  return `${topic}-dead-letter`;
}

/**
 * Deliveries of one message before the bus forwards it to the dead-letter topic: 5, the default
 * of Pub/Sub's dead-letter policy (it allows 5..100). Whoever puts a message there (a handler
 * with its reason, or the bus itself after a crash or lease expiry on the last attempt), the
 * dead-letter intake (pipeline/dead-letter-intake.ts) makes its users terminal for the ranking.
 */
export const MAX_DELIVERY_ATTEMPTS = 5;

function sub(name: string, topic: string, ackDeadlineSeconds: number): SubscriptionSpec {
  return {
    name,
    topic,
    ackDeadlineSeconds,
    maxDeliveryAttempts: MAX_DELIVERY_ATTEMPTS,
    deadLetterTopic: deadLetterTopicOf(topic),
    minBackoffMs: 100,
    maxBackoffMs: 10_000,
  };
}

export const SUBSCRIPTIONS = {
  fanOut: sub('race-results-fanout', TOPICS.raceResults, 60),
  settle: sub('settle-requests-settle', TOPICS.settleRequests, 30),
  postSettle: sub('settled-post-settle', TOPICS.settled, 30),
  notify: sub('settled-notify', TOPICS.settled, 30),
  gateway: sub('notifications-gateway', TOPICS.notifications, 10),
} as const;

/** Every topic to create, dead-letter topics included. */
export function allTopics(): string[] {
  const names = new Set<string>();
  for (const t of Object.values(TOPICS)) {
    names.add(t);
    names.add(deadLetterTopicOf(t));
  }
  return [...names];
}

/** A subscription without a dead-letter policy (a dead letter of a dead letter has nowhere to go: it is retried). */
function noPolicy(spec: SubscriptionSpec): SubscriptionSpec {
  return { ...spec, maxDeliveryAttempts: 0 };
}

/**
 * The dead-letter intake: a pipeline stage of its own on the dead-letter topics of the topics whose
 * messages name users the ranking barrier waits for (settle requests, and `settled` for
 * post-settle). Every dead letter there makes its users terminal, however it got there.
 */
export const DEAD_LETTER_INTAKE = {
  settleRequests: noPolicy(sub(`${deadLetterTopicOf(TOPICS.settleRequests)}-intake`, deadLetterTopicOf(TOPICS.settleRequests), 30)),
  settled: noPolicy(sub(`${deadLetterTopicOf(TOPICS.settled)}-intake`, deadLetterTopicOf(TOPICS.settled), 30)),
} as const;

/** The audit subscriptions nobody consumes in a run (`raceday deadletters` reads them): not outstanding work. */
export function isAuditSubscription(name: string): boolean {
  return name.endsWith('-audit');
}

/** Every subscription to create: the stages', the dead-letter intake's, and one audit subscription per dead-letter topic so dead letters can be read back. */
export function allSubscriptions(): SubscriptionSpec[] {
  const subs: SubscriptionSpec[] = Object.values(SUBSCRIPTIONS);
  const deadLetterSubs = Object.values(TOPICS).map((t) => noPolicy(sub(`${deadLetterTopicOf(t)}-audit`, deadLetterTopicOf(t), 60)));
  return [...subs, ...Object.values(DEAD_LETTER_INTAKE), ...deadLetterSubs];
}

/** A message on a dead-letter topic, as every bus reads it back (the memory bus, the Pub/Sub watcher). */
export interface DeadLetter {
  readonly messageId: string;
  readonly data: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly publishTimeMs: number;
}

/** Attribute names as Pub/Sub sets them on dead-lettered messages, plus raceday's reason. */
export const DEAD_LETTER_ATTRIBUTES = {
  reason: 'deadLetterReason',
  deliveryCount: 'CloudPubSubDeadLetterSourceDeliveryCount',
  sourceSubscription: 'CloudPubSubDeadLetterSourceSubscription',
} as const;
