// The gateway restarted (SIGKILL, SIGTERM) while notifications flow, and client-side latency,
// reset and half-open faults through Toxiproxy: every client recovers every notification once by
// resuming after its last sequence; clients that resubscribe without afterSeq lose some.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startToxiproxy, type Toxiproxy } from '../emulators/toxiproxy.ts';
import { describeWithEmulators, useEmulators } from '../emulators/test-support.ts';
import { openBackend } from '../sim/open-backend.ts';
import { appendAndPublish, runGatewayRestart } from './gateway-restart.ts';

describeWithEmulators('gateway restart with clients through Toxiproxy', () => {
  const emulators = useEmulators({ applyEnv: false });
  let toxi: Toxiproxy;
  beforeAll(async () => {
    toxi = await startToxiproxy({ seed: 5 });
  }, 30_000);
  afterAll(async () => {
    await toxi?.stop();
  });

  it('loses and duplicates no notification across SIGKILL and SIGTERM restarts and latency, reset and half-open faults', async () => {
    const r = await runGatewayRestart({ toxi, emulators: emulators(), users: 8, faultMs: 2_500, clientDeadAfterMs: 1_500, gapMs: 500 });
    expect(r.faults.map((f) => f.kind)).toEqual(['gateway-restart', 'latency', 'reset', 'half-open', 'gateway-restart']);
    expect(r.violations).toEqual([]);
    expect(r.expected).toBeGreaterThan(r.users * 10);
    expect(r.lost).toBe(0);
    expect(r.duplicated).toBe(0);
    expect(r.received).toBe(r.expected);
    expect(r.faults.every((f) => f.recoveredAfterMs !== null)).toBe(true);
    // Two restarts and a reset each cost every client its connection; the half-open one is found by the clients' own liveness check.
    expect(r.reconnects).toBeGreaterThanOrEqual(r.users * 3);
    expect(r.deadDetected).toBeGreaterThanOrEqual(r.users);
    expect(r.ok).toBe(true);
  }, 90_000);

  it('clients that resubscribe without afterSeq lose what was published while they were away', async () => {
    const r = await runGatewayRestart({ toxi, emulators: emulators(), users: 8, steps: [{ restart: 'SIGKILL' }], resumeAfterSeq: false, restartAfterMs: 1_000, gapMs: 500, recoverTimeoutMs: 5_000 });
    expect(r.lost).toBeGreaterThan(0);
    expect(r.ok).toBe(false);
    expect(r.violations.join('; ')).toMatch(/notifications lost after recovery/);
  }, 90_000);

  it('attached to a caller\'s race, counts what the caller\'s pipeline logged and published', async () => {
    const backend = await openBackend('emulators', { emulators: emulators() });
    const userIds = ['u-attach-1', 'u-attach-2', 'u-attach-3', 'u-attach-4'];
    let published = 0;
    // The caller's "race": notifications for 8 s, the way the notify stage writes them.
    const done = (async () => {
      const until = Date.now() + 8_000;
      for (let round = 1; Date.now() < until; round++) {
        for (const u of userIds) await appendAndPublish(backend.store, backend.bus, u, round);
        published += userIds.length;
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    try {
      const r = await runGatewayRestart({ toxi, emulators: emulators(), steps: [{ restart: 'SIGKILL' }], gapMs: 500, attach: { projectId: String(backend.where['projectId']), store: backend.store, userIds, done } });
      expect(r.users).toBe(userIds.length);
      expect(r.expected).toBe(published);
      expect(r.lost).toBe(0);
      expect(r.duplicated).toBe(0);
      expect(r.ok).toBe(true);
    } finally {
      await done.catch(() => undefined);
      await backend.close();
    }
  }, 90_000);
});
