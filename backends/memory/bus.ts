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
//
// This file keeps the bookkeeping: which topics and subscriptions exist, publishing to them,
// subscribers joining and leaving, and the read-backs. The public types are in bus-types.ts, the
// records in bus-state.ts, and leases, acks, redelivery and faults in bus-delivery.ts.
import type { BusMessage, SubscribeOptions, SubscriptionHandle } from '../../core/ports.ts';
import { createRng } from '../../core/rng.ts';
import { allSubscriptions, allTopics, isAuditSubscription } from '../../core/topology.ts';
import { createRealClock } from './clock.ts';
import { createDeliveryEngine } from './bus-delivery.ts';
import { statsOf, zeroCounters, type MessageRecord, type Subscriber, type SubState } from './bus-state.ts';
import type { DeadLetter, MemoryBus, MemoryBusOptions } from './bus-types.ts';
import { Deque } from './deque.ts';

export { DEAD_LETTER_ATTRIBUTES, DEAD_LETTER_REASON_MAX_ATTEMPTS } from './bus-types.ts';
export type { BusFaults, BusStats, DeadLetter, MemoryBus, MemoryBusOptions, SubscriptionStats } from './bus-types.ts';

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});
const DEAD_LETTER_SUFFIX = '-dead-letter';

export function createMemoryBus(options: MemoryBusOptions = {}): MemoryBus {
  const clock = options.clock ?? createRealClock();
  const rng = options.rng ?? createRng(0);
  // Dead letters are published like any message; publishOne is defined below, before any delivery.
  const engine = createDeliveryEngine({ clock, rng, faults: options.faults ?? {}, publish: (topic, m) => publishOne(topic, m) });

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
  let nextMessageId = 1;
  let publishedTotal = 0;
  let droppedNoSubscription = 0;

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
      engine.enqueue(s, msg);
    }
  };

  const stateOf = (name: string): SubState => {
    const s = subs.get(name);
    if (s === undefined) throw new Error(`unknown subscription "${name}" (known: ${[...subs.keys()].join(', ')})`);
    return s;
  };

  return {
    async publish(topic, messages) {
      if (engine.isClosed()) throw new Error('bus is closed');
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
      engine.attach(s, sub);
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
      engine.close();
      for (const s of subs.values()) s.subscribers.length = 0;
    },
    stats: () => ({ published: publishedTotal, droppedNoSubscription, subscriptions: [...subs.values()].map((s) => statsOf(s, clock)) }),
    subscriptionStats: (name) => statsOf(stateOf(name), clock),
    deadLetters(topic) {
      const dl = deadLetterTopics.has(topic) ? topic : `${topic}${DEAD_LETTER_SUFFIX}`;
      return [...(deadLetterLog.get(dl) ?? [])];
    },
    isIdle() {
      for (const s of subs.values()) if (!isAuditSubscription(s.spec.name) && s.unacked > 0) return false;
      return true;
    },
  };
}
