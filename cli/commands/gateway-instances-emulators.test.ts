// `raceday gateway --instances 2` on the official emulators: two gateway processes on two ports,
// one token secret, each with a Pub/Sub subscription of its own (or each subscribed to the same
// redis-server's channels), so one notification published reaches its owner on both instances; SIGTERM reaches both and the command exits 0; an
// instance that dies takes the others down and the command exits 1, saying which one.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';
import { createPubSubBus } from '../../backends/google/pubsub-bus.ts';
import { settledNotificationId, type NotificationBody } from '../../core/notification.ts';
import { TOPICS } from '../../core/topology.ts';
import { describeWithEmulators } from '../../emulators/test-support.ts';
import { signToken } from '../../gateway/auth.ts';
import { take, wsClient } from '../../gateway/_fixtures/world.ts';
import type { GatewayHandle } from '../../gateway/server.ts';
import { notificationMessage } from '../../pipeline/notify.ts';
import { createClient } from 'redis';
import { createMemoryBus, createRealClock } from '../../backends/memory/index.ts';
import { ensureRedis } from '../../emulators/redis.ts';
import { createRedisNotificationsBus } from '../../gateway/intake/redis.ts';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'raceday.mjs');

interface Started {
  instances: { instance: number; pid: number; url: string; wsUrl: string }[];
  wsUrls: string[];
  secret: string;
  intake: string;
  backend: { projectId: string; pubsubHost: string };
}

async function startCli(args: readonly string[]) {
  const child = spawn(process.execPath, [bin, 'gateway', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = { stderr: '' };
  child.stderr.on('data', (d) => (log.stderr += String(d)));
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  return { child, log, started: JSON.parse(line) as Started };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describeWithEmulators('raceday gateway --instances 2 on the emulators', () => {
  for (const intake of ['pubsub', 'redis'] as const) it(`--intake ${intake}: one published notification reaches its owner on both instances; SIGTERM closes both`, async () => {
    // redis: a redis-server of the test's own, its URL handed to the parent, which hands it on to each instance.
    const redis = intake === 'redis' ? await ensureRedis() : undefined;
    const { child, log, started } = await startCli(['--backend', 'emulators', '--instances', '2', '--intake', intake, ...(redis === undefined ? ['--instance-id', 'inst-test'] : ['--redis-url', redis.url])]);
    try {
      expect(started.intake).toBe(intake);
      expect(started.instances).toHaveLength(2);
      expect(new Set(started.wsUrls).size).toBe(2);
      // One secret signs for both: the same token is accepted by each instance.
      const token = await signToken('multi-user', started.secret, 60);
      const clients = started.wsUrls.map((wsUrl) => wsClient({ wsUrl } as GatewayHandle, token));
      const got = clients.map((c) => take<{ notifications: { seq: number; notificationId: string } }>(c, 'subscription { notifications { seq notificationId } }', {}, 1, 20_000));
      await new Promise((r) => setTimeout(r, 500));
      const body: NotificationBody = {
        userId: 'multi-user',
        raceId: 'r1',
        kind: 'settled',
        payload: { kind: 'settled', raceId: 'r1', settlementId: 'st-m', cash: 300, medals: 0, hits: 1 },
        publishedAt: Date.now(),
        notificationId: settledNotificationId('st-m'),
        seq: 1,
      };
      if (redis === undefined) {
        const bus = createPubSubBus({ projectId: started.backend.projectId, emulatorHost: started.backend.pubsubHost });
        await bus.publish(TOPICS.notifications, [notificationMessage(body)]);
        await bus.close();
      } else {
        const publisher = createClient({ url: redis.url });
        await publisher.connect();
        await createRedisNotificationsBus(createMemoryBus({ clock: createRealClock() }), publisher).publish(TOPICS.notifications, [notificationMessage(body)]);
        await publisher.close();
      }
      const results = await Promise.all(got.map(async (g) => (await g).results));
      await Promise.all(clients.map((c) => c.dispose()));
      const expected = [{ notifications: { seq: 1, notificationId: settledNotificationId('st-m') } }];
      expect(results).toEqual([expected, expected]);
      child.kill('SIGTERM');
      expect({ code: await exitOf(child), stderr: log.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('SIGTERM, closing 2 instances') });
      expect(log.stderr).toMatch(/\[gateway 1\] raceday gateway: SIGTERM, closing/);
      expect(log.stderr).toMatch(/\[gateway 2\] raceday gateway: SIGTERM, closing/);
      expect(started.instances.map((i) => alive(i.pid))).toEqual([false, false]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      for (const i of started.instances) if (alive(i.pid)) process.kill(i.pid, 'SIGKILL');
      await redis?.stop();
    }
  }, 240_000);

  it('stops the other instances and exits 1 when one dies', async () => {
    const { child, log, started } = await startCli(['--backend', 'emulators', '--instances', '2', '--intake', 'none']);
    try {
      const [first, second] = started.instances as [Started['instances'][0], Started['instances'][0]];
      process.kill(second.pid, 'SIGKILL');
      expect(await exitOf(child)).toBe(1);
      expect(log.stderr).toContain(`instance 2 (pid ${second.pid}) exited with code null; stopping the other instances`);
      expect(alive(first.pid)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      for (const i of started.instances) if (alive(i.pid)) process.kill(i.pid, 'SIGKILL');
    }
  }, 240_000);
});
