// Proves the Pub/Sub watcher on the emulator (started or reused through emulators/test-support.ts):
// the backlog it derives (published - acked - forwarded) is sampled into its maxima; it is not idle
// while a message is unacked; a message nacked until max delivery attempts is seen on the
// dead-letter audit subscription with Pub/Sub's attributes plus the memory bus's reason, and then
// counts as settled, so the watcher turns idle; a dead letter the pipeline publishes keeps its reason.
// Without an emulator: acks are counted by distinct message id, so a message delivered and acked
// twice does not hide another message's backlog (nor make the watcher idle early).
import { expect, it } from 'vitest';
import { DEAD_LETTER_INTAKE, SUBSCRIPTIONS, TOPICS, deadLetterTopicOf } from '../../core/topology.ts';
import { provisionPubSub } from '../../emulators/provision.ts';
import { describeWithEmulators, useEmulators } from '../../emulators/test-support.ts';
import { createPubSubBus, type PubSubBus, type PubSubSubscriberStats } from './pubsub-bus.ts';
import { watchPubSub } from './pubsub-watch.ts';

const WAIT_MS_MAX = 40_000;

async function until(what: string, condition: () => boolean): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > WAIT_MS_MAX) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('counts distinct acked messages, so duplicate acks do not reduce the backlog', async () => {
  // Three messages published; one was delivered twice and both deliveries acked, one is unacked.
  const settle: PubSubSubscriberStats = { subscription: SUBSCRIPTIONS.settle.name, delivered: 3, acked: 3, ackedMessages: 2, nacked: 0, redelivered: 1, expired: 0, inFlight: 0, waiting: 0 };
  const bus = {
    target: 'fake',
    publish: async () => undefined,
    subscribe: () => ({ close: async () => undefined }),
    close: async () => undefined,
    stats: () => ({ publishedByTopic: { [TOPICS.settleRequests]: 3 }, subscriptions: [settle] }),
  } satisfies PubSubBus;
  const watch = watchPubSub(bus);
  watch.sample();
  expect(watch.stats().subscriptions.find((b) => b.subscription === SUBSCRIPTIONS.settle.name)?.backlog).toBe(1);
  expect(watch.backlogMax()[SUBSCRIPTIONS.settle.name]).toBe(1);
  expect(watch.isIdle()).toBe(false);
  await watch.close();
});

describeWithEmulators('Pub/Sub watcher', () => {
  const emulators = useEmulators();

  it('derives backlogs, sees dead letters of both kinds, and tells when nothing is outstanding', async () => {
    const h = emulators();
    await provisionPubSub(h);
    const bus = createPubSubBus({ projectId: h.projectId, emulatorHost: h.pubsubHost as string });
    const watch = watchPubSub(bus);
    try {
      expect(watch.isIdle()).toBe(true);
      await bus.publish(TOPICS.settleRequests, ['a', 'b', 'c', 'poison'].map((data) => ({ data })));
      watch.sample();
      expect(watch.backlogMax()[SUBSCRIPTIONS.settle.name]).toBe(4);
      expect(watch.isIdle()).toBe(false);
      const handle = bus.subscribe(
        SUBSCRIPTIONS.settle.name,
        async (d) => {
          if (d.data === 'poison') d.nack();
          else d.ack();
        },
        { maxInFlight: 8, ackDeadlineMs: 10_000 },
      );
      await until('the poison message to be dead-lettered by Pub/Sub', () => watch.deadLetters(TOPICS.settleRequests).length === 1);
      const [forwarded] = watch.deadLetters(TOPICS.settleRequests);
      expect(forwarded?.data).toBe('poison');
      expect(forwarded?.attributes['deadLetterReason']).toBe('max-delivery-attempts');
      expect(forwarded?.attributes['CloudPubSubDeadLetterSourceSubscription']).toContain(SUBSCRIPTIONS.settle.name);
      // Forwarded into the dead-letter topic, it is work for the dead-letter intake until acked there.
      expect(watch.stats().subscriptions.find((s) => s.subscription === DEAD_LETTER_INTAKE.settleRequests.name)?.backlog).toBe(1);
      expect(watch.isIdle()).toBe(false);
      const intake = bus.subscribe(DEAD_LETTER_INTAKE.settleRequests.name, async (d) => d.ack(), { maxInFlight: 8, ackDeadlineMs: 10_000 });
      await until('the watcher to turn idle', () => watch.isIdle());
      await intake.close();
      expect(watch.stats().subscriptions.every((s) => s.backlog === 0)).toBe(true);
      expect(watch.redeliveries()).toBeGreaterThanOrEqual(SUBSCRIPTIONS.settle.maxDeliveryAttempts - 1);

      await bus.publish(deadLetterTopicOf(TOPICS.settled), [{ data: '{not json', attributes: { reason: 'INPUT.INVALID: not JSON' } }]);
      await until('the pipeline dead letter to arrive', () => watch.deadLetters(deadLetterTopicOf(TOPICS.settled)).length === 1);
      expect(watch.deadLetters(TOPICS.settled)[0]?.attributes['reason']).toBe('INPUT.INVALID: not JSON');
      await handle.close();
    } finally {
      await watch.close();
      await bus.close();
    }
  });
});
