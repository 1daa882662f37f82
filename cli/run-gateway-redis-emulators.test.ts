// Proves `raceday run --gateway --backend emulators --intake redis`: the gateway runs as its own
// process taking notifications from the run's redis-server (`raceday gateway --intake redis
// --redis-url`), the run's bus publishes them to Redis besides Pub/Sub, and 40 users each get
// every notification of their log exactly once.
import { expect, it } from 'vitest';
import { describeWithEmulators, useEmulators } from '../emulators/test-support.ts';
import { capture } from './_fixtures/capture.ts';
import { main } from './main.ts';

describeWithEmulators('raceday run --gateway --intake redis on the emulators', () => {
  useEmulators();

  it('the gateway process takes every notification from Redis and delivers it once', async () => {
    const r = await capture(() => main(['run', '--gateway', '--backend', 'emulators', '--strategy', 'external', '--intake', 'redis', '--users', '40', '--json']));
    expect(r.code, r.err).toBe(0);
    const g = (JSON.parse(r.out) as { gateway: { connected: number; exactlyOnce: boolean; delivery: Record<string, number> } }).gateway;
    expect([g.connected, g.exactlyOnce]).toEqual([40, true]);
    expect(g.delivery).toMatchObject({ expected: 80, received: 80, lost: 0, duplicates: 0 });
    expect(r.err).toMatch(/redis-server (started|reused) at redis:\/\/127\.0\.0\.1:\d+/);
  }, 240_000);
});
