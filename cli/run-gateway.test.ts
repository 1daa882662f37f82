// Proves `raceday run --gateway` on the memory backend: 300 users connected to the in-process
// gateway through the swarm, the smoke race settled, and every user got each notification of its
// log (settled, then its ranking) exactly once on its own socket; the per-race figures (published
// -> socket, settlement, delivery) are present and count every notification.
import { describe, expect, it } from 'vitest';
import { capture } from './_fixtures/capture.ts';
import { main } from './main.ts';

describe('raceday run --gateway', () => {
  it('delivers every user its notifications exactly once and reports the split per race', async () => {
    const r = await capture(() => main(['run', '--gateway', '--users', '300', '--json']));
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out) as { ok: boolean; users: number; gateway: Record<string, unknown> };
    expect(out.ok).toBe(true);
    const g = out.gateway as { subscribers: number; connected: number; exactlyOnce: boolean; delivery: Record<string, number>; races: Record<string, unknown>[] };
    expect([g.subscribers, g.connected, g.exactlyOnce]).toEqual([300, 300, true]);
    expect(g.delivery).toMatchObject({ expected: 600, received: 600, lost: 0, duplicates: 0, outOfOrder: expect.any(Number), unexpected: 0 });
    expect(g.races).toHaveLength(1);
    const race = g.races[0] as { notifications: number; endToEndMs: { count: number; p50: number; max: number }; settlementMs: { count: number }; deliveryMs: { count: number } };
    expect(race.notifications).toBe(600);
    expect([race.endToEndMs.count, race.settlementMs.count]).toEqual([600, 600]);
    // Delivery is timed for frames handed over live; one the gateway filled from the store after a gap is not.
    expect(race.deliveryMs.count).toBeGreaterThan(0);
    expect(race.deliveryMs.count).toBeLessThanOrEqual(600);
    expect(race.endToEndMs.p50).toBeLessThanOrEqual(race.endToEndMs.max);
  }, 180_000);

  it('with --subscribers connects only that many users, and refuses --subscribers without --gateway', async () => {
    const some = await capture(() => main(['run', '--gateway', '--users', '200', '--subscribers', '50', '--json']));
    expect(some.code, some.err).toBe(0);
    const g = (JSON.parse(some.out) as { gateway: { connected: number; delivery: { expected: number; received: number } } }).gateway;
    expect(g.connected).toBe(50);
    expect(g.delivery.received).toBe(g.delivery.expected);
    expect(g.delivery.expected).toBe(100);
    const bad = await capture(() => main(['run', '--subscribers', '50']));
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--subscribers applies with --gateway only');
  }, 180_000);
});
