// `raceday gateway --backend emulators --intake pubsub` as its own process on the official
// emulators: it provisions a project of its own, subscribes this instance to the `notifications`
// topic, and a notification published there reaches its owner's WebSocket subscription; SIGTERM
// closes everything and exits 0.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';
import { createPubSubBus } from '../../backends/google/pubsub-bus.ts';
import { settledNotificationId, type NotificationBody } from '../../core/notification.ts';
import { TOPICS } from '../../core/topology.ts';
import { describeWithEmulators } from '../../emulators/test-support.ts';
import { openBackend } from '../../sim/open-backend.ts';
import { signToken } from '../../gateway/auth.ts';
import { take, wsClient } from '../../gateway/_fixtures/world.ts';
import type { GatewayHandle } from '../../gateway/server.ts';
import { notificationMessage } from '../../pipeline/notify.ts';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'raceday.mjs');

/** Starts `raceday gateway ARGS` and answers its startup line, the child and its stderr so far. */
async function startCli(args: readonly string[]) {
  const child = spawn(process.execPath, [bin, 'gateway', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = { stderr: '' };
  child.stderr.on('data', (d) => (log.stderr += String(d)));
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  return { child, log, started: JSON.parse(line) as { url: string; wsUrl: string; secret: string; intake: string; backend: { projectId: string; pubsubHost: string; attached?: boolean } } };
}

async function stop(child: ChildProcess, log: { stderr: string }): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  expect({ code, stderr: log.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('SIGTERM, closing') });
}

describeWithEmulators('raceday gateway on the emulators', () => {
  it('takes a notification from its own Pub/Sub subscription to its owner, then exits 0 on SIGTERM', async () => {
    const { child, log, started } = await startCli(['--backend', 'emulators', '--intake', 'pubsub', '--instance-id', 'test-gw']);
    try {
      expect(started.intake).toBe('pubsub');
      const client = wsClient({ wsUrl: started.wsUrl } as GatewayHandle, await signToken('emu-user', started.secret, 60));
      const got = take<{ notifications: { seq: number; notificationId: string } }>(client, 'subscription { notifications { seq notificationId } }', {}, 1, 20_000);
      await new Promise((r) => setTimeout(r, 300));
      const body: NotificationBody = {
        userId: 'emu-user',
        raceId: 'r1',
        kind: 'settled',
        payload: { kind: 'settled', raceId: 'r1', settlementId: 'st-1', cash: 300, medals: 0, hits: 1 },
        publishedAt: Date.now(),
        notificationId: settledNotificationId('st-1'),
        seq: 1,
      };
      const bus = createPubSubBus({ projectId: started.backend.projectId, emulatorHost: started.backend.pubsubHost });
      await bus.publish(TOPICS.notifications, [notificationMessage(body)]);
      await bus.close();
      const { results } = await got;
      await client.dispose();
      expect(results).toEqual([{ notifications: { seq: 1, notificationId: settledNotificationId('st-1') } }]);
      await stop(child, log);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 180_000);

  it("--project attaches to a run's project: a bet placed through the gateway is in that project's Spanner store", async () => {
    const backend = await openBackend('emulators', { strategy: 'auto' });
    try {
      const now = Date.now();
      await backend.store.putUsers([{ userId: 'attached-user', cash: 5_000, medals: 0 }]);
      await backend.store.putRace({ raceId: 'attached-race', sport: 'keirin', riders: 7, closeAtMs: now + 600_000, postAtMs: now + 700_000 });
      const projectId = backend.where['projectId'] as string;
      const { child, log, started } = await startCli(['--backend', 'emulators', '--project', projectId, '--intake', 'none']);
      try {
        expect(started.backend).toMatchObject({ attached: true, projectId });
        const res = await fetch(started.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${await signToken('attached-user', started.secret, 60)}` },
          body: JSON.stringify({ query: 'mutation { placeBet(input: {raceId: "attached-race", betType: "exacta", combination: "2-5", stake: 700}, idempotencyKey: "k1") { ticket { stake } } }' }),
        });
        expect(await res.json()).toEqual({ data: { placeBet: { ticket: { stake: 700 } } } });
        await stop(child, log);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      // Read back through the run's own client: the gateway wrote into the run's databases, and left them in place.
      expect(await backend.store.readback?.balances('attached-user')).toEqual({ userId: 'attached-user', cash: 4_300, medals: 0 });
    } finally {
      await backend.close();
    }
  }, 180_000);
});
