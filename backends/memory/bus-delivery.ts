// The memory bus's delivery machinery: ready queues and the pump, leases with their ack
// deadlines, acks and nacks, redelivery after the retry backoff, dead-lettering after
// `maxDeliveryAttempts`, and the faults drawn from the rng. It owns every timer the bus arms, so
// closing it stops them all; which topics and subscriptions exist is bus.ts's business.
import type { BusMessage, Clock, Rng } from '../../core/ports.ts';
import type { SubscriptionSpec } from '../../core/topology.ts';
import { schedulerOf } from './clock.ts';
import { DEAD_LETTER_ATTRIBUTES, DEAD_LETTER_REASON_MAX_ATTEMPTS, type BusFaults } from './bus-types.ts';
import { dropDone, DuplicateOf, Lease, type LeaseOps, type MessageRecord, type Subscriber, type SubState } from './bus-state.ts';

const DEFAULT_REORDER_MAX_DELAY_MS = 50;

export interface DeliveryOptions {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly faults: BusFaults;
  /** Publishes to a topic of the bus (dead letters go through it like any message). */
  readonly publish: (topic: string, m: BusMessage) => void;
}

export interface DeliveryEngine {
  /** Takes a message just published for the subscription and makes it deliverable. */
  enqueue(s: SubState, msg: MessageRecord): void;
  /** Adds a subscriber to the subscription's round-robin and starts delivering to it. */
  attach(s: SubState, sub: Subscriber): void;
  isClosed(): boolean;
  /** Stops every timer; outstanding leases stay unsettled. */
  close(): void;
}

function checkProbability(name: string, p: number | undefined): number {
  const v = p ?? 0;
  if (!(v >= 0 && v <= 1)) throw new Error(`invariant violated: faults.${name} must be in [0, 1], got ${p}`);
  return v;
}

export function createDeliveryEngine(options: DeliveryOptions): DeliveryEngine {
  const { clock, rng, faults, publish } = options;
  const schedule = schedulerOf(clock);
  const pDuplicate = checkProbability('duplicateProbability', faults.duplicateProbability);
  const pReorder = checkProbability('reorderProbability', faults.reorderProbability);
  const pLostAck = checkProbability('lostAckProbability', faults.lostAckProbability);
  const pLate = checkProbability('delayPastDeadlineProbability', faults.delayPastDeadlineProbability);
  const reorderMaxDelayMs = faults.reorderMaxDelayMs ?? DEFAULT_REORDER_MAX_DELAY_MS;
  /** Draws only when the fault is on, so turning faults off does not shift other random draws. */
  const roll = (p: number): boolean => p > 0 && rng.nextU32() / 4294967296 < p;

  const timers = new Set<() => void>();
  /** Every subscriber ever attached, closed ones too: their leases' timers must stop on close. */
  const everySubscriber: Subscriber[] = [];
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

  const enqueue = (s: SubState, msg: MessageRecord): void => {
    s.byAge.push(msg);
    s.unacked++;
    s.counters.published++;
    makeReady(s, msg, false, roll(pReorder) ? 1 + (rng.nextU32() % Math.max(1, reorderMaxDelayMs)) : 0);
  };

  const backoffMs = (spec: SubscriptionSpec, attempts: number): number =>
    Math.min(spec.maxBackoffMs, spec.minBackoffMs * 2 ** Math.min(30, Math.max(0, attempts - 1)));

  const deadLetter = (s: SubState, msg: MessageRecord): void => {
    msg.done = true;
    s.unacked--;
    dropDone(s);
    s.counters.deadLettered++;
    publish(s.spec.deadLetterTopic, {
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

  return {
    enqueue,
    attach(s, sub) {
      s.subscribers.push(sub);
      everySubscriber.push(sub);
      schedulePump(s);
    },
    isClosed: () => closed,
    close() {
      closed = true;
      for (const cancel of timers) cancel();
      timers.clear();
      for (const sub of everySubscriber) sub.cancelLeaseTimer?.();
    },
  };
}
