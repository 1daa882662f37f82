// The pari-mutuel payout table of one race (docs/rules.md): refunds, the statutory formula
// with 10-yen truncation, the 100-yen floor (元返し) and the special payout (特払い).
// Money sums are exact integers (checked to stay safe integers); the formula itself runs in BigInt.
import { decodeCombination, encodeCombination, enumerateCombinations } from './combination.ts';
import type { BetTypePayout, PayoutTable } from './payout-table.ts';
import type { RaceResult } from './race-result.ts';
import type { Rational } from './rational.ts';
import { invariant } from './result.ts';
import { winningCombinations } from './results.ts';
import { BET_TYPE_SPECS, SPORT_SPECS, betTypesSold, bracketRiders, type BetType, type Field } from './sports.ts';

export interface PayoutInput {
  readonly field: Field;
  readonly scratched: readonly number[];
  readonly result: RaceResult;
  /** Cash pools: bet type -> combination code -> yen staked. A missing type has no cash sales. */
  readonly pools: Readonly<Partial<Record<BetType, ReadonlyMap<number, number>>>>;
  /** Per-bet-type overrides of the sport's statutory return rate. */
  readonly returnRates?: Readonly<Partial<Record<BetType, Rational>>>;
}

/** A winner never returns less than its stake: 100 yen per 100 (元返し). */
export const PER100_FLOOR = 100;

const EMPTY_POOL: ReadonlyMap<number, number> = new Map();

/**
 * Decides refunds for one bet type in one field. Rider types: a combination naming a scratched
 * rider. Bracket types: a bracket named n times needs at least n riders left in it, so `4=5` is
 * refunded only when bracket 4 is emptied and `4=4` as soon as one of its two riders is out.
 */
function refundTest(betType: BetType, field: Field, scratched: readonly number[]): ((code: number) => boolean) | null {
  if (scratched.length === 0) return null;
  if (!BET_TYPE_SPECS[betType].brackets) {
    let mask = 0;
    for (const r of scratched) mask |= 1 << r;
    return (code) => {
      for (let c = code; c > 0; c = Math.floor(c / 10)) if ((mask & (1 << c % 10)) !== 0) return true;
      return false;
    };
  }
  const left = bracketRiders(field.riders).map((riders) => riders.filter((r) => !scratched.includes(r)).length);
  return (code) => {
    const a = Math.floor(code / 10);
    const b = code % 10;
    if (a === b) return (left[a - 1] ?? 0) < 2;
    return (left[a - 1] ?? 0) < 1 || (left[b - 1] ?? 0) < 1;
  };
}

/** Whether a combination code of a bet type is refunded because of scratches (欠車). */
export function isRefundedCombination(betType: BetType, code: number, field: Field, scratched: readonly number[]): boolean {
  return refundTest(betType, field, scratched)?.(code) ?? false;
}

// Every combination code per (bet type, riders): refunded sets must cover unstaked combinations
// too, since free-medal tickets are priced from this table without being in the cash pools.
const allCodesCache = new Map<string, readonly number[]>();

function allCodes(betType: BetType, field: Field): readonly number[] {
  const key = `${betType}:${field.riders}`;
  let codes = allCodesCache.get(key);
  if (codes === undefined) {
    codes = enumerateCombinations(betType, field).map(encodeCombination);
    allCodesCache.set(key, codes);
  }
  return codes;
}

const NO_REFUNDS: ReadonlySet<number> = new Set();

// Refunded sets depend only on (bet type, riders, scratched) and races repeat those, so they are
// memoized; the memo is bounded (cleared when full) and its sets are shared read-only.
const REFUNDED_MEMO_ENTRIES_MAX = 4096;
const refundedMemo = new Map<string, ReadonlySet<number>>();

function refundedSet(betType: BetType, field: Field, scratched: readonly number[]): ReadonlySet<number> {
  if (scratched.length === 0) return NO_REFUNDS;
  const key = `${betType}:${field.riders}:${scratched.join(',')}`;
  let set = refundedMemo.get(key);
  if (set === undefined) {
    const test = refundTest(betType, field, scratched) as (code: number) => boolean;
    set = new Set(allCodes(betType, field).filter(test));
    if (refundedMemo.size >= REFUNDED_MEMO_ENTRIES_MAX) refundedMemo.clear();
    refundedMemo.set(key, set);
  }
  return set;
}

/** 10 × floor(10 × R): what every live ticket returns per 100 in a special payout. */
export function specialPer100(rate: Rational): number {
  return Number(10n * ((10n * rate.num) / rate.den));
}

/**
 * per100 of one staked winning combination: T_c = (W_c + D/P) × R, per100 = 10 × floor(10 T_c / W_c),
 * at least 100. Written over one denominator: 10 T_c / W_c = 10 (W_c P + D) R.num / (P R.den W_c).
 */
export function paidPer100(stakeYen: bigint, leftoverYen: bigint, winnerCount: bigint, rate: Rational): number {
  const num = 10n * (stakeYen * winnerCount + leftoverYen) * rate.num;
  const den = winnerCount * rate.den * stakeYen;
  const per100 = 10n * (num / den);
  const floored = per100 < BigInt(PER100_FLOOR) ? PER100_FLOOR : Number(per100);
  invariant(Number.isSafeInteger(floored), `per100 ${per100} is not a safe integer`);
  return floored;
}

function betTypePayout(input: PayoutInput, betType: BetType): BetTypePayout {
  const { field, scratched, result } = input;
  if (result.status === 'void') return { kind: 'refunded' };
  const winning = winningCombinations(betType, field, result);
  if (winning.length === 0) return { kind: 'refunded' };
  const refunded = refundedSet(betType, field, scratched);
  const pool = input.pools[betType] ?? EMPTY_POOL;
  let liveYen = 0;
  for (const [code, yen] of pool) {
    invariant(Number.isSafeInteger(yen) && yen >= 0, `${betType} pool stake on ${code} must be a non-negative safe integer, got ${yen}`);
    if (!refunded.has(code)) liveYen += yen;
  }
  invariant(Number.isSafeInteger(liveYen), `${betType} pool total ${liveYen} is not a safe integer`);
  if (liveYen === 0) return { kind: 'no_sales', winning, refunded };
  const rate = input.returnRates?.[betType] ?? SPORT_SPECS[field.sport].returnRate;
  let winningYen = 0;
  let winnerCount = 0;
  for (const code of winning) {
    invariant(!refunded.has(code), `${betType} winning combination ${code} is refunded`);
    const yen = pool.get(code) ?? 0;
    if (yen > 0) {
      winningYen += yen;
      winnerCount++;
    }
  }
  if (winnerCount === 0) return { kind: 'special', per100: specialPer100(rate), winning, refunded };
  const leftoverYen = BigInt(liveYen - winningYen);
  const winners = new Map<number, number>();
  for (const code of winning) {
    const yen = pool.get(code) ?? 0;
    if (yen > 0) winners.set(code, paidPer100(BigInt(yen), leftoverYen, BigInt(winnerCount), rate));
  }
  return { kind: 'paid', winners, winning, refunded };
}

/**
 * The payout table of a race: an entry for every bet type sold in the field, even without a cash
 * pool, so settlement can price free-medal tickets on any type. Void race or undecidable type
 * (fewer finishers than placings needed): `refunded`; nothing live staked: `no_sales`; no staked
 * winner: `special`; else `paid`.
 */
export function computePayoutTable(input: PayoutInput): PayoutTable {
  const byType: Partial<Record<BetType, BetTypePayout>> = {};
  for (const betType of betTypesSold(input.field)) byType[betType] = betTypePayout(input, betType);
  return { sport: input.field.sport, riders: input.field.riders, byType };
}

/** The numbers of a combination code for a bet type (inverse of encodeCombination). */
export function combinationOfCode(betType: BetType, code: number): number[] {
  return decodeCombination(code, BET_TYPE_SPECS[betType].size);
}
