// A gateway started with an intake consumes it: a notification published on the memory bus's
// `notifications` topic reaches its owner's subscription with its sequence number and is acked;
// one without a sequence number cannot be recovered by number, so it is logged, acked and dropped.
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus, createRealClock } from '../backends/memory/index.ts';
import { settledNotificationId, type NotificationBody } from '../core/notification.ts';
import { TOPICS } from '../core/topology.ts';
import { notificationMessage } from '../pipeline/notify.ts';
import { createBusIntake } from './intake/bus.ts';
import { OPEN_RACE, startWorld, take, tokenFor, wsClient, type World } from './_fixtures/world.ts';

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

const body = (userId: string, n: number, seq?: number): NotificationBody => ({
  userId,
  raceId: OPEN_RACE,
  kind: 'settled',
  payload: { kind: 'settled', raceId: OPEN_RACE, settlementId: `s-${n}`, cash: 0, medals: 0, hits: 0 },
  publishedAt: Date.now(),
  notificationId: settledNotificationId(`s-${n}`),
  ...(seq === undefined ? {} : { seq }),
});

describe('the intake feeds the gateway', () => {
  it('delivers numbered notifications from the bus and drops an unnumbered one with a log line', async () => {
    const bus = createMemoryBus({ clock: createRealClock() });
    const lines: string[] = [];
    world = await startWorld({ intake: createBusIntake(bus), log: (l) => lines.push(l) });
    const client = wsClient(world.gateway, await tokenFor('bob'));
    const got = take<{ notifications: { seq: number; notificationId: string } }>(client, 'subscription { notifications { seq notificationId } }', {}, 2, 1_500);
    await new Promise((r) => setTimeout(r, 150));
    await bus.publish(TOPICS.notifications, [notificationMessage(body('bob', 1, 1)), notificationMessage(body('bob', 2)), notificationMessage(body('bob', 3, 2))]);
    const { results } = await got;
    await client.dispose();
    expect(results.map((r) => r.notifications)).toEqual([
      { seq: 1, notificationId: settledNotificationId('s-1') },
      { seq: 2, notificationId: settledNotificationId('s-3') },
    ]);
    expect(lines.filter((l) => l.includes('without a sequence number'))).toEqual([`gateway: notification ${settledNotificationId('s-2')} arrived without a sequence number; dropped`]);
    expect(world.gateway.stats().notificationsIn).toBe(2);
    await world.close();
    world = undefined;
    const sub = bus.stats().subscriptions.find((s) => s.topic === TOPICS.notifications);
    expect(sub?.backlog).toBe(0);
    await bus.close();
  });
});
