// A half-open connection to the emulators is noticed: the project's Pub/Sub and Spanner clients
// ping over HTTP/2 (backends/google/grpc-keepalive.ts), so when Toxiproxy passes no byte and
// closes nothing, the streaming pull gives its dead connection up and opens a new one within
// seconds, and both clients work again once the fault clears. With the library's default
// keepalive (300 s) the Pub/Sub client opened no new connection during a 160 s fault. (Spanner's
// channel pool opens connections of its own as calls pile up, so a new Spanner connection does
// not tell that the old one was noticed; its recovery is checked instead.)
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SUBSCRIPTIONS, TOPICS } from '../core/topology.ts';
import { startToxiproxy, type Toxiproxy } from '../emulators/toxiproxy.ts';
import { describeWithEmulators, useEmulators } from '../emulators/test-support.ts';
import { openBackend } from '../sim/open-backend.ts';
import { injectNetworkFault, proxyEmulators } from './network.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describeWithEmulators('half-open connections to the emulators', () => {
  const emulators = useEmulators({ applyEnv: false });
  let toxi: Toxiproxy;
  beforeAll(async () => {
    toxi = await startToxiproxy({ seed: 9 });
  }, 30_000);
  afterAll(async () => {
    await toxi?.stop();
  });

  it('the streaming pull replaces a half-open connection within the keepalive, and both clients recover after the fault', async () => {
    const proxied = await proxyEmulators(toxi, emulators(), { pubsub: 'ho-pubsub', spanner: 'ho-spanner' });
    const backend = await openBackend('emulators', { emulators: proxied.handle });
    const received: string[] = [];
    const sub = backend.bus.subscribe(SUBSCRIPTIONS.gateway.name, async (d) => {
      received.push(d.data);
      d.ack();
    }, { maxInFlight: 8, ackDeadlineMs: 10_000 });
    try {
      await backend.bus.publish(TOPICS.notifications, [{ data: 'before' }]);
      while (!received.includes('before')) await sleep(50);
      await backend.store.getRace('warm-up');
      await sleep(1_100); // the log's timestamps are whole seconds: nothing before the fault may count
      const faultAt = Date.now();
      const fault = await Promise.all([proxied.proxies.pubsub, proxied.proxies.spanner].map((p) => injectNetworkFault(toxi, p, 'half-open', { durationMs: 30_000 })));
      // A call in flight: grpc-js pings only while calls are active.
      const read = backend.store.getRace('during').then(() => 'ok', (e: Error) => e.message);
      const fresh = (proxy: string) => toxi.acceptedConnections(proxy).filter((t) => t >= Math.floor(faultAt / 1000) * 1000).length;
      const deadline = Date.now() + 25_000;
      while (fresh(proxied.proxies.pubsub) === 0 && Date.now() < deadline) await sleep(250);
      expect(fresh(proxied.proxies.pubsub)).toBeGreaterThan(0);
      await Promise.all(fault.map((f) => f.clear()));
      expect(await read).toBe('ok');
      await backend.bus.publish(TOPICS.notifications, [{ data: 'after' }]);
      const until = Date.now() + 20_000;
      while (!received.includes('after') && Date.now() < until) await sleep(50);
      expect(received).toContain('after');
    } finally {
      await sub.close();
      await backend.close();
      await proxied.close();
    }
  }, 90_000);
});
