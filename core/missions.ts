// Bonuses and missions granted after a user's settlement, as pure functions. Bonus ids are
// deterministic (from the settlement id, or from user and day), and the Store grants an id at most
// once, so a redelivered `settled` message cannot grant anything twice, even if the day progress it
// was computed from was already advanced.
import type { SettledMessage } from './messages.ts';
import type { Bonus } from './ports.ts';
import { invariant } from './result.ts';
import type { Settlement } from './settlement-record.ts';
import { hitsOfType } from './settlement.ts';

/** Every amount and threshold of the missions, in one place. */
export interface MissionRules {
  /** Medals granted per hit (won or special ticket) of a settlement; 0 turns the bonus off. */
  readonly medalsPerHit: number;
  /** "N hits today": granted once per user and day when the day's hits reach this many. */
  readonly hitsTodayTarget: number;
  readonly hitsTodayMedals: number;
  /** "First trifecta hit" of the day: granted once per user and day. */
  readonly firstTrifectaHitMedals: number;
}

export const DEFAULT_MISSION_RULES: MissionRules = Object.freeze({
  medalsPerHit: 10,
  hitsTodayTarget: 3, // DOMAIN.md's example: "3 hits today"
  hitsTodayMedals: 100,
  firstTrifectaHitMedals: 200,
});

/** A user's progress through one day, kept by the post-settlement worker between settlements. */
export interface DayProgress {
  /** The day the progress belongs to, e.g. "2026-11-21" (the race day in the venue's time zone). */
  readonly day: string;
  /** Hits of the user earlier this day, before this settlement. */
  readonly hitsBefore: number;
  /** Whether the user already hit a trifecta earlier this day. */
  readonly trifectaHitBefore: boolean;
}

/** What missions need of a settlement; the `settled` message carries exactly this. */
export interface SettlementFacts {
  readonly settlementId: string;
  readonly userId: string;
  readonly hits: number;
  readonly trifectaHits: number;
}

export function settlementFacts(s: Settlement): SettlementFacts {
  return { settlementId: s.settlementId, userId: s.userId, hits: s.hits, trifectaHits: hitsOfType(s, 'trifecta') };
}

/** The facts a post-settlement worker reads off a `settled` message. */
export function factsOfSettledMessage(m: SettledMessage): SettlementFacts {
  return { settlementId: m.settlementId, userId: m.userId, hits: m.hits, trifectaHits: m.trifectaHits ?? 0 };
}

export function hitBonusId(settlementId: string): string {
  return `bonus:hit:${settlementId}`;
}

export function hitsTodayBonusId(userId: string, day: string, target: number): string {
  return `bonus:hits-today:${target}:${userId}:${day}`;
}

export function firstTrifectaBonusId(userId: string, day: string): string {
  return `bonus:first-trifecta:${userId}:${day}`;
}

function checkRules(r: MissionRules): void {
  for (const [name, v] of Object.entries(r)) invariant(Number.isSafeInteger(v) && v >= 0, `mission rule ${name} must be a non-negative integer, got ${v}`);
  invariant(r.hitsTodayTarget >= 1, `mission rule hitsTodayTarget must be at least 1, got ${r.hitsTodayTarget}`);
}

export interface MissionOutcome {
  readonly bonuses: readonly Bonus[];
  readonly progress: DayProgress;
}

/**
 * Bonuses earned by one settlement, and the day progress after it: a medal bonus per hit, the
 * "N hits today" bonus when this settlement carries the day's hits from below N to N or more, and
 * the "first trifecta hit" bonus when this settlement has the day's first trifecta hit.
 */
export function missionBonuses(settled: SettlementFacts | Settlement, progress: DayProgress, rules: MissionRules = DEFAULT_MISSION_RULES): MissionOutcome {
  checkRules(rules);
  const facts = 'outcomes' in settled ? settlementFacts(settled) : settled;
  invariant(Number.isSafeInteger(facts.hits) && facts.hits >= 0 && facts.trifectaHits >= 0 && facts.trifectaHits <= facts.hits, `settlement ${facts.settlementId} has inconsistent hit counts`);
  invariant(Number.isSafeInteger(progress.hitsBefore) && progress.hitsBefore >= 0, `day progress hitsBefore must be a non-negative integer, got ${progress.hitsBefore}`);
  invariant(progress.day.length > 0, 'day progress needs a day');
  const { userId } = facts;
  const bonuses: Bonus[] = [];
  if (facts.hits > 0 && rules.medalsPerHit > 0) {
    bonuses.push({ bonusId: hitBonusId(facts.settlementId), userId, medals: facts.hits * rules.medalsPerHit, reason: `${facts.hits} hit${facts.hits === 1 ? '' : 's'}` });
  }
  const hitsAfter = progress.hitsBefore + facts.hits;
  if (progress.hitsBefore < rules.hitsTodayTarget && hitsAfter >= rules.hitsTodayTarget && rules.hitsTodayMedals > 0) {
    bonuses.push({ bonusId: hitsTodayBonusId(userId, progress.day, rules.hitsTodayTarget), userId, medals: rules.hitsTodayMedals, reason: `${rules.hitsTodayTarget} hits today` });
  }
  const trifectaNow = facts.trifectaHits > 0;
  if (trifectaNow && !progress.trifectaHitBefore && rules.firstTrifectaHitMedals > 0) {
    bonuses.push({ bonusId: firstTrifectaBonusId(userId, progress.day), userId, medals: rules.firstTrifectaHitMedals, reason: 'first trifecta hit today' });
  }
  return { bonuses, progress: { day: progress.day, hitsBefore: hitsAfter, trifectaHitBefore: progress.trifectaHitBefore || trifectaNow } };
}

/** Progress at the start of a day. */
export function freshDay(day: string): DayProgress {
  return { day, hitsBefore: 0, trifectaHitBefore: false };
}
