// The in-process message bus with Pub/Sub semantics: every subscription of a topic gets its own
// copy of each message; delivery is at-least-once with a lease per delivery (the ack deadline);
// a nack or an expired lease redelivers after the retry policy's backoff; after
// `maxDeliveryAttempts` failed deliveries the message moves to the subscription's dead-letter
// topic; flow control caps the deliveries outstanding per subscriber; several subscribers on one
// subscription share its messages round-robin. Faults (duplicates, reordering, lost acks,
// delivery past the deadline) are drawn from the rng, so a seed replays them.
//
// Like Pub/Sub, a message published to a topic without subscriptions is dropped (counted in
// `droppedNoSubscription`); a message published to a topic the bus does not know is an error.
import type { BusMessage, Clock, Delivery, DeliveryHandler, MessageBus, Rng, SubscribeOptions, SubscriptionHandle } from '../../core/ports.ts';
import { createRng } from '../../core/rng.ts';
import { allSubscriptions, allTopics, type SubscriptionSpec } from '../../core/topology.ts';
import { createRealClock, schedulerOf } from './clock.ts';
import { Deque } from './deque.ts';

/** Fault probabilities in [0, 1]; all default to 0 (off). */
export interface BusFaults {
  /** A delivery is followed by a second delivery of the same message (same id and attempt). */
  readonly duplicateProbability?: number;
  /** A message becomes deliverable only after a random delay up to `reorderMaxDelayMs`. */
  readonly reorderProbability?: number;
  readonly reorderMaxDelayMs?: number;
  /** An ack is silently dropped; the lease expires and the message is redelivered. */
  readonly lostAckProbability?: number;
  /** The handler gets the delivery only after its ack deadline passed (its ack will be ignored). */
  readonly delayPastDeadlineProbability?: number;
}

export interface MemoryBusOptions {
  readonly clock?: Clock;
  readonly rng?: Rng;
  readonly subscriptions?: readonly SubscriptionSpec[];
  /** Topics that exist besides those of the subscriptions (default: topology's allTopics()). */
  readonly topics?: readonly string[];
  readonly faults?: BusFaults;
}

export interface SubscriptionStats {
  readonly subscription: string;
  readonly topic: string;
  readonly published: number;
  readonly delivered: number;
  readonly acked: number;
  readonly nacked: number;
  /** Deliveries with deliveryAttempt > 1. */
  readonly redelivered: number;
  readonly duplicates: number;
  readonly expired: number;
  readonly lostAcks: number;
  readonly lateAcks: number;
  readonly deadLettered: number;
  /** Published and neither acked nor dead-lettered yet. */
  readonly backlog: number;
  readonly inFlight: number;
  /** Age of the oldest message in the backlog; 0 when empty. */
  readonly oldestUnackedAgeMs: number;
}

export interface BusStats {
  readonly published: number;
  readonly droppedNoSubscription: number;
  readonly subscriptions: readonly SubscriptionStats[];
}

export interface DeadLetter {
  readonly messageId: string;
  readonly data: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly publishTimeMs: number;
}

export interface MemoryBus extends MessageBus {
  stats(): BusStats;
  subscriptionStats(subscription: string): SubscriptionStats;
  /** Messages published to a dead-letter topic; pass the dead-letter topic or its source topic. */
  deadLetters(topic: string): readonly DeadLetter[];
  /** No message outstanding on any subscription outside the dead-letter topics. */
  isIdle(): boolean;
}

/** The reason the bus itself gives when it dead-letters a message. */
export const DEAD_LETTER_REASON_MAX_ATTEMPTS = 'max-delivery-attempts';
/** Attribute names as Pub/Sub sets them on dead-lettered messages, plus raceday's reason. */
export const DEAD_LETTER_ATTRIBUTES = {
  reason: 'deadLetterReason',
  deliveryCount: 'CloudPubSubDeadLetterSourceDeliveryCount',
  sourceSubscription: 'CloudPubSubDeadLetterSourceSubscription',
} as const;

const DEFAULT_REORDER_MAX_DELAY_MS = 50;
const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});
const DEAD_LETTER_SUFFIX = '-dead-letter';

interface MessageRecord {
  readonly messageId: string;
  readonly data: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly publishTimeMs: number;
  attempts: number;
  /** Deliveries handed out and not yet acked, nacked or expired. */
  leases: number;
  /** Waiting in the ready queue or in a backoff timer (the primary copy, not a duplicate). */
  queued: boolean;
  done: boolean;
}

interface LeaseOps {
  ack(lease: Lease): void;
  nack(lease: Lease): void;
}

/**
 * One delivery and its lease in one object, since a million-message backlog makes a million of
 * them. Call ack() and nack() as methods (they are on the prototype).
 */
class Lease implements Delivery {
  readonly messageId: string;
  readonly data: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly deliveryAttempt: number;
  readonly publishTimeMs: number;
  readonly msg: MessageRecord;
  readonly deadlineMs: number;
  readonly subscriber: Subscriber;
  readonly state: SubState;
  private readonly ops: LeaseOps;
  settled = false;
  /** Settled by its deadline passing (an ack now is a late ack, ignored). */
  expired = false;

  constructor(msg: MessageRecord, deadlineMs: number, subscriber: Subscriber, state: SubState, ops: LeaseOps) {
    this.messageId = msg.messageId;
    this.data = msg.data;
    this.attributes = msg.attributes;
    this.deliveryAttempt = Math.max(1, msg.attempts);
    this.publishTimeMs = msg.publishTimeMs;
    this.msg = msg;
    this.deadlineMs = deadlineMs;
    this.subscriber = subscriber;
    this.state = state;
    this.ops = ops;
  }

  ack(): void {
    this.ops.ack(this);
  }

  nack(): void {
    this.ops.nack(this);
  }
}

/** A ready-queue entry for a duplicate delivery (the original is queued as its record). */
class DuplicateOf {
  readonly msg: MessageRecord;
  constructor(msg: MessageRecord) {
    this.msg = msg;
  }
}

interface Subscriber {
  readonly handler: DeliveryHandler;
  readonly maxInFlight: number;
  readonly ackDeadlineMs: number;
  inFlight: number;
  closed: boolean;
  /** Leases in deadline order (one deadline per subscriber, so arrival order is deadline order). */
  readonly leases: Deque<Lease>;
  cancelLeaseTimer: (() => void) | undefined;
}

interface Counters {
  published: number;
  delivered: number;
  acked: number;
  nacked: number;
  redelivered: number;
  duplicates: number;
  expired: number;
  lostAcks: number;
  lateAcks: number;
  deadLettered: number;
}

interface SubState {
  readonly spec: SubscriptionSpec;
  readonly ready: Deque<MessageRecord | DuplicateOf>;
  /**
   * Messages in publish order; done ones are dropped lazily from the front, so the first one left
   * is the oldest unacked. (No hash map: a million-message backlog costs no rehashing.)
   */
  readonly byAge: Deque<MessageRecord>;
  unacked: number;
  readonly subscribers: Subscriber[];
  next: number;
  pumpScheduled: boolean;
  readonly counters: Counters;
}

function checkProbability(name: string, p: number | undefined): number {
  const v = p ?? 0;
  if (!(v >= 0 && v <= 1)) throw new Error(`invariant violated: faults.${name} must be in [0, 1], got ${p}`);
  return v;
}

function zeroCounters(): Counters {
  return { published: 0, delivered: 0, acked: 0, nacked: 0, redelivered: 0, duplicates: 0, expired: 0, lostAcks: 0, lateAcks: 0, deadLettered: 0 };
}

export function createMemoryBus(options: MemoryBusOptions = {}): MemoryBus {
  const clock = options.clock ?? createRealClock();
  const rng = options.rng ?? createRng(0);
  const schedule = schedulerOf(clock);
  const faults = options.faults ?? {};
  const pDuplicate = checkProbability('duplicateProbability', faults.duplicateProbability);
  const pReorder = checkProbability('reorderProbability', faults.reorderProbability);
  const pLostAck = checkProbability('lostAckProbability', faults.lostAckProbability);
  const pLate = checkProbability('delayPastDeadlineProbability', faults.delayPastDeadlineProbability);
  const reorderMaxDelayMs = faults.reorderMaxDelayMs ?? DEFAULT_REORDER_MAX_DELAY_MS;
  /** Draws only when the fault is on, so turning faults off does not shift other random draws. */
  const roll = (p: number): boolean => p > 0 && rng.nextU32() / 4294967296 < p;

  const subs = new Map<string, SubState>();
  const subsByTopic = new Map<string, SubState[]>();
  const topics = new Set<string>(options.topics ?? allTopics());
  const deadLetterTopics = new Set<string>();
  for (const spec of options.subscriptions ?? allSubscriptions()) {
    if (subs.has(spec.name)) throw new Error(`invariant violated: subscription ${spec.name} defined twice`);
    const state: SubState = { spec, ready: new Deque(), byAge: new Deque(), unacked: 0, subscribers: [], next: 0, pumpScheduled: false, counters: zeroCounters() };
    subs.set(spec.name, state);
    subsByTopic.set(spec.topic, [...(subsByTopic.get(spec.topic) ?? []), state]);
    topics.add(spec.topic);
    if (spec.maxDeliveryAttempts > 0) {
      topics.add(spec.deadLetterTopic);
      deadLetterTopics.add(spec.deadLetterTopic);
    }
  }
  for (const t of topics) if (t.endsWith(DEAD_LETTER_SUFFIX)) deadLetterTopics.add(t);
  const deadLetterLog = new Map<string, DeadLetter[]>();
  const timers = new Set<() => void>();
  /** Every subscriber ever attached, closed ones too: their leases' timers must stop on close. */
  const everySubscriber: Subscriber[] = [];
  let nextMessageId = 1;
  let publishedTotal = 0;
  let droppedNoSubscription = 0;
  let closed = false;

  /** A one-shot timer the bus cancels on close. */
  const later = (delayMs: number, fn: () => void): void => {
    const cancel = schedule(delayMs, () => {
      timers.delete(cancel);
      if (!closed) fn();
    });
    timers.add(cancel);
  };

  const schedulePump = (s: SubState): void => {
    if (s.pumpScheduled || closed) return;
    s.pumpScheduled = true;
    later(0, () => {
      s.pumpScheduled = false;
      pump(s);
    });
  };

  const makeReady = (s: SubState, msg: MessageRecord, duplicate: boolean, delayMs: number): void => {
    if (!duplicate) msg.queued = true;
    if (delayMs > 0) {
      later(delayMs, () => makeReady(s, msg, duplicate, 0));
      return;
    }
    s.ready.push(duplicate ? new DuplicateOf(msg) : msg);
    schedulePump(s);
  };

  const publishOne = (topic: string, m: BusMessage): void => {
    const messageId = String(nextMessageId++);
    publishedTotal++;
    const attributes = m.attributes === undefined ? NO_ATTRIBUTES : Object.freeze({ ...m.attributes });
    if (deadLetterTopics.has(topic)) {
      const log = deadLetterLog.get(topic) ?? [];
      log.push({ messageId, data: m.data, attributes, publishTimeMs: clock.nowMs() });
      deadLetterLog.set(topic, log);
    }
    const targets = subsByTopic.get(topic);
    if (targets === undefined || targets.length === 0) {
      droppedNoSubscription++;
      return;
    }
    for (const s of targets) {
      const msg: MessageRecord = { messageId, data: m.data, attributes, publishTimeMs: clock.nowMs(), attempts: 0, leases: 0, queued: false, done: false };
      s.byAge.push(msg);
      s.unacked++;
      s.counters.published++;
      makeReady(s, msg, false, roll(pReorder) ? 1 + (rng.nextU32() % Math.max(1, reorderMaxDelayMs)) : 0);
    }
  };

  const dropDone = (s: SubState): void => {
    while (s.byAge.peek()?.done === true) s.byAge.shift();
  };

  const backoffMs = (spec: SubscriptionSpec, attempts: number): number =>
    Math.min(spec.maxBackoffMs, spec.minBackoffMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));

  const deadLetter = (s: SubState, msg: MessageRecord): void => {
    msg.done = true;
    s.unacked--;
    dropDone(s);
    s.counters.deadLettered++;
    publishOne(s.spec.deadLetterTopic, {
      data: msg.data,
      attributes: {
        ...msg.attributes,
        [DEAD_LETTER_ATTRIBUTES.reason]: DEAD_LETTER_REASON_MAX_ATTEMPTS,
        [DEAD_LETTER_ATTRIBUTES.deliveryCount]: String(msg.attempts),
        [DEAD_LETTER_ATTRIBUTES.sourceSubscription]: s.spec.name,
      },
    });
  };

  /** After a nack or an expiry: redeliver after backoff, or dead-letter, once no copy is out. */
  const retry = (s: SubState, msg: MessageRecord): void => {
    if (msg.done || msg.leases > 0 || msg.queued) return;
    if (s.spec.maxDeliveryAttempts > 0 && msg.attempts >= s.spec.maxDeliveryAttempts) deadLetter(s, msg);
    else makeReady(s, msg, false, backoffMs(s.spec, msg.attempts));
  };

  const release = (s: SubState, lease: Lease): void => {
    lease.settled = true;
    lease.subscriber.inFlight--;
    lease.msg.leases--;
    trimLeases(lease.subscriber);
    schedulePump(s);
  };

  const ack = (s: SubState, lease: Lease): void => {
    if (lease.settled) {
      if (lease.expired) s.counters.lateAcks++;
      return;
    }
    if (roll(pLostAck)) {
      s.counters.lostAcks++;
      return;
    }
    release(s, lease);
    const msg = lease.msg;
    if (!msg.done) {
      msg.done = true;
      s.unacked--;
      dropDone(s);
      s.counters.acked++;
    }
  };

  const nack = (s: SubState, lease: Lease): void => {
    if (lease.settled) return;
    s.counters.nacked++;
    release(s, lease);
    retry(s, lease.msg);
  };

  const ops: LeaseOps = { ack: (l) => ack(l.state, l), nack: (l) => nack(l.state, l) };

  const expireDue = (s: SubState, sub: Subscriber): void => {
    sub.cancelLeaseTimer = undefined;
    const now = clock.nowMs();
    for (let l = sub.leases.peek(); l !== undefined && (l.settled || l.deadlineMs <= now); l = sub.leases.peek()) {
      sub.leases.shift();
      if (l.settled) continue;
      l.expired = true;
      s.counters.expired++;
      release(s, l);
      retry(s, l.msg);
    }
    armLeaseTimer(s, sub);
  };

  const armLeaseTimer = (s: SubState, sub: Subscriber): void => {
    const head = sub.leases.peek();
    if (head === undefined || sub.cancelLeaseTimer !== undefined || closed) return;
    sub.cancelLeaseTimer = schedule(Math.max(1, head.deadlineMs - clock.nowMs()), () => expireDue(s, sub));
  };

  /** Drops settled leases from the front so acked work does not pile up until its deadline. */
  const trimLeases = (sub: Subscriber): void => {
    while (sub.leases.peek()?.settled === true) sub.leases.shift();
    if (sub.leases.length === 0 && sub.cancelLeaseTimer !== undefined) {
      sub.cancelLeaseTimer();
      sub.cancelLeaseTimer = undefined;
    }
  };

  const pickSubscriber = (s: SubState): Subscriber | undefined => {
    const n = s.subscribers.length;
    for (let i = 0; i < n; i++) {
      const sub = s.subscribers[(s.next + i) % n] as Subscriber;
      if (sub.inFlight < sub.maxInFlight) {
        s.next = (s.next + i + 1) % n;
        return sub;
      }
    }
    return undefined;
  };

  const deliver = (s: SubState, sub: Subscriber, msg: MessageRecord, duplicate: boolean): void => {
    if (duplicate) s.counters.duplicates++;
    else {
      msg.attempts++;
      if (msg.attempts > 1) s.counters.redelivered++;
    }
    s.counters.delivered++;
    msg.leases++;
    sub.inFlight++;
    const lease = new Lease(msg, clock.nowMs() + sub.ackDeadlineMs, sub, s, ops);
    sub.leases.push(lease);
    armLeaseTimer(s, sub);
    if (!duplicate && roll(pDuplicate)) makeReady(s, msg, true, 0);
    if (roll(pLate)) later(sub.ackDeadlineMs + 1, () => run(sub, lease));
    else run(sub, lease);
  };

  /**
   * A handler that throws or rejects without settling the delivery counts as a nack. It is called
   * right here (the pump runs as its own task), which saves two promises a message.
   */
  const run = (sub: Subscriber, lease: Lease): void => {
    try {
      const done = sub.handler(lease) as Promise<void> | undefined;
      if (typeof done?.catch === 'function') done.catch(() => lease.nack());
    } catch {
      lease.nack();
    }
  };

  const pump = (s: SubState): void => {
    while (s.ready.length > 0 && !closed) {
      const head = s.ready.peek() as MessageRecord | DuplicateOf;
      const duplicate = head instanceof DuplicateOf;
      const msg = duplicate ? head.msg : head;
      // A duplicate goes out even when the original was acked meanwhile: that is the hazard.
      if (msg.done && !duplicate) {
        s.ready.shift();
        continue;
      }
      const sub = pickSubscriber(s);
      if (sub === undefined) return;
      s.ready.shift();
      if (!duplicate) msg.queued = false;
      deliver(s, sub, msg, duplicate);
    }
  };

  const stateOf = (name: string): SubState => {
    const s = subs.get(name);
    if (s === undefined) throw new Error(`unknown subscription "${name}" (known: ${[...subs.keys()].join(', ')})`);
    return s;
  };

  const statsOf = (s: SubState): SubscriptionStats => {
    dropDone(s);
    const oldest = s.byAge.peek();
    return {
      subscription: s.spec.name,
      topic: s.spec.topic,
      ...s.counters,
      backlog: s.unacked,
      inFlight: s.subscribers.reduce((n, sub) => n + sub.inFlight, 0),
      oldestUnackedAgeMs: oldest === undefined ? 0 : Math.max(0, clock.nowMs() - oldest.publishTimeMs),
    };
  };

  return {
    async publish(topic, messages) {
      if (closed) throw new Error('bus is closed');
      if (!topics.has(topic)) throw new Error(`unknown topic "${topic}" (Pub/Sub answers NOT_FOUND)`);
      for (const m of messages) {
        if (typeof m.data !== 'string') throw new Error(`invariant violated: message data on ${topic} must be a string`);
        publishOne(topic, m);
      }
    },
    subscribe(subscription, handler, subscribeOptions: SubscribeOptions): SubscriptionHandle {
      const s = stateOf(subscription);
      const { maxInFlight, ackDeadlineMs } = subscribeOptions;
      if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new Error(`invariant violated: maxInFlight must be an integer >= 1, got ${maxInFlight}`);
      if (!(ackDeadlineMs > 0)) throw new Error(`invariant violated: ackDeadlineMs must be > 0, got ${ackDeadlineMs}`);
      const sub: Subscriber = { handler, maxInFlight, ackDeadlineMs, inFlight: 0, closed: false, leases: new Deque(), cancelLeaseTimer: undefined };
      s.subscribers.push(sub);
      everySubscriber.push(sub);
      schedulePump(s);
      return {
        async close() {
          if (sub.closed) return;
          sub.closed = true;
          // Its outstanding leases stay and expire (or are acked late) like a crashed client's.
          const i = s.subscribers.indexOf(sub);
          if (i >= 0) s.subscribers.splice(i, 1);
          s.next = 0;
        },
      };
    },
    async close() {
      closed = true;
      for (const cancel of timers) cancel();
      timers.clear();
      for (const sub of everySubscriber) sub.cancelLeaseTimer?.();
      for (const s of subs.values()) s.subscribers.length = 0;
    },
    stats: () => ({ published: publishedTotal, droppedNoSubscription, subscriptions: [...subs.values()].map(statsOf) }),
    subscriptionStats: (name) => statsOf(stateOf(name)),
    deadLetters(topic) {
      const dl = deadLetterTopics.has(topic) ? topic : `${topic}${DEAD_LETTER_SUFFIX}`;
      return [...(deadLetterLog.get(dl) ?? [])];
    },
    isIdle() {
      for (const s of subs.values()) if (!deadLetterTopics.has(s.spec.topic) && s.unacked > 0) return false;
      return true;
    },
  };
}
