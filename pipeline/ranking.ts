// The ranking barrier, shared by every event that can complete it: a user marked post-settled
// (post-settle.ts) or a user dead-lettered (settle.ts, the single-worker fan-out). A race is ranked
// once every user the fan-out counted is terminal, settled or dead-lettered; the ranking is over
// the users that settled and says how many were left out and why.
// Claim first, then publish: of several workers at the barrier only the claimant reads the totals
// and publishes. The claim names the triggering message (race/user) and its delivery attempt, so
// if the claimant crashes before publishing, the redelivery of that same message (a later
// attempt) claims again and publishes; any other message at the barrier, or a duplicate delivery
// of the same attempt, is answered false. A user re-driven from the dead letters later is
// settled and notified, but the ranking is not issued again (docs/result-finality.md).
import { rankingNotification, type LeftOut } from '../core/notification.ts';
import type { RankingClaimant, SettlementTotals } from '../core/ports.ts';
import { RANKING_NOTIFICATION_TOP, rankUsers } from '../core/ranking.ts';
import { TOPICS } from '../core/topology.ts';
import { storeMethod, type HandlerDeps } from './context.ts';
import { notificationMessage } from './notify.ts';
import type { RaceContext } from './race-cache.ts';
import { LIMITS } from './settings.ts';

/** The ranking is one broadcast per race: the gateway shows it on every connection (see report). */
export const RANKING_BROADCAST_USER = '*';

/** Races whose fan-out count a worker remembers (a day has dozens). */
const KNOWN_FANOUT_RACES_MAX = 1_024;

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

/** Dead-lettered users not settled since (a re-drive may have settled one before the ranking), counted per reason code. */
async function leftOutOf(deps: HandlerDeps, raceId: string, settled: ReadonlySet<string>): Promise<LeftOut> {
  const dead = deps.store.deadLetteredUsers === undefined ? [] : await storeMethod(deps.store, 'deadLetteredUsers')(raceId);
  const reasons: Record<string, number> = {};
  let users = 0;
  for (const d of dead) {
    if (settled.has(d.userId)) continue;
    const code = /^[A-Z_]+\.[A-Z_]+/.exec(d.reason)?.[0] ?? 'UNKNOWN';
    reasons[code] = (reasons[code] ?? 0) + 1;
    users++;
  }
  return { users, reasons };
}

async function publishRanking(deps: HandlerDeps, race: RaceContext): Promise<void> {
  const raceId = race.outcome.raceId;
  const totals = await allTotals(deps, raceId);
  const leftOut = await leftOutOf(deps, raceId, new Set(totals.map((t) => t.userId)));
  const ranking = rankUsers(totals, Math.min(LIMITS.rankingTop, RANKING_NOTIFICATION_TOP));
  const body = rankingNotification(raceId, RANKING_BROADCAST_USER, ranking, LIMITS.rankingTop, race.outcome.publishedAtMs, leftOut);
  await deps.bus.publish(TOPICS.notifications, [notificationMessage(body)]);
  deps.counters.rankingsPublished++;
}

/** Checks the barrier after an event made `terminal` users of the race terminal; ranks the race if it is complete. */
export type RankingTrigger = (race: RaceContext, terminal: number, claimant: RankingClaimant, item: string) => Promise<void>;

export function createRankingTrigger(deps: HandlerDeps): RankingTrigger {
  // Races this worker ranked: later triggers here (duplicates after the barrier) skip the claim.
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
  return async (race, terminal, claimant, item) => {
    const raceId = race.outcome.raceId;
    if (rankedHere.has(raceId)) return;
    const expected = await fanoutUsers(raceId);
    // Broken on purpose (checker self-test): rank as soon as anyone is settled.
    const complete = deps.variants.broken === 'no-barrier' || (expected !== undefined && terminal >= expected);
    if (!complete) return;
    if (deps.variants.broken === 'publish-unclaimed') {
      // Broken on purpose (checker self-test): publish, then claim and ignore the answer.
      await publishRanking(deps, race);
      await deps.store.claimRanking(raceId, claimant);
      rankedHere.add(raceId);
      return;
    }
    // A refused claim is not remembered: the claimant may have crashed before publishing, and its
    // redelivery may come to this worker (only messages after the barrier pay for the claim read).
    if (!(await deps.store.claimRanking(raceId, claimant))) return;
    deps.probe('ranking.afterClaim', item);
    await publishRanking(deps, race);
    deps.probe('ranking.afterPublish', item);
    rankedHere.add(raceId);
  };
}
