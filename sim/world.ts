// Building a memory world from a race day, and the notification client that watches it; shared by
// the simulator (virtual time) and `raceday run` (real time).
import { parseNotification } from '../core/messages.ts';
import { createNotificationDeduper, type NotificationPayload } from '../core/notification.ts';
import type { Clock, MessageBus, Store, SubscriptionHandle } from '../core/ports.ts';
import type { Ticket } from '../core/ticket.ts';
import { SUBSCRIPTIONS } from '../core/topology.ts';
import { RANKING_BROADCAST_USER } from '../pipeline/post-settle.ts';
import type { RaceDay } from '../scenarios/model.ts';
import type { ClientView } from './checkers.ts';

/** Loads users, the race and its tickets; balances are taken as already debited by the stakes. */
export async function loadDay(store: Store, day: RaceDay): Promise<void> {
  const tickets: Ticket[] = [];
  for (const b of day.ticketBatches()) tickets.push(...b.tickets);
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
  /** Keep every shown notification for the checkers (false at scale: only counts are kept). */
  readonly keep?: boolean;
  /** Time stamps for lastShownAtMs (default the clock). */
  readonly now?: () => number;
  /**
   * Parse and validate every notification (default). At scale the client only reads the
   * `notificationId` attribute, so the bench measures the pipeline rather than the client.
   */
  readonly validate?: boolean;
  readonly maxInFlight?: number;
}

/** The notification client: validates, dedupes by id (as the app does) and counts what it shows. */
export function startClient(bus: MessageBus, clock: Clock, options: ClientOptions = {}): Client {
  const keep = options.keep ?? true;
  const now = options.now ?? (() => clock.nowMs());
  const deduper = createNotificationDeduper();
  let shownCount = 0;
  const shown = new Map<string, { userId: string; payload: NotificationPayload; times: number }>();
  let lastShownAtMs = 0;
  let lastBroadcastAtMs = 0;
  const shownNow = (userId: string | undefined): void => {
    if (userId === RANKING_BROADCAST_USER) lastBroadcastAtMs = now();
    else lastShownAtMs = now();
  };
  const handle = bus.subscribe(
    SUBSCRIPTIONS.gateway.name,
    async (d) => {
      if (options.validate === false) {
        const id = d.attributes['notificationId'];
        if (id !== undefined && deduper.accept(id)) {
          shownCount++;
          shownNow(d.attributes['userId']);
        }
        d.ack();
        return;
      }
      const n = parseNotification(JSON.parse(d.data));
      if (n.ok && deduper.accept(n.value.notificationId)) {
        const seen = keep ? shown.get(n.value.notificationId) : undefined;
        if (seen === undefined) {
          if (keep) shown.set(n.value.notificationId, { userId: n.value.userId, payload: n.value.payload, times: 1 });
          shownCount++;
          shownNow(n.value.userId);
        } else seen.times++;
      }
      d.ack();
    },
    { maxInFlight: options.maxInFlight ?? CLIENT_IN_FLIGHT, ackDeadlineMs: SUBSCRIPTIONS.gateway.ackDeadlineSeconds * 1000 },
  );
  return { view: { shown }, shownCount: () => shownCount, lastShownAtMs: () => lastShownAtMs, lastBroadcastAtMs: () => lastBroadcastAtMs, handle };
}
