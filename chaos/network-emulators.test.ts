// The pipeline on the emulators with Toxiproxy in front of both: a Spanner and a Pub/Sub round
// trip through the proxies, and a race day that survives a reset and a short timeout fault on
// both proxies mid-settlement with every invariant holding.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { SUBSCRIPTIONS, TOPICS } from '../core/topology.ts';
import { startToxiproxy, type Toxiproxy } from '../emulators/toxiproxy.ts';
import { describeWithEmulators, useEmulators } from '../emulators/test-support.ts';
import { DEFAULT_VARIANTS } from '../pipeline/settings.ts';
import { openBackend } from '../sim/open-backend.ts';
import { runDay } from '../sim/run-day.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import type { NetworkFaultKind } from './contracts.ts';
import { injectNetworkFault, proxyEmulators, type InjectedFault } from './network.ts';

// The day under reset and timeout faults pulls with unary Pull (backends/google/pubsub-pull.ts):
// with StreamingPull, a stream the reset broke could leave what it held leased to nobody on the
// emulator, and this test failed intermittently on that (docs/chaos.md, "The stall").

describeWithEmulators('the pipeline through Toxiproxy on the emulators', () => {
  const emulators = useEmulators({ applyEnv: false });
  let toxi: Toxiproxy;
  beforeAll(async () => {
    toxi = await startToxiproxy({ seed: 3 });
  }, 30_000);
  afterAll(async () => {
    await toxi?.stop();
  });

  it('a Spanner read and a Pub/Sub message make the round trip through the proxies', async () => {
    const proxied = await proxyEmulators(toxi, emulators(), { pubsub: 'rt-pubsub', spanner: 'rt-spanner' });
    expect(proxied.env['PUBSUB_EMULATOR_HOST']).toBe(proxied.pubsubHost);
    expect(proxied.env['SPANNER_EMULATOR_HOST']).toBe(proxied.spannerHost);
    expect(proxied.pubsubHost).not.toBe(emulators().pubsubHost);
    const backend = await openBackend('emulators', { emulators: proxied.handle });
    try {
      expect(backend.where['pubsubHost']).toBe(proxied.pubsubHost);
      expect(await backend.store.getRace('no-such-race')).toBeUndefined();
      const got = new Promise<string>((resolve) => {
        backend.bus.subscribe(SUBSCRIPTIONS.gateway.name, async (d) => {
          d.ack();
          resolve(d.data);
        }, { maxInFlight: 4, ackDeadlineMs: 10_000 });
      });
      await backend.bus.publish(TOPICS.notifications, [{ data: 'through-the-proxy' }]);
      expect(await got).toBe('through-the-proxy');
      // A latency toxic on the Spanner proxy slows the read: it really goes through the proxy.
      const slow = await injectNetworkFault(toxi, proxied.proxies.spanner, 'latency', { durationMs: 10_000, latencyMs: 300, jitterMs: 0 });
      const t0 = performance.now();
      await backend.store.getRace('no-such-race');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(600);
      await slow.clear();
    } finally {
      await backend.close();
      await proxied.close();
    }
  }, 60_000);

  it('a race day survives a reset and a short timeout fault on both emulators mid-settlement, every invariant holding', async () => {
    const proxied = await proxyEmulators(toxi, emulators(), { pubsub: 'day-pubsub', spanner: 'day-spanner' });
    const backend = await openBackend('emulators', { emulators: proxied.handle, pull: 'unary' });
    const day = smokeRaceDay(15, createRng('chaos/network/15').fork('workload'), { usersMin: 100, usersMax: 100, ticketsPerUserMax: 3, stakeUnitsMax: 10 });
    const injected: { kind: NetworkFaultKind; settled: number }[] = [];
    const pending: Promise<void>[] = [];
    // Each fault on both proxies for 1.5 s, then cleared: a reset once settling starts, a timeout
    // (connections closed after 500 ms of silence) once a third of the users settled.
    const strike = (kind: NetworkFaultKind, settled: number): void => {
      injected.push({ kind, settled });
      pending.push((async () => {
        const faults: InjectedFault[] = await Promise.all([proxied.proxies.pubsub, proxied.proxies.spanner].map((p) => injectNetworkFault(toxi, p, kind, { durationMs: 1_500, timeoutMs: 500 })));
        await new Promise((r) => setTimeout(r, 1_500));
        await Promise.all(faults.map((f) => f.clear()));
      })());
    };
    try {
      const r = await runDay({
        day, backend, variants: DEFAULT_VARIANTS, workers: 2, maxInFlight: 32, timeoutMs: 90_000,
        progress: (phase, done, total) => {
          if (phase !== 'settling' || total === undefined) return;
          if (injected.length === 0 && done >= 1) strike('reset', done);
          else if (injected.length === 1 && done >= total / 3) strike('timeout', done);
        },
      });
      await Promise.all(pending);
      expect(injected.map((f) => f.kind)).toEqual(['reset', 'timeout']);
      expect(injected.every((f) => f.settled < day.users.length)).toBe(true);
      expect(r.invariants.filter((i) => !i.ok)).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.settledTickets).toBe(r.ticketsLoaded);
    } finally {
      await Promise.allSettled(pending);
      await backend.close();
      await proxied.close();
    }
  }, 120_000);
});
