// The gateway restarted (SIGKILL, SIGTERM) while notifications flow, and client-side latency,
// reset and half-open faults through Toxiproxy: every client recovers every notification once by
// resuming after its last sequence; clients that resubscribe without afterSeq lose some.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startToxiproxy, type Toxiproxy } from '../emulators/toxiproxy.ts';
import { describeWithEmulators, useEmulators } from '../emulators/test-support.ts';
import { runGatewayRestart } from './gateway-restart.ts';

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
    const r = await runGatewayRestart({ toxi, emulators: emulators(), users: 12, faultMs: 2_500, clientDeadAfterMs: 1_500, gapMs: 500 });
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
});
