// Building a memory world from a race day, and the notification client that watches it; shared by
// the simulator (virtual time) and `raceday run` (real time).
import { parseMessage } from '../core/messages.ts';
import { createNotificationDeduper, RANKING_NOTIFICATION_ID_PREFIX, type NotificationDeduper, type NotificationPayload } from '../core/notification.ts';
import type { Clock, MessageBus, Store, SubscriptionHandle } from '../core/ports.ts';
import { SUBSCRIPTIONS, TOPICS } from '../core/topology.ts';
import { deadLetter } from '../pipeline/dead-letter.ts';
import { RANKING_BROADCAST_USER } from '../pipeline/post-settle.ts';
import type { RaceDay } from '../scenarios/model.ts';
import type { ClientView, Delivered } from './checkers.ts';
import { dayTickets } from './workload.ts';

/** Loads users, the race and its tickets; balances are taken as already debited by the stakes. */
export async function loadDay(store: Store, day: RaceDay): Promise<void> {
  const tickets = dayTickets(day);
  const staked = new Map<string, { cash: number; medals: number }>();
  for (const t of tickets) {
    let s = staked.get(t.userId);
    if (s === undefined) staked.set(t.userId, (s = { cash: 0, medals: 0 }));
    if (t.currency === 'cash') s.cash += t.stake;
    else s.medals += t.stake;
  }
  await store.putUsers(day.users.map((u) => ({ userId: u.userId, cash: u.cash - (staked.get(u.userId)?.cash ?? 0), medals: u.medals - (staked.get(u.userId)?.medals ?? 0) })));
  for (const race of day.races) await store.putRace({ raceId: race.raceId, sport: race.sport, riders: race.riders, closeAtMs: race.closeAtMs, postAtMs: race.postAtMs });
  await store.loadTickets(tickets);
}

const CLIENT_IN_FLIGHT = 64;

export interface Client {
  readonly view: ClientView;
  /** Notifications shown (after dedupe). */
  shownCount(): number;
  /** Latest time a user's own notification was first shown, on the given clock. */
  lastShownAtMs(): number;
  /** Latest time a broadcast (the day ranking) was first shown; 0 when none was. */
  lastBroadcastAtMs(): number;
  readonly handle: SubscriptionHandle;
}

export interface ClientOptions {
  /** Keep every delivery and shown notification for the checkers (false at scale: only counts are kept). */
  readonly keep?: boolean;
  /** Time stamps for lastShownAtMs (default the clock). */
  readonly now?: () => number;
  /**
   * Parse and validate every notification (default). At scale the client only reads the
   * `notificationId` attribute, so the bench measures the pipeline rather than the client.
   */
  readonly validate?: boolean;
  readonly maxInFlight?: number;
  /** Called each time a notification is shown, with the `now` stamp (run records time each one). */
  readonly onShown?: (userId: string | undefined, atMs: number, ranking: boolean) => void;
  /**
   * false: show every delivery, duplicates included: a client without its dedupe, only for
   * proving that the shown-exactly-once check fails when nothing drops the redeliveries.
   */
  readonly dedupe?: boolean;
}

/**
 * Each user's app dedupes its own notifications (a bounded window per app; the broadcast ranking
 * counts as one more app). One window over every user's notifications would forget an id after
 * 1,024 others: on a large race that happens within a second, and a redelivery after an ack
 * deadline would be shown again though no app would show it.
 */
function perAppDeduper(enabled: boolean): (userId: string, notificationId: string) => boolean {
  if (!enabled) return () => true;
  const apps = new Map<string, NotificationDeduper>();
  return (userId, notificationId) => {
    let d = apps.get(userId);
    if (d === undefined) apps.set(userId, (d = createNotificationDeduper()));
    return d.accept(notificationId);
  };
}

/** Records every delivery of a notification id, duplicates included, apart from what was shown. */
function deliveryRecorder(): { record(id: string, userId: string, payloadJson: string): void; readonly delivered: Map<string, Delivered> } {
  const delivered = new Map<string, Delivered>();
  const contents = new Map<string, string>();
  return {
    delivered,
    record(id, userId, payloadJson) {
      const seen = delivered.get(id);
      const content = `${userId}\u0000${payloadJson}`;
      if (seen === undefined) {
        delivered.set(id, { userId, times: 1, differing: 0 });
        contents.set(id, content);
      } else delivered.set(id, { userId: seen.userId, times: seen.times + 1, differing: seen.differing + (contents.get(id) === content ? 0 : 1) });
    },
  };
}

/**
 * The notification clients: validate, record every delivery, dedupe by id per user's app and
 * count what they show. Deliveries are at-least-once; what is shown must be exactly once.
 */
export function startClient(bus: MessageBus, clock: Clock, options: ClientOptions = {}): Client {
  const keep = options.keep ?? true;
  const now = options.now ?? (() => clock.nowMs());
  const accept = perAppDeduper(options.dedupe ?? true);
  // At scale (no validation) one bounded window over every id: the bench only counts and times.
  const scaleDeduper = createNotificationDeduper();
  const deliveries = deliveryRecorder();
  let shownCount = 0;
  const shown = new Map<string, { userId: string; payload: NotificationPayload; times: number; seq?: number }>();
  let lastShownAtMs = 0;
  let lastBroadcastAtMs = 0;
  // Rankings (the broadcast and each user's own) time the ranking; the rest time the notifications.
  const shownNow = (userId: string | undefined, id: string): void => {
    shownCount++;
    const at = now();
    const ranking = userId === RANKING_BROADCAST_USER || id.startsWith(RANKING_NOTIFICATION_ID_PREFIX);
    if (ranking) lastBroadcastAtMs = Math.max(lastBroadcastAtMs, at);
    else lastShownAtMs = at;
    options.onShown?.(userId, at, ranking);
  };
  const handle = bus.subscribe(
    SUBSCRIPTIONS.gateway.name,
    async (d) => {
      if (options.validate === false) {
        const id = d.attributes['notificationId'];
        if (id !== undefined && scaleDeduper.accept(id)) shownNow(d.attributes['userId'], id);
        d.ack();
        return;
      }
      // A malformed notification (not JSON, off the contract) is refused as the gateway's bus
      // intake refuses it: to the dead letters with the reason, never a throw that loops it on the bus.
      const parsed = parseMessage(TOPICS.notifications, d.data);
      if (!parsed.ok || parsed.value.topic !== TOPICS.notifications) {
        await deadLetter(bus, TOPICS.notifications, d, parsed.ok ? 'MESSAGE.INVALID: not a notification' : `${parsed.error.code}: ${parsed.error.message}`);
        return;
      }
      {
        const { notificationId: id, userId, payload, seq } = parsed.value.message;
        // The number is part of what must repeat identically: a redelivery numbered anew is a second notification.
        if (keep) deliveries.record(id, userId, `${seq ?? '-'}|${JSON.stringify(payload)}`);
        if (accept(userId, id)) {
          const seen = keep ? shown.get(id) : undefined;
          if (seen !== undefined) seen.times++;
          else {
            if (keep) shown.set(id, seq === undefined ? { userId, payload, times: 1 } : { userId, payload, times: 1, seq });
            shownNow(userId, id);
          }
        }
      }
      d.ack();
    },
    { maxInFlight: options.maxInFlight ?? CLIENT_IN_FLIGHT, ackDeadlineMs: SUBSCRIPTIONS.gateway.ackDeadlineSeconds * 1000 },
  );
  return { view: { shown, delivered: deliveries.delivered }, shownCount: () => shownCount, lastShownAtMs: () => lastShownAtMs, lastBroadcastAtMs: () => lastBroadcastAtMs, handle };
}
