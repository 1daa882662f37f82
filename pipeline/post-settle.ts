// Post-settle: for each `settled` message, count the race in the user's day progress and grant
// the bonuses and missions it earns, in one Store transaction keyed by (user, Japan day, race), so
// a redelivery counts nothing twice (ids are deterministic too, the Store grants an id once), mark
// (race, user) post-settled, and when every user the fan-out found is terminal (the barrier,
// ranking.ts), publish the day ranking: one broadcast notification per race (user "*"), not one
// per user, so a race of a million users costs one message rather than a million copies of the
// same top list.
// The user's own notification is not published here but by the notify stage (notify.ts), a
// subscription of its own on `settled`: a store may defer these writes behind settlements (the
// Spanner store does, see Lane), and a notification waiting behind them would wait for nothing.
import { dayRaceEntry, missionBonuses, raceDayOf, type SettlementFacts } from '../core/missions.ts';
import type { Delivery, DeliveryHandler } from '../core/ports.ts';
import { MAX_DELIVERY_ATTEMPTS, TOPICS } from '../core/topology.ts';
import { storeMethod, type HandlerDeps } from './context.ts';
import { deadLetter, deadLetterUser } from './dead-letter.ts';
import { isInjectedCrash } from './probe.ts';
import { createRankingTrigger, RankingPending, type RankingTrigger } from './ranking.ts';
import { receive } from './receive.ts';
import { settledAgreesWithStore } from './settled-check.ts';
import { parseSettled } from './wire.ts';

export { RANKING_BROADCAST_USER } from './ranking.ts';

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

async function handleSettled(deps: HandlerDeps, rankIfComplete: RankingTrigger, d: Delivery): Promise<void> {
  const { store, probe } = deps;
  const received = await receive(deps, d, TOPICS.settled, parseSettled);
  if (received === undefined) return;
  const { m, race } = received;
  if (!(await settledAgreesWithStore(deps, d, m))) return;
  const item = `${m.raceId}/${m.userId}#${d.deliveryAttempt}`;
  const facts: SettlementFacts = { settlementId: m.settlementId, userId: m.userId, hits: m.hits, trifectaHits: m.trifectaHits };
  // A race without hits adds nothing to the day and earns nothing: no transaction for it.
  if (facts.hits > 0) await storeMethod(store, 'applyDayProgress')(dayRaceEntry(facts, m.raceId, raceDayCached(race.race.postAtMs)), (before) => missionBonuses(facts, before).bonuses);
  probe('postSettle.afterBonus', item);
  const terminal = await store.markPostSettled(m.raceId, m.userId);
  probe('postSettle.afterMark', item);
  await rankIfComplete(race, terminal, { id: `${m.raceId}/${m.userId}`, attempt: d.deliveryAttempt }, item, true);
  d.ack();
}

/**
 * The last delivery the subscription allows failed: the user is settled, but its post-settle work
 * is not done. It goes to the dead letters with the error as the reason (re-drivable); the
 * dead-letter intake counts the user terminal, so the race is still ranked (the ranking reads
 * settlements, so the user is in it). A crash here instead leaves it to the bus's forwarding.
 */
async function deadLetterOnLastAttempt(deps: HandlerDeps, d: Delivery, e: unknown): Promise<void> {
  const m = parseSettled(d.data);
  if (!m.ok) throw e;
  const reason = `DELIVERY.ATTEMPTS_EXHAUSTED: post-settle attempt ${d.deliveryAttempt} of ${MAX_DELIVERY_ATTEMPTS} failed: ${e instanceof Error ? e.message : String(e)}`;
  deps.counters.deadLettered++;
  await deadLetterUser(deps.bus, TOPICS.settled, d.data, m.value.userId, reason, d.messageId, d.deliveryAttempt);
  d.ack();
}

/** The store knows no such user: the message is forged or corrupt, and no retry will change that. */
function isUnknownUser(e: unknown): e is Error {
  return e instanceof Error && e.message.includes('[USER.UNKNOWN]');
}

export function createPostSettleHandler(deps: HandlerDeps): DeliveryHandler {
  const rankIfComplete = createRankingTrigger(deps);
  return async (d) => {
    try {
      await handleSettled(deps, rankIfComplete, d);
    } catch (e) {
      // A well-formed `settled` naming a user the store does not have is poison: dead-lettered at
      // once with the reason (the intake ignores it: it names no user of the race), not retried
      // as a failure and counted as a handler error five times over.
      if (isUnknownUser(e)) {
        deps.counters.deadLettered++;
        await deadLetter(deps.bus, TOPICS.settled, d, `USER.UNKNOWN: ${e.message}`);
        return;
      }
      // A refused claim on the last attempt whose holder is this same message: the holder's copy
      // acks it, or the bus forwards it; never a dead letter of ours (ranking.ts RankingPending).
      if (isInjectedCrash(e) || e instanceof RankingPending || d.deliveryAttempt < MAX_DELIVERY_ATTEMPTS) throw e;
      await deadLetterOnLastAttempt(deps, d, e);
    }
  };
}
