// The shared MessageBus contract against the Pub/Sub bus with unary pulls (pubsub-pull.ts) on the
// emulator: the same promises as StreamingPull (at-least-once, flow control, leases renewed while
// held, expiry after the ack deadline, redelivery counts, dead-lettering), in a project of its own.
import { describeBusContract } from '../contract/bus-contract.ts';
import { allSubscriptions } from '../../core/topology.ts';
import { provisionPubSub } from '../../emulators/provision.ts';
import { describeWithEmulators, useEmulators } from '../../emulators/test-support.ts';
import { createPubSubBus } from './pubsub-bus.ts';

const subscriptions = allSubscriptions().map((s) => ({ ...s, maxBackoffMs: 1_000 }));

describeWithEmulators('Pub/Sub emulator, unary pulls', () => {
  const emulators = useEmulators({ spanner: false });
  let provisioned: Promise<unknown> | undefined;

  describeBusContract(
    'pubsub-emulator-unary-pull',
    async () => {
      const h = emulators();
      provisioned ??= provisionPubSub(h, { subscriptions });
      await provisioned;
      const bus = createPubSubBus({ projectId: h.projectId, emulatorHost: h.pubsubHost, pull: 'unary' });
      return { bus, cleanup: () => bus.close() };
    },
    { ackDeadlineMs: 10_000, subscriptions, deadLetterAttributes: false },
  );
});
