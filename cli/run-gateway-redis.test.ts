// Proves `raceday run --gateway --intake redis` on the memory backend: the run takes a real
// redis-server, the day's bus publishes every notification to Redis as well, and the in-process
// gateway takes its notifications from Redis only; 100 users each get every notification of their
// log exactly once. The redis-server the run started is gone afterwards.
import { describe, expect, it } from 'vitest';
import { pingRedis, runningRedis } from '../emulators/redis.ts';
import { capture } from './_fixtures/capture.ts';
import { main } from './main.ts';

describe('raceday run --gateway --intake redis', () => {
  it('delivers every user its notifications exactly once through Redis', async () => {
    const background = await runningRedis();
    const r = await capture(() => main(['run', '--gateway', '--intake', 'redis', '--users', '100', '--json']));
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out) as { ok: boolean; gateway: { connected: number; exactlyOnce: boolean; redis?: { published: number; received: number }; delivery: Record<string, number>; races: { settlementMs: { count: number } | null }[] } };
    expect(out.ok).toBe(true);
    const g = out.gateway;
    expect([g.connected, g.exactlyOnce]).toEqual([100, true]);
    expect(g.delivery).toMatchObject({ expected: 200, received: 200, lost: 0, duplicates: 0, unexpected: 0 });
    // Every notification entered the gateway, and the only way in was the Redis intake: each user's
    // settled and ranking notification, and the race's ranking broadcast (which no socket gets).
    expect(g.races[0]?.settlementMs?.count).toBe(200);
    expect(g.redis).toEqual({ published: 201, received: 201 });
    // Stopped afterwards when the run started it; a background one (raceday redis start) is left running.
    const port = Number(/redis-server (started|reused) at redis:\/\/127\.0\.0\.1:(\d+)/.exec(r.err)?.[2]);
    expect(port).toBeGreaterThan(0);
    if (background === undefined) expect(await pingRedis(port)).toBe(false);
    else expect([port, await pingRedis(port)]).toEqual([background.port, true]);
  }, 180_000);

  it('refuses an intake the backend does not have, and --intake without --gateway', async () => {
    const pubsubOnMemory = await capture(() => main(['run', '--gateway', '--intake', 'pubsub']));
    expect(pubsubOnMemory.code).toBe(2);
    expect(pubsubOnMemory.err).toContain('--intake must be bus or redis on the memory backend, got "pubsub"');
    const alone = await capture(() => main(['run', '--intake', 'redis']));
    expect(alone.code).toBe(2);
    expect(alone.err).toContain('--intake applies with --gateway only');
  });
});
