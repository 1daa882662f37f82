// Runs the subscriber swarm (two worker threads, tens of clients) against a real graphql-ws
// server (a minimal one that can inject faults, and the real gateway) and proves what it reports: every healthy, slow and flapping client counted all its
// notifications once and in order; a stalled client stopped receiving; and a duplicate, a gap and
// a late frame injected into the stream are each counted where they happened, so the counts can fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../backends/memory/index.ts';
import { signToken } from '../gateway/auth.ts';
import { startGateway } from '../gateway/server.ts';
import { miniToken, startMiniGateway, type MiniGateway } from './_fixtures/mini-gateway.ts';
import { startFaultProxy } from './_fixtures/fault-proxy.ts';
import { publishOddsFrame, publishRound } from './_fixtures/publish.ts';
import { startSwarm } from './swarm.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const GW_SECRET = 'swarm-test-secret-of-at-least-32-bytes';

let gw: MiniGateway;
beforeAll(async () => {
  gw = await startMiniGateway();
});
afterAll(async () => {
  await gw.close();
});

describe('subscriber swarm', () => {
  it('counts delivery per cohort, and a stalled client stops receiving', async () => {
    const users = await Promise.all(Array.from({ length: 24 }, async (_, i) => ({ userId: `u${String(i).padStart(3, '0')}`, token: await miniToken(`u${String(i).padStart(3, '0')}`) })));
    const swarm = startSwarm({
      wsUrl: gw.wsUrl, users, workers: 2, watchRaceId: 'r1',
      cohorts: { healthy: 15, slow: 3, stalled: 3, flapping: 3 },
      behaviour: { flapEveryMs: 250, reconnectDelayMs: 50, slowReadBytesPerSecond: 2 * 1024 },
    });
    const ready = await swarm.ready;
    expect(ready).toEqual({ connected: 24, failed: 0 });
    await sleep(100); // the subscribe frames reach the server
    const perRound = 6;
    for (let k = 0; k < perRound; k++) {
      for (const u of users) gw.deliver(u.userId, 'r1', Date.now());
      gw.publishOdds('r1', 1024);
      await sleep(150);
    }
    // Slow readers and flapping reconnects catch up (a slow reader needs about 4 s for its 8 KB).
    await sleep(4500);
    const { report } = await swarm.stop({ default: perRound });
    const c = report.cohorts;
    for (const name of ['healthy', 'slow', 'flapping'] as const) {
      expect(c[name]?.delivery, name).toEqual({ expected: (c[name]?.users ?? 0) * perRound, received: (c[name]?.users ?? 0) * perRound, lost: 0, duplicates: 0, outOfOrder: 0, unexpected: 0 });
    }
    expect(c.healthy?.notificationLatencyMs?.count).toBe(15 * perRound);
    expect(c.healthy?.oddsLatencyMs?.count).toBe(15 * perRound);
    // Slow readers (2 KB/s for about 8 KB each, sent at about 9 KB/s) got everything, but late:
    // their reads were paced. At 4 KB/s a busy CI machine, stretching the 150 ms between rounds,
    // let them keep up (354 ms, under the bound); at 2 KB/s the rounds would have to stretch
    // about 4.5 times for that.
    expect(c.slow?.oddsLatencyMs?.max).toBeGreaterThan(400);
    // Flapping clients reconnected and resumed after their last sequence, losing nothing; their own
    // closes are not counted as closes they suffered.
    expect(c.flapping?.connects).toBeGreaterThan(3);
    expect(c.flapping?.closesByCode).toEqual({});
    // Stalled clients never read after subscribing: nothing arrived, everything is lost to them.
    expect(c.stalled?.notificationFrames).toBe(0);
    expect(c.stalled?.delivery.lost).toBe(3 * perRound);
    expect(report.workerLoopDelayMs).toHaveLength(2);
    expect(report.driverLoopDelayMs.max).toBeGreaterThanOrEqual(0);
  });

  it('counts an injected duplicate, gap and late frame', async () => {
    const users = await Promise.all(['d1', 'd2', 'd3', 'd4'].map(async (id) => ({ userId: id, token: await miniToken(id) })));
    const swarm = startSwarm({ wsUrl: gw.wsUrl, users, workers: 2, cohorts: { healthy: 4, slow: 0, stalled: 0, flapping: 0 }, settleMs: 300 });
    await swarm.ready;
    await sleep(100);
    for (let k = 0; k < 3; k++) for (const u of users) gw.deliver(u.userId, 'r2', Date.now());
    const frame = (seq: number) => ({ seq, raceId: 'r2', kind: 'settled', publishedAt: Date.now(), payload: {} });
    gw.pushRaw('d1', frame(2)); // a duplicate of seq 2
    gw.pushRaw('d2', frame(5)); // seq 4 never comes: a gap
    gw.pushRaw('d3', frame(5)); // 5 before 4: 4 arrives late
    gw.pushRaw('d3', frame(4));
    await sleep(400);
    const { report } = await swarm.stop({ default: 3, perUser: { d2: 5, d3: 5 } });
    expect(report.delivery).toEqual({ expected: 16, received: 3 + 4 + 5 + 3, lost: 1, duplicates: 1, outOfOrder: 1, unexpected: 0 });
  });
});

describe('subscriber swarm against the real gateway', () => {
  it('healthy, slow and flapping clients get every notification once and in order; stalled ones stop receiving', async () => {
    const store = createMemoryStore();
    const ids = Array.from({ length: 30 }, (_, i) => `g${String(i).padStart(3, '0')}`);
    await store.putUsers(ids.map((userId) => ({ userId, cash: 0, medals: 0 })));
    await store.putRace({ raceId: 'gr1', sport: 'keirin', riders: 7, closeAtMs: Date.now() + 600_000, postAtMs: Date.now() + 900_000 });
    // Evict after 300 ms behind: stalled clients are closed (4008), the rest never fall that far behind.
    const gw = await startGateway({ store, secret: GW_SECRET, policy: 'per-subscriber:64:evict-after:300', log: () => {} });
    try {
      const users = await Promise.all(ids.map(async (userId) => ({ userId, token: await signToken(userId, GW_SECRET, 600) })));
      const swarm = startSwarm({
        wsUrl: gw.wsUrl, users, workers: 2, watchRaceId: 'gr1',
        cohorts: { healthy: 20, slow: 3, stalled: 4, flapping: 3 },
        behaviour: { flapEveryMs: 300, reconnectDelayMs: 50, slowReadBytesPerSecond: 64 * 1024 },
      });
      expect((await swarm.ready).connected).toBe(30);
      for (let i = 0; i < 100 && gw.stats().subscriptions < 60; i++) await sleep(20);
      for (let k = 0; k < 5; k++) {
        await publishRound(store, gw, ids, 'gr1');
        // Odds of 8 KB at 20 a second fill a stalled client's kernel buffers within the run.
        for (let j = 0; j < 4; j++) {
          publishOddsFrame(gw, 'gr1', 8 * 1024);
          await sleep(50);
        }
      }
      await sleep(1500);
      const { report } = await swarm.stop({ default: 5 });
      const c = report.cohorts;
      for (const name of ['healthy', 'slow', 'flapping'] as const) {
        const n = (c[name]?.users ?? 0) * 5;
        expect(c[name]?.delivery, name).toEqual({ expected: n, received: n, lost: 0, duplicates: 0, outOfOrder: 0, unexpected: 0 });
      }
      expect(c.healthy?.notificationLatencyMs?.count).toBe(100);
      expect(c.stalled?.notificationFrames).toBe(0);
      expect(c.stalled?.delivery.lost).toBe(20);
      expect(c.flapping?.connects).toBeGreaterThan(3);
    } finally {
      await gw.close();
    }
  });
});

describe('subscriber swarm counting, proven through the real gateway', () => {
  it('counts a duplicated, a dropped and a held-back frame between the gateway and the clients', async () => {
    const store = createMemoryStore();
    const ids = ['f1', 'f2', 'f3', 'f4'];
    await store.putUsers(ids.map((userId) => ({ userId, cash: 0, medals: 0 })));
    const gw = await startGateway({ store, secret: GW_SECRET, log: () => {} });
    const proxy = await startFaultProxy(gw.wsUrl, [
      { userId: 'f1', seq: 2, fault: 'duplicate' },
      { userId: 'f2', seq: 2, fault: 'drop' },
      { userId: 'f3', seq: 2, fault: 'hold' },
    ]);
    try {
      const users = await Promise.all(ids.map(async (userId) => ({ userId, token: await signToken(userId, GW_SECRET, 600) })));
      const swarm = startSwarm({ wsUrl: proxy.wsUrl, users, workers: 2, cohorts: { healthy: 4, slow: 0, stalled: 0, flapping: 0 }, settleMs: 300 });
      expect((await swarm.ready).connected).toBe(4);
      for (let i = 0; i < 100 && gw.stats().subscriptions < 4; i++) await sleep(20);
      for (let k = 0; k < 3; k++) await publishRound(store, gw, ids, 'fr1');
      await sleep(300);
      const { report } = await swarm.stop({ default: 3 });
      // f1: 1 2 2 3; f2: 1 3 (2 lost); f3: 1 3 2 (2 late); f4: clean.
      expect(report.delivery).toEqual({ expected: 12, received: 11, lost: 1, duplicates: 1, outOfOrder: 1, unexpected: 0 });
    } finally {
      await proxy.close();
      await gw.close();
    }
  });
});


describe('subscriber swarm over several gateway instances', () => {
  it('deals its users round robin over the URLs it is given', async () => {
    const store = createMemoryStore();
    const gws = [await startGateway({ store, secret: GW_SECRET, log: () => {} }), await startGateway({ store, secret: GW_SECRET, log: () => {} })];
    try {
      const users = await Promise.all(['m1', 'm2', 'm3', 'm4', 'm5', 'm6'].map(async (userId) => ({ userId, token: await signToken(userId, GW_SECRET, 600) })));
      // wsUrl alone would put every user on the first gateway; wsUrls spreads them.
      const swarm = startSwarm({ wsUrl: gws[0]!.wsUrl, wsUrls: gws.map((g) => g.wsUrl), users, workers: 2, cohorts: { healthy: 6, slow: 0, stalled: 0, flapping: 0 }, settleMs: 0 });
      expect((await swarm.ready).connected).toBe(6);
      expect(gws.map((g) => g.stats().connections)).toEqual([3, 3]);
      await swarm.stop({ default: 0 });
    } finally {
      for (const g of gws) await g.close();
    }
  });
});
