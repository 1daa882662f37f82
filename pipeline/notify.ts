// Notify: for each `settled` message, append the user's `settled` notification to the user's
// notification log (Store.appendNotifications gives its number, `seq`), publish it with that
// number, then ack. Its id is deterministic, so a redelivery is answered the same number by the
// log and republishes the same notification: the client drops the copy (by id, or by a seq it
// has already seen), and a client that missed it reads it from the log after its last seq. It has
// its own subscription on `settled`, apart from post-settle: the user hears of a committed
// settlement at once, whatever the bonus and marker writes are waiting for.
import { encodeNotification } from '../core/messages.ts';
import { settledNotificationId, type NotificationBody } from '../core/notification.ts';
import { invariant } from '../core/result.ts';
import type { BusMessage, Delivery, DeliveryHandler } from '../core/ports.ts';
import { TOPICS } from '../core/topology.ts';
import type { HandlerDeps } from './context.ts';
import { receive } from './receive.ts';
import { settledAgreesWithStore } from './settled-check.ts';
import { parseSettled, type SettledMsg } from './wire.ts';

/** The attributes every notification message carries (consumers route and dedupe by them without parsing). */
export function notificationAttributes(body: NotificationBody): Record<string, string> {
  return { notificationId: body.notificationId, userId: body.userId };
}

export function notificationMessage(body: NotificationBody): BusMessage {
  return { data: encodeNotification(body), attributes: notificationAttributes(body) };
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
  if (!(await settledAgreesWithStore(deps, d, m))) return;
  const body = settledNotificationOf(m);
  const [seq] = await deps.store.appendNotifications([body]);
  invariant(seq !== undefined, `the notification log gave no number to ${body.notificationId}`);
  await deps.bus.publish(TOPICS.notifications, [notificationMessage({ ...body, seq })]);
  deps.counters.notificationsPublished++;
  deps.probe('notify.afterPublish', `${m.raceId}/${m.userId}#${d.deliveryAttempt}`);
  d.ack();
}

export function createNotifyHandler(deps: HandlerDeps): DeliveryHandler {
  return (d) => handleSettled(deps, d);
}
