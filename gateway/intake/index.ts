// `--intake bus|pubsub|redis`: one factory so the gateway command and the run pick an intake by
// name. Each kind needs different ports; a missing one is a clear error, not a silent default.
import type { MessageBus } from '../../core/ports.ts';
import { createBusIntake, type StatsIntake } from './bus.ts';
import { createPubSubIntake, type InstanceSubscriptions } from './pubsub.ts';
import { createRedisIntake } from './redis.ts';

export { createBusIntake, type StatsIntake } from './bus.ts';
export { createPubSubIntake, instanceSubscriptionName, type InstanceSubscriptions } from './pubsub.ts';
export { createRedisIntake, createRedisNotificationsBus, redisChannelOf, redisChannels, type RedisPublisher } from './redis.ts';
export type { IntakeStats } from './parse.ts';

export const INTAKE_KINDS = ['bus', 'pubsub', 'redis'] as const;
export type IntakeKind = (typeof INTAKE_KINDS)[number];

export interface IntakeDeps {
  /** bus: the memory bus (or any MessageBus); pubsub: the Pub/Sub bus. */
  readonly bus?: MessageBus;
  /** pubsub: creates and deletes the instance's subscription. */
  readonly subscriptions?: InstanceSubscriptions;
  /** pubsub: this instance's id (its subscription is notifications-gw-<id>). */
  readonly instanceId?: string;
  /** redis: redis://127.0.0.1:PORT. */
  readonly redisUrl?: string;
  /** redis: user-sharded channels (0: the one channel `notifications`). */
  readonly redisShards?: number;
}

export function createIntake(kind: IntakeKind, deps: IntakeDeps): StatsIntake {
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the ${kind} intake needs ${what}`);
    return value;
  };
  switch (kind) {
    case 'bus':
      return createBusIntake(need(deps.bus, 'a bus'));
    case 'pubsub':
      return createPubSubIntake(need(deps.bus, 'the Pub/Sub bus'), need(deps.subscriptions, 'a subscription admin'), { instanceId: need(deps.instanceId, 'an instance id') });
    case 'redis':
      return createRedisIntake({ url: need(deps.redisUrl, 'a Redis URL'), shards: deps.redisShards ?? 0 });
    default:
      throw new Error(`unknown intake "${String(kind)}" (${INTAKE_KINDS.join(', ')})`);
  }
}
