// The `pubsub` intake: every gateway instance needs every notification (a user may be connected
// to any instance), so each instance creates a Pub/Sub subscription of its own on the
// `notifications` topic when it starts and deletes it when it closes (a shared subscription would
// split the messages between instances). A subscription receives only what is published after it
// exists; a client catches up on earlier notifications from the Store (recovery.ts). The Google
// client stays in backends/google: the instance gets the subscription admin as a port.
import type { MessageBus } from '../../core/ports.ts';
import { TOPICS } from '../../core/topology.ts';
import type { IntakeMessage } from '../contracts.ts';
import { createBusIntake, type StatsIntake } from './bus.ts';

/** Creates and deletes one subscription (backends/google/pubsub-instance-subscriptions.ts on Pub/Sub). */
export interface InstanceSubscriptions {
  create(name: string, topic: string, ackDeadlineSeconds: number): Promise<void>;
  delete(name: string): Promise<void>;
}

export interface PubSubIntakeOptions {
  /** Unique per gateway instance: lower-case letters, digits and dashes, 1..40 characters. */
  readonly instanceId: string;
  readonly maxInFlight?: number;
  /** At least 10 s: streaming pull refuses shorter ack deadlines. */
  readonly ackDeadlineSeconds?: number;
  readonly nowMs?: () => number;
}

const INSTANCE_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;
const ACK_DEADLINE_SECONDS_DEFAULT = 10;

/** The per-instance subscription's name: `notifications-gw-<instanceId>`. */
export function instanceSubscriptionName(instanceId: string): string {
  if (!INSTANCE_ID.test(instanceId)) throw new Error(`gateway instance id ${JSON.stringify(instanceId)} must be 1..40 lower-case letters, digits and dashes, starting with a letter or digit`);
  return `${TOPICS.notifications}-gw-${instanceId}`;
}

export function createPubSubIntake(bus: MessageBus, admin: InstanceSubscriptions, options: PubSubIntakeOptions): StatsIntake {
  const name = instanceSubscriptionName(options.instanceId);
  const ackDeadlineSeconds = options.ackDeadlineSeconds ?? ACK_DEADLINE_SECONDS_DEFAULT;
  const inner = createBusIntake(bus, { subscription: name, ackDeadlineMs: ackDeadlineSeconds * 1000, ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }), ...(options.nowMs === undefined ? {} : { nowMs: options.nowMs }) });
  let created = false;
  return {
    async start(onMessage: (m: IntakeMessage) => void | Promise<void>) {
      await admin.create(name, TOPICS.notifications, ackDeadlineSeconds);
      created = true;
      await inner.start(onMessage);
    },
    async close() {
      await inner.close();
      if (created) await admin.delete(name);
      created = false;
    },
    stats: () => inner.stats(),
  };
}
