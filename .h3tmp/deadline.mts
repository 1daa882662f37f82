import { ensureEmulators, provisionPubSub } from '/work/main/emulators/index.ts';
import { PubSub, Duration } from '@google-cloud/pubsub';
const h = await ensureEmulators({ strategy: 'local', spanner: false, stateDir: '/tmp/h3/state' });
try {
  const ps = new PubSub({ projectId: h.projectId, apiEndpoint: h.pubsubHost, emulatorMode: true });
  for (const [label, opts] of [
    ['sub10-client-10s-ext1s', { minAckDeadline: Duration.from({ seconds: 10 }), maxAckDeadline: Duration.from({ seconds: 10 }), maxExtensionTime: Duration.from({ seconds: 1 }) }],
    ['sub10-client-10s-ext10', { minAckDeadline: Duration.from({ seconds: 10 }), maxAckDeadline: Duration.from({ seconds: 10 }), maxExtensionTime: Duration.from({ seconds: 10 }) }],
  ] as const) {
    const name = 'd' + Math.random().toString(36).slice(2, 8);
    const [t] = await ps.createTopic(name);
    await t.createSubscription(name, { ackDeadlineSeconds: 10 });
    const sub = ps.subscription(name, opts as any);
    const t0 = Date.now(); const times: number[] = [];
    sub.on('message', (m) => { times.push(Date.now() - t0); console.log(label, 'got', m.id, Date.now() - t0, m.deliveryAttempt); if (times.length >= 2) m.ack(); });
    await t.publishMessage({ data: Buffer.from('x') });
    await new Promise((r) => setTimeout(r, 25000));
    console.log(label, times);
    await sub.close();
  }
  await ps.close();
} finally { await h.stop(); }
