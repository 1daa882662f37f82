import { ensureEmulators } from '/work/main/emulators/index.ts';
import { createPubSubBus } from '/work/main/backends/google/pubsub-bus.ts';
import { provisionPubSub } from '/work/main/emulators/provision.ts';
const h = await ensureEmulators({ strategy: 'local', stateDir: '/tmp/h3/state' });
console.log('started');
try {
  await provisionPubSub(h, { topics: ['abc'], subscriptions: [] });
  console.log('provisioned');
  const bus = createPubSubBus({ projectId: h.projectId, emulatorHost: h.pubsubHost });
  await bus.publish('abc', [{ data: 'x' }]);
  console.log('published');
  await bus.close();
} finally { await h.stop(); }
