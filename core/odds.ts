// Live odds (docs/odds.md): what a winning ticket of each staked combination would return per
// 100 yen if the betting closed now, from the race's current cash pools. Pari-mutuel odds are the
// payout formula of docs/rules.md applied to the pools as they stand, so they reuse it exactly:
// integers throughout, the formula in BigInt, rounded down to 10 yen per 100 (0.1 in display
// odds), never below 100 per 100 (1.0). A combination nobody staked has no odds.
//
// Bet types with one winning combination (win, exacta, quinella, trio, trifecta and the bracket
// types) have one figure: per100 = 10 x floor(10 x S x R / W_c), which is the formula with P = 1
// and D = S - W_c. `wide` and `place` pay several combinations at once and share the losers'
// money between the staked winners, so a combination's return depends on which others win with
// it: their odds are a range, the least and the most it can return over every finish in which it
// wins (one figure when both agree).
import { decodeCombination, encodeCombination, formatCombination } from './combination.ts';
import { isRefundedCombination, paidPer100 } from './payout.ts';
import type { Rational } from './rational.ts';
import { invariant } from './result.ts';
import { BET_TYPE_SPECS, SPORT_SPECS, betTypesSold, placingsNeeded, type BetType, type Field } from './sports.ts';

export interface OddsInput {
  readonly field: Field;
  /** Riders withdrawn before the start: combinations naming them are refunded and leave the pool. */
  readonly scratched?: readonly number[];
  /** Cash pools as the store sums them (Store.cashPools): bet type -> combination code -> yen. */
  readonly pools: Readonly<Partial<Record<BetType, ReadonlyMap<number, number>>>>;
  /** Per-bet-type overrides of the sport's statutory return rate. */
  readonly returnRates?: Readonly<Partial<Record<BetType, Rational>>>;
}

/** One staked combination's odds as per100 (yen returned per 100 staked): min = max outside wide and place. */
export interface CombinationOdds {
  readonly code: number;
  readonly stakeYen: number;
  readonly per100Min: number;
  readonly per100Max: number;
}

export interface BetTypeOdds {
  /** Live money staked on the bet type (refunded combinations left out): S of the formula. */
  readonly poolYen: number;
  /** Every live combination with a stake, ascending code. */
  readonly combinations: readonly CombinationOdds[];
}

/** Odds per bet type sold in the field that has live stakes. */
export type RaceOdds = Readonly<Partial<Record<BetType, BetTypeOdds>>>;

/** Bet types several combinations of which win together (and whose odds are therefore a range). */
const MULTI_WINNER: ReadonlySet<BetType> = new Set<BetType>(['wide', 'place']);

/** The odds of every bet type of a race that has live stakes. */
export function computeOdds(input: OddsInput): RaceOdds {
  const out: Partial<Record<BetType, BetTypeOdds>> = {};
  for (const betType of betTypesSold(input.field)) {
    const odds = betTypeOdds(input, betType);
    if (odds !== undefined) out[betType] = odds;
  }
  return out;
}

function betTypeOdds(input: OddsInput, betType: BetType): BetTypeOdds | undefined {
  const pool = input.pools[betType];
  if (pool === undefined) return undefined;
  const scratched = input.scratched ?? [];
  const live = new Map<number, number>();
  let poolYen = 0;
  for (const [code, yen] of pool) {
    invariant(Number.isSafeInteger(yen) && yen >= 0, `${betType} pool stake on ${code} must be a non-negative safe integer, got ${yen}`);
    if (yen === 0 || isRefundedCombination(betType, code, input.field, scratched)) continue;
    live.set(code, yen);
    poolYen += yen;
  }
  invariant(Number.isSafeInteger(poolYen), `${betType} pool total ${poolYen} is not a safe integer`);
  if (poolYen === 0) return undefined;
  const rate = input.returnRates?.[betType] ?? SPORT_SPECS[input.field.sport].returnRate;
  const liveRiders = ridersLeft(input.field, scratched);
  const combinations: CombinationOdds[] = [];
  for (const code of [...live.keys()].sort((a, b) => a - b)) {
    const stakeYen = live.get(code) as number;
    if (!MULTI_WINNER.has(betType)) {
      const per100 = paidPer100(BigInt(stakeYen), BigInt(poolYen - stakeYen), 1n, rate);
      combinations.push({ code, stakeYen, per100Min: per100, per100Max: per100 });
      continue;
    }
    const range = multiWinnerRange(betType, code, stakeYen, poolYen, live, liveRiders, input.field, rate);
    if (range !== undefined) combinations.push({ code, stakeYen, ...range });
  }
  return { poolYen, combinations };
}

function ridersLeft(field: Field, scratched: readonly number[]): readonly number[] {
  const out: number[] = [];
  for (let r = 1; r <= field.riders; r++) if (!scratched.includes(r)) out.push(r);
  return out;
}

/**
 * The least and most a wide or place combination returns over every set of co-winners it can
 * have. For wide `a=b` the third placed rider x makes `a=x` and `b=x` win too; for place `a`, any
 * k - 1 other riders placed with it. Co-winners without stakes do not count in P (docs/rules.md).
 * Undefined when too few riders are left to fill the placings (the bet type would be refunded).
 */
function multiWinnerRange(
  betType: BetType,
  code: number,
  stakeYen: number,
  poolYen: number,
  live: ReadonlyMap<number, number>,
  liveRiders: readonly number[],
  field: Field,
  rate: Rational,
): { per100Min: number; per100Max: number } | undefined {
  const mine = decodeCombination(code, BET_TYPE_SPECS[betType].size);
  const others = liveRiders.filter((r) => !mine.includes(r));
  const placings = placingsNeeded(betType, field.riders);
  const coWinnerSets: number[][] = [];
  if (betType === 'wide') {
    if (others.length < 1) return undefined;
    const [a, b] = mine as [number, number];
    for (const x of others) coWinnerSets.push([pairCode(a, x), pairCode(b, x)]);
  } else {
    if (others.length < placings - 1) return undefined;
    for (const subset of subsetsOf(others, placings - 1)) coWinnerSets.push(subset);
  }
  let per100Min = Number.POSITIVE_INFINITY;
  let per100Max = 0;
  for (const coWinners of coWinnerSets) {
    let winnersYen = stakeYen;
    let staked = 1n;
    for (const c of coWinners) {
      const yen = live.get(c) ?? 0;
      if (yen > 0) {
        winnersYen += yen;
        staked++;
      }
    }
    const per100 = paidPer100(BigInt(stakeYen), BigInt(poolYen - winnersYen), staked, rate);
    if (per100 < per100Min) per100Min = per100;
    if (per100 > per100Max) per100Max = per100;
  }
  return { per100Min, per100Max };
}

const pairCode = (a: number, b: number): number => encodeCombination(a < b ? [a, b] : [b, a]);

/** Every subset of `size` elements, in lexicographic order (fields have at most 9 riders, so at most 56). */
function subsetsOf(items: readonly number[], size: number): number[][] {
  if (size === 0) return [[]];
  const out: number[][] = [];
  for (let i = 0; i <= items.length - size; i++) {
    for (const rest of subsetsOf(items.slice(i + 1), size - 1)) out.push([items[i] as number, ...rest]);
  }
  return out;
}

/** Display odds from per100, rounded down to 0.1 as the payout is: 1530 -> "15.3", 100 -> "1.0". */
export function formatOdds(per100: number): string {
  invariant(Number.isSafeInteger(per100) && per100 >= 0 && per100 % 10 === 0, `per100 must be a non-negative multiple of 10, got ${per100}`);
  return `${Math.floor(per100 / 100)}.${(per100 % 100) / 10}`;
}

/** The odds of one combination on the wire: "15.3", or "2.1-3.4" for a wide or place range. */
export function formatOddsRange(c: CombinationOdds): string {
  return c.per100Min === c.per100Max ? formatOdds(c.per100Min) : `${formatOdds(c.per100Min)}-${formatOdds(c.per100Max)}`;
}

/** The wire form the gateway sends watchers: bet type -> combination text -> display odds. */
export type OddsWire = Readonly<Partial<Record<BetType, Readonly<Record<string, string>>>>>;

export function oddsToWire(odds: RaceOdds): OddsWire {
  const out: Partial<Record<BetType, Record<string, string>>> = {};
  for (const [betType, t] of Object.entries(odds) as [BetType, BetTypeOdds][]) {
    const size = BET_TYPE_SPECS[betType].size;
    const byCombination: Record<string, string> = {};
    for (const c of t.combinations) byCombination[formatCombination(betType, decodeCombination(c.code, size))] = formatOddsRange(c);
    out[betType] = byCombination;
  }
  return out;
}
