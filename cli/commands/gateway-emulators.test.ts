// `raceday gateway --backend emulators --intake pubsub` as its own process on the official
// emulators: it provisions a project of its own, subscribes this instance to the `notifications`
// topic, and a notification published there reaches its owner's WebSocket subscription; SIGTERM
// closes everything and exits 0.
import { spawn } from 'node:child_process';
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

const bin = join(import.meta.dirname, '..', '..', 'bin', 'raceday.mjs');

describeWithEmulators('raceday gateway on the emulators', () => {
  it('takes a notification from its own Pub/Sub subscription to its owner, then exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, 'gateway', '--backend', 'emulators', '--intake', 'pubsub', '--instance-id', 'test-gw'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const started = JSON.parse(line) as { wsUrl: string; secret: string; intake: string; backend: { projectId: string; pubsubHost: string } };
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
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect({ code, stderr }).toEqual({ code: 0, stderr: expect.stringContaining('SIGTERM, closing') });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 180_000);
});
