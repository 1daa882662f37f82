// Proves provisioning is idempotent on the emulators: the first run creates every topic and
// subscription of core/topology.ts with its ack deadline, dead-letter topic, max delivery attempts
// and retry policy (read back through the admin API), plus the Spanner instance and a database with
// the schema; the second run creates nothing and changes nothing.
import { expect, it } from 'vitest';
import { allSubscriptions, allTopics } from '../core/topology.ts';
import { emulatorPubSub, provisionPubSub, provisionSpanner } from './provision.ts';
import { describeWithEmulators, useEmulators } from './test-support.ts';

describeWithEmulators('provisioning on the emulators', () => {
  const emulators = useEmulators();

  it('creates the Pub/Sub topology once, with the settings of core/topology.ts', async () => {
    const h = emulators();
    const first = await provisionPubSub(h);
    expect(first.topicsCreated).toEqual([...allTopics()].sort());
    expect(first.subscriptionsCreated).toEqual(allSubscriptions().map((s) => s.name).sort());
    const second = await provisionPubSub(h);
    expect(second).toEqual({ topicsCreated: [], subscriptionsCreated: [] });

    const admin = emulatorPubSub(h.projectId, h.pubsubHost as string);
    try {
      for (const spec of allSubscriptions()) {
        const [meta] = await admin.subscription(spec.name).getMetadata();
        expect(meta.topic).toBe(`projects/${h.projectId}/topics/${spec.topic}`);
        expect(meta.ackDeadlineSeconds).toBe(spec.ackDeadlineSeconds);
        expect(Number(meta.retryPolicy?.minimumBackoff?.seconds ?? 0) * 1000 + (meta.retryPolicy?.minimumBackoff?.nanos ?? 0) / 1e6).toBe(spec.minBackoffMs);
        expect(Number(meta.retryPolicy?.maximumBackoff?.seconds ?? 0) * 1000).toBe(spec.maxBackoffMs);
        if (spec.maxDeliveryAttempts > 0) {
          expect(meta.deadLetterPolicy?.deadLetterTopic).toBe(`projects/${h.projectId}/topics/${spec.deadLetterTopic}`);
          expect(meta.deadLetterPolicy?.maxDeliveryAttempts).toBe(spec.maxDeliveryAttempts);
        } else {
          expect(meta.deadLetterPolicy ?? null).toBeNull();
        }
      }
    } finally {
      await admin.close();
    }
  });

  it('creates the Spanner instance and database once', async () => {
    const h = emulators();
    expect(await provisionSpanner(h)).toEqual({ instanceCreated: true, databasesCreated: [] });
    expect(await provisionSpanner(h)).toEqual({ instanceCreated: false, databasesCreated: [] });
    expect(await provisionSpanner(h, ['raceday'])).toEqual({ instanceCreated: false, databasesCreated: ['raceday'] });
    expect(await provisionSpanner(h, ['raceday'])).toEqual({ instanceCreated: false, databasesCreated: [] });
  });
});
