// Runs the shared port contract suites (backends/contract) against the memory bus and store in
// real time, with short ack deadlines and retry backoffs so the run stays fast; the same suites
// run against the Pub/Sub and Spanner emulators with Pub/Sub's real minimums.
import { describeBusContract } from '../contract/bus-contract.ts';
import { describeDayProgressContract } from '../contract/day-progress-contract.ts';
import { describeNotificationLogContract } from '../contract/notification-log-contract.ts';
import { describeStoreContract } from '../contract/store-contract.ts';
import { describeStorePipelineContract } from '../contract/store-pipeline-contract.ts';
import { allSubscriptions } from '../../core/topology.ts';
import { createMemoryBus, createMemoryStore, createRealClock } from './index.ts';

// Short retry backoff keeps the five-attempt dead-letter test well under a second.
const fastSubscriptions = allSubscriptions().map((s) => ({ ...s, minBackoffMs: 5, maxBackoffMs: 20 }));

describeBusContract(
  'memory',
  async () => {
    const bus = createMemoryBus({ clock: createRealClock(), subscriptions: fastSubscriptions });
    return { bus, cleanup: () => bus.close() };
  },
  { ackDeadlineMs: 50, normalAckDeadlineMs: 5_000, waitMs: 5_000, subscriptions: fastSubscriptions, deadLetterAttributes: true },
);

describeStoreContract('memory', async () => {
  const store = createMemoryStore({ clock: createRealClock() });
  return { store, cleanup: () => store.close() };
});

describeDayProgressContract('memory', async () => {
  const store = createMemoryStore({ clock: createRealClock() });
  return { store, cleanup: () => store.close() };
});

describeStorePipelineContract('memory', async () => {
  const store = createMemoryStore({ clock: createRealClock() });
  return { store, cleanup: () => store.close() };
});

describeNotificationLogContract('memory', async () => {
  const store = createMemoryStore({ clock: createRealClock() });
  return { store, cleanup: () => store.close() };
});
