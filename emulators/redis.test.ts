// The real redis-server raceday starts: on a free port on 127.0.0.1, answering PING, without
// persistence, stopped by its owner; the background one is recorded, reused and stopped by name.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureRedis, pingRedis, runningRedis, startBackgroundRedis, stopBackgroundRedis } from './redis.ts';

const dir = mkdtempSync(join(tmpdir(), 'raceday-redis-test-'));
afterAll(async () => {
  await stopBackgroundRedis(dir);
  rmSync(dir, { recursive: true, force: true });
});

describe('redis-server for the Redis intake', () => {
  it('starts one owned by this process, answering PING on 127.0.0.1 with persistence off, and stops it', async () => {
    const r = await ensureRedis(dir);
    try {
      expect(r.reused).toBe(false);
      expect(r.url).toBe(`redis://127.0.0.1:${r.port}`);
      expect(await pingRedis(r.port)).toBe(true);
      const { createClient } = await import('redis');
      const c = createClient({ url: r.url });
      await c.connect();
      expect(await c.configGet('save')).toEqual({ save: '' });
      expect(await c.configGet('appendonly')).toEqual({ appendonly: 'no' });
      expect(await c.configGet('bind')).toEqual({ bind: '127.0.0.1' });
      await c.close();
    } finally {
      await r.stop();
    }
    expect(await pingRedis(r.port, 500)).toBe(false);
    expect(existsSync(join(dir, `redis-${r.port}.log`))).toBe(false);
  });

  it('records a background one, reuses it (its stop() leaves it running) and stops it by the record', async () => {
    const started = await startBackgroundRedis(dir);
    expect(started.reused).toBe(false);
    expect((await startBackgroundRedis(dir)).port).toBe(started.port);
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).port).toBe(started.port);
    const handle = await ensureRedis(dir);
    expect(handle).toMatchObject({ reused: true, port: started.port });
    await handle.stop();
    expect(await pingRedis(started.port)).toBe(true);
    expect(await stopBackgroundRedis(dir)).toBe(true);
    expect(await runningRedis(dir)).toBeUndefined();
    expect(await pingRedis(started.port, 500)).toBe(false);
  });
});
