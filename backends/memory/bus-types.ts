// The memory bus's public types: options and faults, the stats read-backs, dead letters, the
// MemoryBus port, and the dead-letter attribute names. Kept apart from the machinery (bus.ts,
// bus-delivery.ts) so callers and checkers read the contract without the mechanics.
import type { Clock, MessageBus, Rng } from '../../core/ports.ts';
import type { DeadLetter, SubscriptionSpec } from '../../core/topology.ts';

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

// The dead-letter record and attribute names are the bus contract (core/topology.ts), shared by every backend.
export type { DeadLetter } from '../../core/topology.ts';
export { DEAD_LETTER_ATTRIBUTES } from '../../core/topology.ts';

export interface MemoryBus extends MessageBus {
  stats(): BusStats;
  subscriptionStats(subscription: string): SubscriptionStats;
  /** Messages published to a dead-letter topic; pass the dead-letter topic or its source topic. */
  deadLetters(topic: string): readonly DeadLetter[];
  /** No message outstanding on any subscription but the dead-letter audit ones (the dead-letter intake's count). */
  isIdle(): boolean;
}

/** The reason the bus itself gives when it dead-letters a message. */
export const DEAD_LETTER_REASON_MAX_ATTEMPTS = 'max-delivery-attempts';
