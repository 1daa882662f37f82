// Post-settle: for each `settled` message, count the race in the user's day progress and grant
// the bonuses and missions it earns, in one Store transaction keyed by (user, Japan day, race), so
// a redelivery counts nothing twice (ids are deterministic too, the Store grants an id once), mark
// (race, user) post-settled, and when the marked
// count reaches the number of users the fan-out found (the barrier), publish the day ranking: one
// broadcast notification per race (user "*"), not one per user, so a race of a million users
// costs one message rather than a million copies of the same top list.
// The user's own notification is not published here but by the notify stage (notify.ts), a
// subscription of its own on `settled`: a store may defer these writes behind settlements (the
// Spanner store does, see Lane), and a notification waiting behind them would wait for nothing.
// The ranking is published before it is claimed, so a crash between the two republishes the same
// notification (same id) instead of losing it; the claim stops later republishing.
import { dayRaceEntry, missionBonuses, raceDayOf, type SettlementFacts } from '../core/missions.ts';
import { rankingNotification } from '../core/notification.ts';
import type { Delivery, DeliveryHandler, SettlementTotals } from '../core/ports.ts';
import { RANKING_NOTIFICATION_TOP, rankUsers } from '../core/ranking.ts';
import { TOPICS } from '../core/topology.ts';
import { storeMethod, type HandlerDeps } from './context.ts';
import { notificationMessage } from './notify.ts';
import type { RaceContext } from './race-cache.ts';
import { receive } from './receive.ts';
import { LIMITS } from './settings.ts';
import { parseSettled } from './wire.ts';

const raceDays = new Map<number, string>();

/** raceDayOf, memoised: every post-settle message of a race asks for the same day. */
function raceDayCached(postAtMs: number): string {
  let day = raceDays.get(postAtMs);
  if (day === undefined) {
    if (raceDays.size > 1024) raceDays.clear();
    raceDays.set(postAtMs, (day = raceDayOf(postAtMs)));
  }
  return day;
}

async function allTotals(deps: HandlerDeps, raceId: string): Promise<SettlementTotals[]> {
  const page = storeMethod(deps.store, 'pageSettlementTotals');
  const out: SettlementTotals[] = [];
  let after: string | undefined;
  for (;;) {
    const rows = await page(raceId, after, LIMITS.fanoutPageUsers);
    out.push(...rows);
    if (rows.length < LIMITS.fanoutPageUsers) return out;
    after = rows[rows.length - 1]?.userId;
  }
}

/** Races whose fan-out count a post-settle worker remembers (a day has dozens). */
const KNOWN_FANOUT_RACES_MAX = 1_024;

/** The ranking is one broadcast per race: the gateway shows it on every connection (see report). */
export const RANKING_BROADCAST_USER = '*';

/** Publishes the race's day ranking once, as a broadcast notification with a deterministic id. */
async function publishRanking(deps: HandlerDeps, race: RaceContext): Promise<void> {
  const raceId = race.outcome.raceId;
  const totals = await allTotals(deps, raceId);
  const ranking = rankUsers(totals, Math.min(LIMITS.rankingTop, RANKING_NOTIFICATION_TOP));
  const body = rankingNotification(raceId, RANKING_BROADCAST_USER, ranking, LIMITS.rankingTop, race.outcome.publishedAtMs);
  await deps.bus.publish(TOPICS.notifications, [notificationMessage(body)]);
  deps.counters.rankingsPublished++;
}

async function handleSettled(deps: HandlerDeps, rankedHere: Set<string>, fanoutUsers: (raceId: string) => Promise<number | undefined>, d: Delivery): Promise<void> {
  const { store, probe, variants } = deps;
  const received = await receive(deps, d, TOPICS.settled, parseSettled);
  if (received === undefined) return;
  const { m, race } = received;
  const item = `${m.raceId}/${m.userId}#${d.deliveryAttempt}`;
  const facts: SettlementFacts = { settlementId: m.settlementId, userId: m.userId, hits: m.hits, trifectaHits: m.trifectaHits };
  // A race without hits adds nothing to the day and earns nothing: no transaction for it.
  if (facts.hits > 0) await storeMethod(store, 'applyDayProgress')(dayRaceEntry(facts, m.raceId, raceDayCached(race.race.postAtMs)), (before) => missionBonuses(facts, before).bonuses);
  probe('postSettle.afterBonus', item);
  const marked = await store.markPostSettled(m.raceId, m.userId);
  probe('postSettle.afterMark', item);
  if (!rankedHere.has(m.raceId)) {
    const expected = await fanoutUsers(m.raceId);
    // Broken on purpose (checker self-test): rank as soon as anyone is settled.
    const barrierReached = variants.broken === 'no-barrier' || (expected !== undefined && marked >= expected);
    if (barrierReached) {
      await publishRanking(deps, race);
      probe('postSettle.afterRanking', item);
      await store.claimRanking(m.raceId);
      rankedHere.add(m.raceId);
    }
  }
  d.ack();
}

export function createPostSettleHandler(deps: HandlerDeps): DeliveryHandler {
  // Races this worker already ranked: later triggers (duplicates after the barrier) skip the work.
  const rankedHere = new Set<string>();
  const read = storeMethod(deps.store, 'fanoutUsers');
  // The fan-out's count is written once and never changes (recordFanoutUsers: first call wins), so
  // once seen it is remembered: one store read per race and worker instead of one per user.
  const known = new Map<string, number>();
  const fanoutUsers = async (raceId: string): Promise<number | undefined> => {
    const hit = known.get(raceId);
    if (hit !== undefined) return hit;
    const n = await read(raceId);
    if (n !== undefined) {
      if (known.size >= KNOWN_FANOUT_RACES_MAX) known.clear();
      known.set(raceId, n);
    }
    return n;
  };
  return (d) => handleSettled(deps, rankedHere, fanoutUsers, d);
}
