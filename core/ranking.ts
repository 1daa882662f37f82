// The day ranking: who got the most back from a race (or a whole day), computed from every user's
// settlements once the ranking barrier says all users of the race are settled. Pure and
// deterministic: the same settlements in any order give the same ranking.
import { invariant } from './result.ts';
import type { Settlement } from './settlement-record.ts';
import { WIRE_LIMITS } from './wire-check.ts';

/**
 * How long a ranking claim holds before another worker at the barrier may take it over, unless it
 * was recorded as published (Store.claimRanking): well above one publication (reading every
 * total of a large race and one publish), so a live claimant is not overtaken, and short enough
 * that a claimant that died between claiming and publishing delays the ranking by seconds only.
 */
export const RANKING_CLAIM_LEASE_MS = 30_000;

/** What one settlement contributes: the cash and medals it credited (the `settled` message's `cash`, `medals`). */
export interface RankingInput {
  readonly userId: string;
  /**
   * Cash credited: payouts, special payouts and refunds alike (the settlement's cashDelta), since
   * that is what the `settled` message carries and what the user sees come back.
   */
  readonly cash: number;
  readonly medals: number;
}

export interface RankingEntry {
  /**
   * Standard competition ranking ("1224"): users with equal cash and equal medals share a rank and
   * the next rank skips. Within a tie users are listed by userId (code-unit order) so the list is
   * deterministic; the rank number itself never depends on userId.
   */
  readonly rank: number;
  readonly userId: string;
  readonly cash: number;
  readonly medals: number;
}

export const RANKING_LIMITS = Object.freeze({
  /** The most entries `rankUsers` returns; a day can hold millions of users. */
  topMax: 10_000,
});

export function rankingInputOf(s: Settlement): RankingInput {
  return { userId: s.userId, cash: s.cashDelta, medals: s.medalDelta };
}

function compareEntries(a: RankingInput, b: RankingInput): number {
  if (a.cash !== b.cash) return b.cash - a.cash;
  if (a.medals !== b.medals) return b.medals - a.medals;
  return a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0;
}

/**
 * Ranks users by cash credited, then medals credited, then userId. Several inputs of one user
 * (a day's races) are summed first. Returns the first `top` entries; a tie at the cut is cut by
 * userId order, and the entries kept still carry their true competition rank.
 */
export function rankUsers(inputs: readonly RankingInput[], top: number): RankingEntry[] {
  invariant(Number.isSafeInteger(top) && top >= 0 && top <= RANKING_LIMITS.topMax, `ranking top must be an integer in 0..${RANKING_LIMITS.topMax}, got ${top}`);
  const totals = new Map<string, { cash: number; medals: number }>();
  for (const i of inputs) {
    invariant(Number.isSafeInteger(i.cash) && Number.isSafeInteger(i.medals), `ranking input of ${i.userId} must hold integers`);
    const t = totals.get(i.userId);
    if (t === undefined) totals.set(i.userId, { cash: i.cash, medals: i.medals });
    else {
      t.cash += i.cash;
      t.medals += i.medals;
    }
  }
  const sorted = [...totals].map(([userId, t]) => ({ userId, cash: t.cash, medals: t.medals })).sort(compareEntries);
  const out: RankingEntry[] = [];
  let rank = 0;
  for (let i = 0; i < sorted.length && i < top; i++) {
    const e = sorted[i] as RankingInput;
    const prev = sorted[i - 1];
    if (prev === undefined || prev.cash !== e.cash || prev.medals !== e.medals) rank = i + 1;
    out.push({ rank, userId: e.userId, cash: e.cash, medals: e.medals });
  }
  return out;
}

/** Ranks a race's (or a day's) settlements; see rankUsers. */
export function rankSettlements(settlements: readonly Settlement[], top: number): RankingEntry[] {
  return rankUsers(settlements.map(rankingInputOf), top);
}

/** The notification shows at most this many entries of the ranking. */
export const RANKING_NOTIFICATION_TOP = Math.min(10, WIRE_LIMITS.rankingTopMax);
