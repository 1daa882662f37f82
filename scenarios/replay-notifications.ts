// The replay's notification client: acks every notification on the gateway subscription (as the
// GraphQL gateway would; without it a grand-prix replay keeps 1.6 million unread messages in
// memory) and tallies them per race and user on bitmaps, from the message attributes alone, so
// the checkers can tell who was notified once, twice or never without holding an id per message.
import type { MessageBus, SubscriptionHandle } from '../core/ports.ts';
import { SUBSCRIPTIONS } from '../core/topology.ts';
import { RANKING_BROADCAST_USER } from '../pipeline/post-settle.ts';

/** Deliveries in flight at the gateway (it only counts; more would only queue). */
const GATEWAY_IN_FLIGHT = 1024;

export interface RaceNotifications {
  /** Bit per day user index: a settled notification arrived. */
  readonly settled: Uint8Array;
  /** Settled notifications for a user already notified of this race (redeliveries past the dedupe). */
  duplicates: number;
  /** Broadcast ranking notifications received. */
  rankings: number;
  /** Users' own ranking notifications received (one per ranked user, more on redelivery). */
  userRankings: number;
}

export interface NotificationTally {
  readonly races: ReadonlyMap<string, RaceNotifications>;
  /** Notifications whose user or race is not of this day, first few. */
  readonly strays: readonly string[];
  count(): number;
  stop(): Promise<void>;
}

const STRAYS_KEPT = 5;
const SETTLED_PREFIX = 'ntf:settled:stl:';
const RANKING_PREFIX = 'ntf:ranking:';

/**
 * Starts the tally. `userIndexOf` maps a user id to its day index (-1 when unknown); the race of a
 * notification comes from its id (notificationId rules in core/notification.ts).
 */
export function startNotificationTally(bus: MessageBus, raceIds: readonly string[], users: number, userIndexOf: (userId: string) => number): NotificationTally {
  const races = new Map<string, RaceNotifications>();
  const known = new Set(raceIds);
  const strays: string[] = [];
  let count = 0;
  const stray = (id: string): void => {
    if (strays.length < STRAYS_KEPT) strays.push(id);
  };
  const raceOf = (raceId: string): RaceNotifications | undefined => {
    if (!known.has(raceId)) return undefined;
    let r = races.get(raceId);
    if (r === undefined) races.set(raceId, (r = { settled: new Uint8Array((users >>> 3) + 1), duplicates: 0, rankings: 0, userRankings: 0 }));
    return r;
  };
  const tally = (id: string, userId: string): void => {
    if (id.startsWith(RANKING_PREFIX)) {
      const r = raceOf(id.slice(RANKING_PREFIX.length, id.length - userId.length - 1));
      if (r === undefined || (userId !== RANKING_BROADCAST_USER && userIndexOf(userId) < 0)) stray(id);
      else if (userId === RANKING_BROADCAST_USER) r.rankings++;
      else r.userRankings++;
      return;
    }
    // ntf:settled:stl:<raceId>:<userId>:v<version>
    const tail = `:${userId}:v`;
    const at = id.lastIndexOf(tail);
    const u = userIndexOf(userId);
    const r = id.startsWith(SETTLED_PREFIX) && at > SETTLED_PREFIX.length ? raceOf(id.slice(SETTLED_PREFIX.length, at)) : undefined;
    if (r === undefined || u < 0) return stray(id);
    const mask = 1 << (u & 7);
    if (((r.settled[u >>> 3] as number) & mask) !== 0) r.duplicates++;
    else r.settled[u >>> 3] = (r.settled[u >>> 3] as number) | mask;
  };
  const handle: SubscriptionHandle = bus.subscribe(
    SUBSCRIPTIONS.gateway.name,
    async (d) => {
      count++;
      tally(d.attributes['notificationId'] ?? '', d.attributes['userId'] ?? '');
      d.ack();
    },
    { maxInFlight: GATEWAY_IN_FLIGHT, ackDeadlineMs: SUBSCRIPTIONS.gateway.ackDeadlineSeconds * 1000 },
  );
  return { races, strays, count: () => count, stop: () => handle.close() };
}
