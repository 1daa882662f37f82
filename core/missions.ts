// Bonuses and missions granted after a user's settlement, as pure functions. Bonus ids are
// deterministic (from the settlement id, or from user and day), and the Store grants an id at most
// once, so a redelivered `settled` message cannot grant anything twice, even if the day progress it
// was computed from was already advanced.
//
// "Today" spans every race of a user's day: the Store keeps one entry per (user, day, race)
// (DayRaceEntry) and folds them into the progress before the next race counts (dayProgressOf),
// inside the transaction that records the new entry (Store.applyDayProgress). Keyed by race, a
// redelivered `settled` finds its race already counted and changes nothing. The day is the race's
// date in Japan, where every venue is (japanDayOf).
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
  hitsTodayTarget: 3, // the "3 hits today" mission of docs/rules.md
  hitsTodayMedals: 100,
  firstTrifectaHitMedals: 200,
});

/** A user's progress through one day before a settlement: the Store's entries of the day, folded (dayProgressOf). */
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

/** What one race of the day added to a user's progress; the Store keeps one per (user, day, race). */
export interface DayRaceEntry {
  readonly userId: string;
  readonly day: string;
  readonly raceId: string;
  readonly settlementId: string;
  readonly hits: number;
  readonly trifectaHits: number;
}

/** Refuses an entry a store must not record: no ids, a day not written YYYY-MM-DD, or impossible hit counts. */
export function checkDayRaceEntry(e: DayRaceEntry): void {
  invariant(e.userId.length > 0 && e.raceId.length > 0 && e.settlementId.length > 0, `day progress entry ${JSON.stringify(e)} needs a user, race and settlement`);
  invariant(/^\d{4}-\d{2}-\d{2}$/.test(e.day), `day progress entry of ${e.userId} in ${e.raceId}: day ${JSON.stringify(e.day)} must be YYYY-MM-DD`);
  invariant(Number.isSafeInteger(e.hits) && e.hits >= 0 && Number.isSafeInteger(e.trifectaHits) && e.trifectaHits >= 0 && e.trifectaHits <= e.hits, `day progress entry of ${e.userId} in ${e.raceId} has inconsistent hit counts`);
}

/** The entry a settlement of `raceId` adds to its user's `day`. */
export function dayRaceEntry(facts: SettlementFacts, raceId: string, day: string): DayRaceEntry {
  return { userId: facts.userId, day, raceId, settlementId: facts.settlementId, hits: facts.hits, trifectaHits: facts.trifectaHits };
}

/** The user's progress through `day` after the races already counted (in any order: only sums matter). */
export function dayProgressOf(day: string, counted: readonly Pick<DayRaceEntry, 'hits' | 'trifectaHits'>[]): DayProgress {
  let hits = 0;
  let trifecta = false;
  for (const e of counted) {
    hits += e.hits;
    trifecta ||= e.trifectaHits > 0;
  }
  return { day, hitsBefore: hits, trifectaHitBefore: trifecta };
}

/** The bonuses a settlement earns given the day so far; the Store calls it inside its transaction. */
export type DayBonusesOf = (before: DayProgress) => readonly Bonus[];

// -- The race day in Japan ----------------------------------------------------------------------
// Every keirin, PIST6 and autorace venue is in Japan, and Japan Standard Time is UTC+9 all year
// (no daylight saving time since 1951), so the venue's date is plain integer arithmetic on the
// instant: no time zone database, the same answer on every host.

const DAY_MS = 86_400_000;
const JAPAN_OFFSET_MS = 9 * 3_600_000;

/** Floor division of integers, exact for any safe integer (a float quotient can round up to the next integer). */
function floorDiv(a: number, b: number): number {
  const r = ((a % b) + b) % b;
  return (a - r) / b;
}

/** The proleptic Gregorian date of a count of days since 1970-01-01 (H. Hinnant's civil-from-days algorithm). */
function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = floorDiv(z, 146_097);
  const doe = z - era * 146_097; // day of the 400-year era, 0..146096
  const yoe = floorDiv(doe - floorDiv(doe, 1_460) + floorDiv(doe, 36_524) - floorDiv(doe, 146_096), 365);
  const doy = doe - (365 * yoe + floorDiv(yoe, 4) - floorDiv(yoe, 100)); // day of the year starting 1 March
  const mp = floorDiv(5 * doy + 2, 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day: doy - floorDiv(153 * mp + 2, 5) + 1 };
}

/** Instants accepted: years 0001 to 9999 in Japan, so every day is written YYYY-MM-DD. */
const JAPAN_DAY_MIN_MS = -62_135_596_800_000 - JAPAN_OFFSET_MS;
const JAPAN_DAY_MAX_MS = 253_402_300_799_999 - JAPAN_OFFSET_MS;

/** The date in Japan (UTC+9) of an instant in ms since the Unix epoch, as "YYYY-MM-DD". */
export function japanDayOf(epochMs: number): string {
  invariant(Number.isSafeInteger(epochMs) && epochMs >= JAPAN_DAY_MIN_MS && epochMs <= JAPAN_DAY_MAX_MS, `japanDayOf: ${epochMs} is not an integer instant in years 0001..9999`);
  const { year, month, day } = civilFromDays(floorDiv(epochMs + JAPAN_OFFSET_MS, DAY_MS));
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The race day of a race for "today" missions: the Japan date of its post time (ms since the epoch). */
export function raceDayOf(postAtMs: number): string {
  return japanDayOf(postAtMs);
}
