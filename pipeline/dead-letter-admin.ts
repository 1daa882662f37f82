// Operating the dead letters (`raceday deadletters`): list what a topic's dead-letter topic holds,
// with the reason and the delivery attempts, and re-drive it to the topic after a fix. Both read
// the dead-letter audit subscription through the MessageBus port, so the same code serves the
// memory bus inside a run and Pub/Sub (emulator or cloud) from the command line.
// Listing leaves every letter where it was: deliveries are held unacked while the subscription is
// read (so each is counted once), then nacked back to it. A re-drive publishes each letter's data to its original topic
// (without the dead-letter attributes) and only then acks it, so a crash re-drives it again at
// worst, which the pipeline absorbs (settlement is exactly once per user).
import type { Clock, Delivery, MessageBus } from '../core/ports.ts';
import { deadLetterTopicOf } from '../core/topology.ts';

export interface DeadLetterEntry {
  readonly messageId: string;
  readonly data: string;
  /** Why it was dead-lettered: the pipeline's `reason`, or the bus's (e.g. max delivery attempts). */
  readonly reason: string;
  /** Deliveries of the original message before it was dead-lettered, when known. */
  readonly attempts: number | undefined;
  readonly userId?: string;
}

export const DEAD_LETTER_ADMIN_LIMITS = {
  /** Letters handled per call at most (held unacked at once while listing). */
  lettersMax: 10_000,
  /** The audit subscription is read until nothing new arrives for this long. */
  quietMs: 1_500,
  /**
   * ...and for at least this long before the first letter: a fresh streaming pull on the Pub/Sub
   * emulator took up to about 2 s to deliver anything (measured), an empty list must not be a guess.
   */
  firstWaitMs: 6_000,
  ackDeadlineMs: 60_000,
} as const;

/** Attributes the pipeline and the bus add when dead-lettering; a re-drive drops them. */
const DEAD_LETTER_ATTRIBUTES = ['reason', 'originalMessageId', 'deliveryAttempt', 'userId', 'deadLetterReason'];
const BUS_ATTEMPTS = 'CloudPubSubDeadLetterSourceDeliveryCount';

/** The audit subscription of a topic's dead-letter topic (core/topology.ts allSubscriptions). */
export function auditSubscriptionOf(topic: string): string {
  return `${deadLetterTopicOf(topic)}-audit`;
}

function entryOf(d: Delivery): DeadLetterEntry {
  const a = d.attributes;
  const attempts = Number(a['deliveryAttempt'] ?? a[BUS_ATTEMPTS] ?? Number.NaN);
  return {
    messageId: d.messageId,
    data: d.data,
    reason: a['reason'] ?? (a['deadLetterReason'] !== undefined ? `DELIVERY.ATTEMPTS_EXHAUSTED: ${a['deadLetterReason']}` : 'no reason given'),
    attempts: Number.isSafeInteger(attempts) ? attempts : undefined,
    ...(a['userId'] !== undefined ? { userId: a['userId'] } : {}),
  };
}

function originalAttributes(d: Delivery): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.attributes)) if (!DEAD_LETTER_ATTRIBUTES.includes(k) && !k.startsWith('CloudPubSubDeadLetter')) out[k] = v;
  return out;
}

export interface DeadLetterOptions {
  readonly quietMs?: number;
  readonly firstWaitMs?: number;
  readonly lettersMax?: number;
}

/** Reads the audit subscription until it is quiet; `each` decides what to do with every letter. */
async function drain(bus: MessageBus, clock: Clock, topic: string, options: DeadLetterOptions, each: (d: Delivery) => Promise<void>, beforeClose?: () => void): Promise<DeadLetterEntry[]> {
  const quietMs = options.quietMs ?? DEAD_LETTER_ADMIN_LIMITS.quietMs;
  const firstWaitMs = Math.max(quietMs, options.firstWaitMs ?? DEAD_LETTER_ADMIN_LIMITS.firstWaitMs);
  const max = options.lettersMax ?? DEAD_LETTER_ADMIN_LIMITS.lettersMax;
  const seen = new Map<string, DeadLetterEntry>();
  const work: Promise<void>[] = [];
  const repeats: Delivery[] = [];
  const startedAt = clock.nowMs();
  let lastArrival = startedAt;
  const handle = bus.subscribe(
    auditSubscriptionOf(topic),
    async (d) => {
      lastArrival = clock.nowMs();
      if (seen.has(d.messageId) || seen.size >= max) {
        // Seen already (a redelivery) or beyond the limit: held with the others and handed back at
        // the end (a nack now would come straight back, and each nack lengthens Pub/Sub's backoff).
        repeats.push(d);
        return;
      }
      seen.set(d.messageId, entryOf(d));
      const job = each(d);
      work.push(job);
      await job;
    },
    { maxInFlight: max, ackDeadlineMs: DEAD_LETTER_ADMIN_LIMITS.ackDeadlineMs },
  );
  try {
    const endsAt = (): number => (seen.size === 0 ? startedAt + firstWaitMs : lastArrival + quietMs);
    while (clock.nowMs() < endsAt() && seen.size < max) await clock.sleep(Math.max(1, endsAt() - clock.nowMs()));
    await Promise.all(work);
    beforeClose?.();
    for (const d of repeats) d.nack();
  } finally {
    await handle.close();
  }
  return [...seen.values()];
}

/** The letters of `topic`'s dead-letter topic, left in place. */
export async function listDeadLetters(bus: MessageBus, clock: Clock, topic: string, options: DeadLetterOptions = {}): Promise<DeadLetterEntry[]> {
  // Held unacked while reading (so each is seen once), then handed back.
  const held: Delivery[] = [];
  const entries = await drain(bus, clock, topic, options, async (d) => void held.push(d), () => {
    for (const d of held) d.nack();
  });
  return entries;
}

/** Publishes every letter of `topic`'s dead-letter topic back to `topic`, then acks it; returns what was re-driven. */
export function redriveDeadLetters(bus: MessageBus, clock: Clock, topic: string, options: DeadLetterOptions = {}): Promise<DeadLetterEntry[]> {
  return drain(bus, clock, topic, options, async (d) => {
    await bus.publish(topic, [{ data: d.data, attributes: originalAttributes(d) }]);
    d.ack();
  });
}
