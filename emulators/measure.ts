// Pub/Sub end to end through the emulator with one subscriber: publish n messages to a fresh topic,
// receive and ack them through the same MessageBus the pipeline uses, and report messages/second.
import { randomUUID } from 'node:crypto';
import { createPubSubBus } from '../backends/google/pubsub-bus.ts';
import type { BusMessage } from '../core/ports.ts';
import { emulatorPubSub } from './provision.ts';

export interface PubSubThroughput {
  readonly messages: number;
  readonly elapsedMs: number;
  readonly messagesPerSecond: number;
  /** Deliveries beyond the first of a message (0 on a healthy run). */
  readonly redeliveries: number;
}

const MEASURE_LIMITS = {
  messagesMax: 1_000_000,
  publishChunk: 1_000,
  maxInFlight: 1_000,
  ackDeadlineMs: 60_000,
  /** The whole measurement gives up after this long rather than hang a bench run. */
  timeoutMs: 300_000,
} as const;

/** Measures publish → receive → ack of `n` messages (publishing and consuming overlap, as in the pipeline). */
export async function measurePubSubThroughput(handle: { projectId: string; pubsubHost?: string }, n: number): Promise<PubSubThroughput> {
  if (!Number.isInteger(n) || n < 1 || n > MEASURE_LIMITS.messagesMax) throw new Error(`n must be an integer in 1..${MEASURE_LIMITS.messagesMax}, got ${n}`);
  if (handle.pubsubHost === undefined) throw new Error('measurePubSubThroughput: the handle has no Pub/Sub emulator');
  const admin = emulatorPubSub(handle.projectId, handle.pubsubHost);
  const name = `measure-${randomUUID().slice(0, 8)}`;
  const [topic] = await admin.createTopic(name);
  const [subscription] = await topic.createSubscription(name, { ackDeadlineSeconds: 60 });
  const bus = createPubSubBus({ projectId: handle.projectId, emulatorHost: handle.pubsubHost });
  const seen = new Set<string>();
  let deliveries = 0;
  try {
    let resolveDone: () => void = () => undefined;
    const done = new Promise<void>((r) => (resolveDone = r));
    const sub = bus.subscribe(
      name,
      async (d) => {
        deliveries++;
        seen.add(d.data);
        d.ack();
        if (seen.size === n) resolveDone();
      },
      { maxInFlight: MEASURE_LIMITS.maxInFlight, ackDeadlineMs: MEASURE_LIMITS.ackDeadlineMs },
    );
    const startedMs = performance.now();
    for (let i = 0; i < n; i += MEASURE_LIMITS.publishChunk) {
      const chunk: BusMessage[] = [];
      for (let j = i; j < Math.min(n, i + MEASURE_LIMITS.publishChunk); j++) chunk.push({ data: String(j) });
      await bus.publish(name, chunk);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${seen.size} of ${n} messages arrived within ${MEASURE_LIMITS.timeoutMs} ms`)), MEASURE_LIMITS.timeoutMs)));
    await Promise.race([done, timeout]).finally(() => clearTimeout(timer));
    const elapsedMs = performance.now() - startedMs;
    await sub.close();
    return { messages: n, elapsedMs: Math.round(elapsedMs), messagesPerSecond: Math.round((n * 1000) / elapsedMs), redeliveries: deliveries - seen.size };
  } finally {
    await bus.close();
    await subscription.delete().catch(() => undefined);
    await topic.delete().catch(() => undefined);
    await admin.close();
  }
}
