// The memory bus's internal records: a published message per subscription, a delivery with its
// lease, a subscriber with its flow-control window, and a subscription's state with its counters,
// plus the stats read-back computed from that state. The delivery machinery (bus-delivery.ts)
// and the bookkeeping of topics and subscriptions (bus.ts) share these shapes.
import type { Clock, Delivery, DeliveryHandler } from '../../core/ports.ts';
import type { SubscriptionSpec } from '../../core/topology.ts';
import type { SubscriptionStats } from './bus-types.ts';
import type { Deque } from './deque.ts';

export interface MessageRecord {
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

export interface LeaseOps {
  ack(lease: Lease): void;
  nack(lease: Lease): void;
}

/**
 * One delivery and its lease in one object, since a million-message backlog makes a million of
 * them. Call ack() and nack() as methods (they are on the prototype).
 */
export class Lease implements Delivery {
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
export class DuplicateOf {
  readonly msg: MessageRecord;
  constructor(msg: MessageRecord) {
    this.msg = msg;
  }
}

export interface Subscriber {
  readonly handler: DeliveryHandler;
  readonly maxInFlight: number;
  readonly ackDeadlineMs: number;
  inFlight: number;
  closed: boolean;
  /** Leases in deadline order (one deadline per subscriber, so arrival order is deadline order). */
  readonly leases: Deque<Lease>;
  cancelLeaseTimer: (() => void) | undefined;
}

export interface Counters {
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

export interface SubState {
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

export function zeroCounters(): Counters {
  return { published: 0, delivered: 0, acked: 0, nacked: 0, redelivered: 0, duplicates: 0, expired: 0, lostAcks: 0, lateAcks: 0, deadLettered: 0 };
}

/** Drops acked and dead-lettered messages from the front of the age queue. */
export function dropDone(s: SubState): void {
  while (s.byAge.peek()?.done === true) s.byAge.shift();
}

export function statsOf(s: SubState, clock: Clock): SubscriptionStats {
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
}
