// Idempotent provisioning: Pub/Sub topics and subscriptions from core/topology.ts (ack deadline,
// dead-letter topic, max delivery attempts, retry policy), the Spanner instance, and the databases
// with their schema through backends/google/spanner-admin.ts. Running it twice creates nothing new.
import { PubSub } from '@google-cloud/pubsub';
import { ensureDatabases } from '../backends/google/spanner-admin.ts';
import { createSpannerClient } from '../backends/google/spanner-client.ts';
import { skipCloudMetadataLookup } from './readiness.ts';
import { allSubscriptions, allTopics, type SubscriptionSpec } from '../core/topology.ts';

/** The part of an EmulatorHandle that provisioning needs. */
export interface ProvisionTarget {
  readonly projectId: string;
  readonly spannerInstance: string;
  readonly pubsubHost?: string;
  readonly spannerHost?: string;
}

export interface PubSubProvisioned {
  readonly topicsCreated: readonly string[];
  readonly subscriptionsCreated: readonly string[];
}

/** gRPC ALREADY_EXISTS: a parallel provisioner created it first, which is success. */
const ALREADY_EXISTS = 6;

function grpcCode(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'number' ? e.code : undefined;
}

function durationOf(ms: number): { seconds: number; nanos: number } {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

/** Subscription settings in the admin API's shape, from one topology row. */
export function subscriptionMetadata(pubsub: PubSub, spec: SubscriptionSpec) {
  return {
    ackDeadlineSeconds: spec.ackDeadlineSeconds,
    retryPolicy: { minimumBackoff: durationOf(spec.minBackoffMs), maximumBackoff: durationOf(spec.maxBackoffMs) },
    ...(spec.maxDeliveryAttempts > 0
      ? { deadLetterPolicy: { deadLetterTopic: pubsub.topic(spec.deadLetterTopic).name, maxDeliveryAttempts: spec.maxDeliveryAttempts } }
      : {}),
  };
}

/** A Pub/Sub admin client for an emulator endpoint (never Google Cloud). */
export function emulatorPubSub(projectId: string, hostPort: string): PubSub {
  skipCloudMetadataLookup();
  return new PubSub({ projectId, apiEndpoint: hostPort, emulatorMode: true });
}

async function createIfMissing(create: () => Promise<unknown>): Promise<boolean> {
  try {
    await create();
    return true;
  } catch (e) {
    if (grpcCode(e) === ALREADY_EXISTS) return false;
    throw e;
  }
}

/** Creates the missing topics and subscriptions (default: the whole topology); existing ones are left as they are. */
export async function provisionPubSub(
  target: ProvisionTarget,
  topology: { topics?: readonly string[]; subscriptions?: readonly SubscriptionSpec[] } = {},
): Promise<PubSubProvisioned> {
  if (target.pubsubHost === undefined) throw new Error('provisionPubSub: this handle has no Pub/Sub emulator');
  const pubsub = emulatorPubSub(target.projectId, target.pubsubHost);
  try {
    const topics = topology.topics ?? allTopics();
    const subs = topology.subscriptions ?? allSubscriptions();
    const topicsCreated: string[] = [];
    // Topics first: subscriptions and dead-letter policies refer to them.
    await Promise.all(
      topics.map(async (t) => {
        if (await createIfMissing(() => pubsub.createTopic(t))) topicsCreated.push(t);
      }),
    );
    const subscriptionsCreated: string[] = [];
    await Promise.all(
      subs.map(async (s) => {
        if (await createIfMissing(() => pubsub.topic(s.topic).createSubscription(s.name, subscriptionMetadata(pubsub, s)))) subscriptionsCreated.push(s.name);
      }),
    );
    return { topicsCreated: topicsCreated.sort(), subscriptionsCreated: subscriptionsCreated.sort() };
  } finally {
    await pubsub.close();
  }
}

export interface SpannerProvisioned {
  readonly instanceCreated: boolean;
  readonly databasesCreated: readonly string[];
}

/** Creates the Spanner instance, and the databases with the schema when `databaseIds` are given. */
export async function provisionSpanner(target: ProvisionTarget, databaseIds: readonly string[] = []): Promise<SpannerProvisioned> {
  if (target.spannerHost === undefined) throw new Error('provisionSpanner: this handle has no Spanner emulator');
  const where = { projectId: target.projectId, instanceId: target.spannerInstance, emulator: true, emulatorHost: target.spannerHost };
  if (databaseIds.length > 0) return ensureDatabases({ ...where, databaseIds });
  const spanner = createSpannerClient(where);
  try {
    const instance = spanner.instance(target.spannerInstance);
    const [exists] = await instance.exists();
    if (exists) return { instanceCreated: false, databasesCreated: [] };
    const created = await createIfMissing(async () => {
      const [, operation] = await spanner.createInstance(target.spannerInstance, { config: 'emulator-config', nodes: 1, displayName: target.spannerInstance });
      await operation.promise();
    });
    return { instanceCreated: created, databasesCreated: [] };
  } finally {
    spanner.close();
  }
}
