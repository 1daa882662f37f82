// The bettor model (activity weights are in activity.ts): stakes in 100-yen units
// (heavy-tailed for cash, small for medals), purchases of several tickets at once (one user,
// currency, bet type and stake per point, like a formation bet) and opening balances that cover
// expected play.
import type { UserAccount } from '../core/ports.ts';
import { STAKE_UNIT } from '../core/ticket.ts';
import { buildAlias, type AliasTable } from './alias.ts';

/** Tail exponent of medal stakes: P(units = k) ∝ k^-(1 + MEDAL_STAKE_ALPHA); most medal bets are 100. */
const MEDAL_STAKE_ALPHA = 2;
/** Opening balances cover this many times a user's expected stakes, plus a floor. */
const BALANCE_COVER_FACTOR = 3;
const CASH_FLOOR_YEN = 100_000;
const MEDAL_FLOOR = 10_000;

export interface StakeModel {
  /** Draws stake units (×100) for cash and medal tickets. */
  readonly cash: AliasTable;
  readonly medal: AliasTable;
  readonly cashMeanUnits: number;
  readonly medalMeanUnits: number;
  /** Tickets per purchase minus one: geometric, truncated at PURCHASE_SIZE_MAX. */
  readonly purchaseSizes: AliasTable;
}

/** The largest purchase (points of one formation bet) the generator draws. */
const PURCHASE_SIZE_MAX = 60;

/** Geometric sizes 1..max with the given mean (before truncation): P(k) = (1 - p)^(k-1) p, p = 1 / mean. */
function purchaseSizeTable(mean: number): AliasTable {
  const p = 1 / mean;
  const w = new Float64Array(PURCHASE_SIZE_MAX);
  for (let k = 1; k <= PURCHASE_SIZE_MAX; k++) w[k - 1] = Math.pow(1 - p, k - 1) * p;
  return buildAlias(w);
}

/** Discrete Pareto on 1..max: P(k) ∝ k^-(alpha + 1). Index i of the table is k = i + 1. */
function paretoUnits(alpha: number, max: number): { table: AliasTable; mean: number } {
  const w = new Float64Array(max);
  let total = 0;
  let weighted = 0;
  for (let k = 1; k <= max; k++) {
    const x = Math.pow(k, -(alpha + 1));
    w[k - 1] = x;
    total += x;
    weighted += x * k;
  }
  return { table: buildAlias(w), mean: weighted / total };
}

export function buildStakeModel(cashAlpha: number, cashUnitsMax: number, medalUnitsMax: number, purchaseSizeMean: number): StakeModel {
  const cash = paretoUnits(cashAlpha, cashUnitsMax);
  const medal = paretoUnits(MEDAL_STAKE_ALPHA, medalUnitsMax);
  return { cash: cash.table, medal: medal.table, cashMeanUnits: cash.mean, medalMeanUnits: medal.mean, purchaseSizes: purchaseSizeTable(purchaseSizeMean) };
}

export function userIdDigits(users: number): number {
  return String(Math.max(0, users - 1)).length;
}

/** `u0042`: zero-padded so string order equals numeric order (the store pages users by id). */
export function userIdOf(index: number, digits: number): string {
  return `u${String(index).padStart(digits, '0')}`;
}

const roundUp = (x: number) => Math.ceil(x / STAKE_UNIT) * STAKE_UNIT;

export interface BalanceInputs {
  readonly tickets: number;
  readonly totalWeight: number;
  readonly medalShare: number;
  readonly stakes: StakeModel;
}

/** Opening balance of one user from its expected ticket count (weight share of the day's tickets). */
export function userAccount(index: number, digits: number, weight: number, b: BalanceInputs): UserAccount {
  const expected = (b.tickets * weight) / b.totalWeight;
  return {
    userId: userIdOf(index, digits),
    cash: CASH_FLOOR_YEN + roundUp(expected * (1 - b.medalShare) * b.stakes.cashMeanUnits * STAKE_UNIT * BALANCE_COVER_FACTOR),
    medals: MEDAL_FLOOR + roundUp(expected * b.medalShare * b.stakes.medalMeanUnits * STAKE_UNIT * BALANCE_COVER_FACTOR),
  };
}
