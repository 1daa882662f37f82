// Notify: for each `settled` message, publish the user's `settled` notification (its id is
// deterministic, so a redelivery republishes the same notification and the client drops the
// copy), then ack. It has its own subscription on `settled`, apart from post-settle: the user
// hears of a committed settlement at once, whatever the bonus and marker writes are waiting for.
import { encodeNotification } from '../core/messages.ts';
import { settledNotificationId, type NotificationBody } from '../core/notification.ts';
import type { BusMessage, Delivery, DeliveryHandler } from '../core/ports.ts';
import { TOPICS } from '../core/topology.ts';
import type { HandlerDeps } from './context.ts';
import { receive } from './receive.ts';
import { parseSettled, type SettledMsg } from './wire.ts';

export function notificationMessage(body: NotificationBody): BusMessage {
  return { data: encodeNotification(body), attributes: { notificationId: body.notificationId, userId: body.userId } };
}

export function settledNotificationOf(m: SettledMsg): NotificationBody {
  return {
    userId: m.userId,
    raceId: m.raceId,
    kind: 'settled',
    payload: { kind: 'settled', raceId: m.raceId, settlementId: m.settlementId, cash: m.cash, medals: m.medals, hits: m.hits },
    publishedAt: m.publishedAtMs,
    notificationId: settledNotificationId(m.settlementId),
  };
}

async function handleSettled(deps: HandlerDeps, d: Delivery): Promise<void> {
  const received = await receive(deps, d, TOPICS.settled, parseSettled);
  if (received === undefined) return;
  const { m } = received;
  await deps.bus.publish(TOPICS.notifications, [notificationMessage(settledNotificationOf(m))]);
  deps.counters.notificationsPublished++;
  deps.probe('notify.afterPublish', `${m.raceId}/${m.userId}#${d.deliveryAttempt}`);
  d.ack();
}

export function createNotifyHandler(deps: HandlerDeps): DeliveryHandler {
  return (d) => handleSettled(deps, d);
}
