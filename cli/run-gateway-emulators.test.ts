// Proves `raceday run --gateway --backend emulators`: the gateway runs as its own process
// (`raceday gateway` attached to the run's project, taking notifications through a Pub/Sub
// subscription of its own), 60 users connect through the swarm, and each gets every notification
// of its log exactly once; end-to-end and the gateway's delivery (from its /metrics) are reported.
import { afterEach, expect, it, vi } from 'vitest';
import { describeWithEmulators, useEmulators } from '../emulators/test-support.ts';
import { capture } from './_fixtures/capture.ts';
import { main } from './main.ts';

afterEach(() => vi.restoreAllMocks());

describeWithEmulators('raceday run --gateway on the emulators', () => {
  useEmulators();

  it('runs the gateway as its own process and delivers every notification once', async () => {
    const r = await capture(() => main(['run', '--gateway', '--backend', 'emulators', '--strategy', 'external', '--users', '60', '--json']));
    expect(r.code, r.err).toBe(0);
    const g = (JSON.parse(r.out) as { gateway: { connected: number; exactlyOnce: boolean; delivery: Record<string, number>; races: { endToEndMs: { count: number } | null; settlementMs: unknown; deliveryMs: { count: number; resolution: string } | null }[] } }).gateway;
    expect([g.connected, g.exactlyOnce]).toEqual([60, true]);
    expect(g.delivery).toMatchObject({ expected: 120, received: 120, lost: 0, duplicates: 0 });
    const race = g.races[0];
    expect(race?.endToEndMs?.count).toBe(120);
    // Outside the gateway's process the pipeline's share is not seen; its own share comes from its histogram.
    expect(race?.settlementMs).toBeNull();
    expect(race?.deliveryMs).toMatchObject({ resolution: 'buckets' });
    expect(race?.deliveryMs?.count).toBeGreaterThanOrEqual(120);
  }, 240_000);
});
