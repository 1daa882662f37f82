// The ranking barrier, shared by every event that can complete it: a user marked post-settled
// (post-settle.ts) or a user dead-lettered (dead-letter-intake.ts, for every dead letter). A race is ranked
// once every user the fan-out counted is terminal, settled or dead-lettered; the ranking is over
// the users that settled and says how many were left out and why.
// Claim first, then publish, then record it published: of several workers at the barrier only the
// claimant reads the totals and publishes. The claim is a lease naming the triggering message
// (race/user) and its delivery attempt: the redelivery of that same message (a later attempt)
// claims again, and anyone takes over an unpublished claim older than the lease
// (LIMITS.rankingClaimLeaseMs). While the ranking is not recorded published, a refused duplicate
// of the holder's own message and a refused dead-letter intake fail retryably (RANKING.PENDING)
// and come back; a refused post-settle message of another user acks, leaving it to the holder's
// message, which is still out. So a claimant that died after claiming never takes the ranking
// with it, and nothing spins through its delivery attempts into the dead letters. A user re-driven from the dead letters later is
// settled and notified, but the ranking is not issued again (docs/result-finality.md).
import { encodeRankingNotifications } from '../core/messages.ts';
import { rankingNotification, rankingNotificationsOf, type LeftOut } from '../core/notification.ts';
import type { DeadLetteredUser, RankingClaimant } from '../core/ports.ts';
import { RANKING_NOTIFICATION_TOP, rankUsers, type RankingEntry } from '../core/ranking.ts';
import { TOPICS } from '../core/topology.ts';
import { storeMethod, type HandlerDeps } from './context.ts';
import { notificationAttributes, notificationMessage } from './notify.ts';
import type { RaceContext } from './race-cache.ts';
import { LIMITS } from './settings.ts';

/**
 * The ranking's race-level broadcast, published once per race after every user's own ranking
 * notification: the user id of no user, so it has no number and no user's subscription gets it
 * (the run's client times the ranking by it; a public results screen would show it).
 */
export const RANKING_BROADCAST_USER = '*';

/** Users' ranking notifications appended to the log per call (a page of totals is cut into slices of this size). */
const RANKING_APPEND_SLICE = 400;

/** Races whose fan-out count a worker remembers (a day has dozens). */
const KNOWN_FANOUT_RACES_MAX = 1_024;

/**
 * The race's ranking, read page by page keeping only the best `top` so far: a race has one total
 * per user, so the top of the union of the pages' tops is the top of all (the order is total:
 * cash, medals, userId) and the ranks within it are the same. A 1.6-million-user race no longer
 * holds every total (and a map and a sort of them) at once. `watch` (the dead-lettered users) are
 * reported back when a total of theirs is found (a re-drive settled them).
 */
export async function rankRace(deps: HandlerDeps, raceId: string, top: number, watch: ReadonlySet<string> = new Set()): Promise<{ ranking: RankingEntry[]; settled: Set<string> }> {
  const page = storeMethod(deps.store, 'pageSettlementTotals');
  let ranking: RankingEntry[] = [];
  const settled = new Set<string>();
  let after: string | undefined;
  for (;;) {
    const rows = await page(raceId, after, LIMITS.fanoutPageUsers);
    ranking = rankUsers([...ranking, ...rows], top);
    for (const r of rows) if (watch.has(r.userId)) settled.add(r.userId);
    if (rows.length < LIMITS.fanoutPageUsers) return { ranking, settled };
    after = rows[rows.length - 1]?.userId;
  }
}

/** Dead-lettered users not settled since (a re-drive may have settled one before the ranking), counted per reason code. */
function leftOutOf(dead: readonly DeadLetteredUser[], settled: ReadonlySet<string>): LeftOut {
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

/**
 * Each user's own ranking notification (the top entries and the user's rank), numbered in the
 * user's notification log: one append per slice of RANKING_APPEND_SLICE users, then the slice
 * published with its numbers. The users are the race's settled users, page by page, and then
 * the dead-lettered ones the ranking left out. A claimant's redelivery repeats this from the start: the log answers
 * the same numbers, so the republished notifications are the same ones.
 */
async function publishUserRankings(deps: HandlerDeps, race: RaceContext, ranking: readonly RankingEntry[], leftOut: LeftOut, leftOutUsers: readonly string[]): Promise<void> {
  const raceId = race.outcome.raceId;
  // A slice is published while the next one is appended, so the first users hear of the
  // ranking after one slice's append rather than after the whole page's.
  let publishing: Promise<void> = Promise.resolve();
  const publish = async (userIds: readonly string[]): Promise<void> => {
    for (let i = 0; i < userIds.length; i += RANKING_APPEND_SLICE) {
      const bodies = rankingNotificationsOf(raceId, userIds.slice(i, i + RANKING_APPEND_SLICE), ranking, LIMITS.rankingTop, race.outcome.publishedAtMs, leftOut);
      const seqs = await deps.store.appendNotifications(bodies);
      const texts = encodeRankingNotifications(bodies.map((b, k) => ({ ...b, seq: seqs[k] as number })));
      await publishing;
      publishing = deps.bus.publish(TOPICS.notifications, bodies.map((b, k) => ({ data: texts[k] as string, attributes: notificationAttributes(b) })));
      // Handled here so a failure while the next slice is appended is not an unhandled rejection; awaited (and thrown) below.
      publishing.catch(() => undefined);
    }
  };
  const page = storeMethod(deps.store, 'pageSettlementTotals');
  let after: string | undefined;
  for (;;) {
    const rows = await page(raceId, after, LIMITS.fanoutPageUsers);
    await publish(rows.map((r) => r.userId));
    if (rows.length < LIMITS.fanoutPageUsers) break;
    after = rows[rows.length - 1]?.userId;
  }
  await publish(leftOutUsers);
  await publishing;
}

async function publishRanking(deps: HandlerDeps, race: RaceContext): Promise<void> {
  const raceId = race.outcome.raceId;
  const dead = deps.store.deadLetteredUsers === undefined ? [] : await storeMethod(deps.store, 'deadLetteredUsers')(raceId);
  const { ranking, settled } = await rankRace(deps, raceId, Math.min(LIMITS.rankingTop, RANKING_NOTIFICATION_TOP), new Set(dead.map((d) => d.userId)));
  const leftOut = leftOutOf(dead, settled);
  await publishUserRankings(deps, race, ranking, leftOut, dead.map((d) => d.userId).filter((u) => !settled.has(u)));
  // The race-level broadcast last (no user, no number): the ranking is out once it is published.
  const body = rankingNotification(raceId, RANKING_BROADCAST_USER, ranking, LIMITS.rankingTop, race.outcome.publishedAtMs, leftOut);
  await deps.bus.publish(TOPICS.notifications, [notificationMessage(body)]);
  deps.counters.rankingsPublished++;
}

/**
 * Thrown by a worker at the barrier whose claim was refused while the ranking is not yet
 * published: its message must not be acked as if done (the claimant may have died after claiming,
 * and this may be a duplicate of the claimant's own delivery, whose ack would end that message for
 * good). The runner counts it apart from handler errors and the bus redelivers after its backoff;
 * the redelivery claims again, and takes the claim over once the claimant's lease has expired.
 */
export class RankingPending extends Error {
  constructor(raceId: string, claimant: RankingClaimant) {
    super(`RANKING.PENDING: the ranking of ${raceId} is claimed by another delivery and not yet published; ${claimant.id} (attempt ${claimant.attempt}) comes back until it is published or the claim's ${LIMITS.rankingClaimLeaseMs} ms lease expires`);
    this.name = 'RankingPending';
  }
}

/**
 * Checks the barrier after an event made `terminal` users of the race terminal; ranks the race if
 * it is complete. `leaveToHolder`: refused while another message holds the unpublished claim, this
 * one may ack and leave the ranking to the holder's message, which is still unacked: it comes
 * back (a later attempt claims again), or the bus forwards it to the dead-letter intake. True for
 * post-settle (so its messages do not spin through their 5 attempts while a crashed holder's lease
 * runs out); false for the intake, the end of that chain: it comes back until it can take over.
 */
export type RankingTrigger = (race: RaceContext, terminal: number, claimant: RankingClaimant, item: string, leaveToHolder: boolean) => Promise<void>;

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
  return async (race, terminal, claimant, item, leaveToHolder) => {
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
    if (!(await deps.store.claimRanking(raceId, claimant))) {
      const held = await storeMethod(deps.store, 'rankingClaim')(raceId);
      if (held?.published === true) rankedHere.add(raceId);
      // A duplicate of the holder's own delivery must not ack: that would end the holder's message.
      else if (!(leaveToHolder && held?.claimant !== undefined && held.claimant.id !== claimant.id)) throw new RankingPending(raceId, claimant);
      return;
    }
    deps.probe('ranking.afterClaim', item);
    await publishRanking(deps, race);
    deps.probe('ranking.afterPublish', item);
    await storeMethod(deps.store, 'markRankingPublished')(raceId);
    rankedHere.add(raceId);
  };
}
