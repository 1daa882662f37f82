// Per-instance Pub/Sub subscriptions for the gateway's `pubsub` intake (gateway/intake/pubsub.ts):
// each gateway instance creates its own subscription on the `notifications` topic when it starts
// and deletes it when it closes, so every instance sees every message. No dead-letter policy (a
// notification the gateway cannot take is acked and counted there, not retried), and on real
// Pub/Sub an expiration of one day (the shortest allowed), so an instance that died without
// closing leaves nothing behind for long.
import type { PubSub } from '@google-cloud/pubsub';
import { createClient, type PubSubBusOptions } from './pubsub-bus.ts';

export interface PubSubInstanceSubscriptions {
  create(name: string, topic: string, ackDeadlineSeconds: number): Promise<void>;
  delete(name: string): Promise<void>;
  close(): Promise<void>;
}

const EXPIRE_UNUSED_AFTER_SECONDS = 24 * 3600;

/** gRPC ALREADY_EXISTS / NOT_FOUND. */
const codeOf = (e: unknown): number | undefined => (e as { code?: number }).code;

export function createPubSubInstanceSubscriptions(options: PubSubBusOptions): PubSubInstanceSubscriptions {
  const { pubsub }: { pubsub: PubSub } = createClient(options);
  return {
    async create(name, topic, ackDeadlineSeconds) {
      try {
        await pubsub.topic(topic).createSubscription(name, { ackDeadlineSeconds, expirationPolicy: { ttl: { seconds: EXPIRE_UNUSED_AFTER_SECONDS } } });
      } catch (e) {
        // Left by an instance of the same id that died: reuse it (it has only newer messages to give).
        if (codeOf(e) !== 6) throw e;
      }
    },
    async delete(name) {
      try {
        await pubsub.subscription(name).delete();
      } catch (e) {
        if (codeOf(e) !== 5) throw e;
      }
    },
    async close() {
      await pubsub.close();
    },
  };
}
