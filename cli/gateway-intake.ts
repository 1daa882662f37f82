// Where a standalone gateway's notifications come from (`--intake`): opened here, in the CLI, with
// the backend's clients, and handed to the gateway as a NotificationIntake.
//   bus     the backend's bus, the topology's gateway subscription on `notifications`
//   pubsub  a Pub/Sub subscription of this instance's own (every instance sees every message)
//   redis   every notifications channel of a redis-server (started or reused, or --redis-url)
//   none    nothing: the process delivers notifications itself (tests, benches)
import { randomUUID } from 'node:crypto';
import { createPubSubInstanceSubscriptions } from '../backends/google/pubsub-instance-subscriptions.ts';
import { ensureRedis } from '../emulators/redis.ts';
import type { NotificationIntake } from '../gateway/contracts.ts';
import { createBusIntake } from '../gateway/intake/bus.ts';
import { createPubSubIntake } from '../gateway/intake/pubsub.ts';
import { createRedisIntake } from '../gateway/intake/redis.ts';
import { UsageError } from './args.ts';
import type { GatewayBackend } from './gateway-backend.ts';

export const INTAKES = ['bus', 'pubsub', 'redis', 'none'] as const;
export type IntakeKind = (typeof INTAKES)[number];

export interface OpenedIntake {
  readonly intake: NotificationIntake;
  /** Releases what opening it took (the per-instance subscription's admin client, an owned redis-server). */
  close(): Promise<void>;
}

export interface IntakeOptions {
  readonly instanceId?: string;
  readonly redisUrl?: string;
  readonly log?: (line: string) => void;
}

export async function openIntake(kind: IntakeKind, backend: GatewayBackend, o: IntakeOptions = {}): Promise<OpenedIntake | undefined> {
  switch (kind) {
    case 'none':
      return undefined;
    case 'bus':
      return { intake: createBusIntake(backend.bus), close: async () => undefined };
    case 'pubsub': {
      const projectId = backend.where['projectId'];
      const emulatorHost = backend.where['pubsubHost'];
      if (backend.name !== 'emulators' || typeof projectId !== 'string' || typeof emulatorHost !== 'string') throw new UsageError('--intake pubsub needs --backend emulators');
      const admin = createPubSubInstanceSubscriptions({ projectId, emulatorHost });
      const instanceId = o.instanceId ?? randomUUID().slice(0, 8);
      return { intake: createPubSubIntake(backend.bus, admin, { instanceId }), close: () => admin.close() };
    }
    case 'redis': {
      if (o.redisUrl !== undefined) return { intake: createRedisIntake({ url: o.redisUrl }), close: async () => undefined };
      const redis = await ensureRedis();
      o.log?.(`raceday gateway: redis-server ${redis.reused ? 'reused' : 'started'} at ${redis.url}`);
      return { intake: createRedisIntake({ url: redis.url }), close: () => redis.stop() };
    }
  }
}
