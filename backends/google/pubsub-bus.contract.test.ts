// Runs the shared MessageBus contract (backends/contract/bus-contract.ts) against the Pub/Sub bus on
// the Pub/Sub emulator, provisioned from core/topology.ts in a project of its own, once per way of
// pulling: StreamingPull (the client library's) and unary Pull (pubsub-pull.ts, the worker
// processes'). Pub/Sub's real minimums apply: a 10 s ack deadline for the expiry test; the retry
// backoff is capped at 1 s so the five-attempt dead-letter test stays short. Pub/Sub adds no
// `deadLetterReason` attribute (the pipeline adds reasons itself when it dead-letters), so that
// optional check is off.
import { describeBusContract } from '../contract/bus-contract.ts';
import { allSubscriptions } from '../../core/topology.ts';
import { provisionPubSub } from '../../emulators/provision.ts';
import { describeWithEmulators, useEmulators } from '../../emulators/test-support.ts';
import { createPubSubBus } from './pubsub-bus.ts';

const subscriptions = allSubscriptions().map((s) => ({ ...s, maxBackoffMs: 1_000 }));

for (const pull of ['streaming', 'unary'] as const) {
  describeWithEmulators(`Pub/Sub emulator, ${pull} pulls`, () => {
    const emulators = useEmulators({ spanner: false });
    let provisioned: Promise<unknown> | undefined;

    describeBusContract(
      pull === 'streaming' ? 'pubsub-emulator' : 'pubsub-emulator-unary-pull',
      async () => {
        const h = emulators();
        provisioned ??= provisionPubSub(h, { subscriptions });
        await provisioned;
        const bus = createPubSubBus({ projectId: h.projectId, emulatorHost: h.pubsubHost, pull });
        return { bus, cleanup: () => bus.close() };
      },
      { ackDeadlineMs: 10_000, subscriptions, deadLetterAttributes: false },
    );
  });
}
