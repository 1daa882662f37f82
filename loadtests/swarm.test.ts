// Runs the subscriber swarm (two worker threads, tens of clients) against a real graphql-ws
// server and proves what it reports: every healthy, slow and flapping client counted all its
// notifications once and in order; a stalled client stopped receiving; and a duplicate, a gap and
// a late frame injected into the stream are each counted where they happened, so the counts can fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { miniToken, startMiniGateway, type MiniGateway } from './_fixtures/mini-gateway.ts';
import { startSwarm } from './swarm.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
      behaviour: { flapEveryMs: 250, reconnectDelayMs: 50, slowReadBytesPerSecond: 4 * 1024 },
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
    await sleep(1500); // slow readers and flapping reconnects catch up
    const { report } = await swarm.stop({ default: perRound });
    const c = report.cohorts;
    for (const name of ['healthy', 'slow', 'flapping'] as const) {
      expect(c[name]?.delivery, name).toEqual({ expected: (c[name]?.users ?? 0) * perRound, received: (c[name]?.users ?? 0) * perRound, lost: 0, duplicates: 0, outOfOrder: 0, unexpected: 0 });
    }
    expect(c.healthy?.notificationLatencyMs?.count).toBe(15 * perRound);
    expect(c.healthy?.oddsLatencyMs?.count).toBe(15 * perRound);
    // Flapping clients reconnected and resumed after their last sequence, losing nothing.
    expect(c.flapping?.connects).toBeGreaterThan(3);
    // Stalled clients never read after subscribing: nothing arrived, everything is lost to them.
    expect(c.stalled?.notificationFrames).toBe(0);
    expect(c.stalled?.delivery.lost).toBe(3 * perRound);
    expect(report.workerLoopDelayMs).toHaveLength(2);
    expect(report.driverLoopDelayMs.max).toBeGreaterThanOrEqual(0);
  });

  it('counts an injected duplicate, gap and late frame', async () => {
    const users = await Promise.all(['d1', 'd2', 'd3', 'd4'].map(async (id) => ({ userId: id, token: await miniToken(id) })));
    const swarm = startSwarm({ wsUrl: gw.wsUrl, users, workers: 2, cohorts: { healthy: 4, slow: 0, stalled: 0, flapping: 0 } });
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
