// The `pubsub` intake on the Pub/Sub emulator: two gateway instances each create their own
// subscription on `notifications` when they start, both receive every notification published
// after that, and each deletes its subscription when it closes.
import { describe, expect, it } from 'vitest';
import { createPubSubBus } from '../../backends/google/pubsub-bus.ts';
import { createPubSubInstanceSubscriptions } from '../../backends/google/pubsub-instance-subscriptions.ts';
import { TOPICS } from '../../core/topology.ts';
import { emulatorPubSub, provisionPubSub } from '../../emulators/provision.ts';
import { describeWithEmulators, useEmulators } from '../../emulators/test-support.ts';
import { createPubSubIntake, instanceSubscriptionName } from './pubsub.ts';
import { collecting, eventually, notificationMessages } from './_fixtures/messages.ts';

describe('pubsub intake names', () => {
  it('names one subscription per instance and refuses an id Pub/Sub would not take', () => {
    expect(instanceSubscriptionName('gw-1')).toBe('notifications-gw-gw-1');
    expect(() => instanceSubscriptionName('Gw 1')).toThrow(/instance id/);
    expect(() => instanceSubscriptionName('')).toThrow(/instance id/);
  });
});

describeWithEmulators('pubsub intake on the emulator', () => {
  const emulators = useEmulators({ spanner: false });

  it('gives every instance every notification through a subscription of its own, deleted on close', async () => {
    const h = emulators();
    await provisionPubSub(h, { topics: [TOPICS.notifications], subscriptions: [] });
    const target = { projectId: h.projectId, emulatorHost: h.pubsubHost as string };
    const bus = createPubSubBus(target);
    const admin = createPubSubInstanceSubscriptions(target);
    const [a, b] = [createPubSubIntake(bus, admin, { instanceId: 'a' }), createPubSubIntake(bus, admin, { instanceId: 'b' })];
    const [gotA, gotB] = [await collecting(a), await collecting(b)];
    const listed = async (): Promise<string[]> => {
      const pubsub = emulatorPubSub(h.projectId, h.pubsubHost as string);
      try {
        const [subs] = await pubsub.getSubscriptions();
        return subs.map((s) => s.name.split('/').pop() as string).sort();
      } finally {
        await pubsub.close();
      }
    };
    expect(await listed()).toEqual(['notifications-gw-a', 'notifications-gw-b']);
    const messages = notificationMessages(30);
    await bus.publish(TOPICS.notifications, messages);
    const want = messages.map((m) => JSON.parse(m.data).notificationId).sort();
    await eventually('both instances', () => new Set(gotA.ids).size === 30 && new Set(gotB.ids).size === 30, 30_000);
    expect([...new Set(gotA.ids)].sort()).toEqual(want);
    expect([...new Set(gotB.ids)].sort()).toEqual(want);
    await Promise.all([a.close(), b.close()]);
    expect(await listed()).toEqual([]);
    await admin.close();
    await bus.close();
  }, 60_000);
});
