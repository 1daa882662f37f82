// The input line of `raceday payout` (docs/rules.md): one race, validated completely, with errors that
// name the field path (`pools.trifecta."3-1-9"`) and the reason.
//
// Decisions:
// - Pool amounts are any non-negative safe integer yen, not only multiples of 100: a pool is the
//   sum of sales, and the worked vectors of docs/rules.md use small figures (25, 5, 10). Zero is allowed
//   (a combination with no stakes drops out of P exactly as if it were absent).
// - A bet type's pool total is capped at POOL_TOTAL_YEN_MAX so that every per100 (at most about
//   100 × S) and every payout stays a safe integer; a pool above it is rejected, not rounded.
// - Path segments that are not plain identifiers are JSON-quoted, so a combination key is never
//   confused with the dots between segments: `pools.trifecta."3-1-5"`, `result.order[1][0]`.
// - JSON objects cannot carry duplicate keys past JSON.parse (the last one wins); that is the
//   caller's JSON, not something this validator can see.
import { encodeCombination, parseCombination } from './combination.ts';
import type { PayoutInput } from './payout.ts';
import { parseRate, type Rational } from './rational.ts';
import { err, ok, type Result } from './result.ts';
import { keyPath, parseRaceResult, validateScratched } from './results.ts';
import { betTypesSold, isBetTypeSold, isBetType, validateField, type BetType, type Field } from './sports.ts';

/** 10 trillion yen per bet type of one race: about ten years of keirin sales, far below 2^53 / 100. */
export const POOL_TOTAL_YEN_MAX = 10_000_000_000_000;

const TOP_LEVEL_KEYS = ['sport', 'riders', 'scratched', 'result', 'pools', 'returnRate'] as const;


const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export type PayoutRequest = PayoutInput & { readonly betTypesInInput: BetType[] };

/** The bet type named by a key of `pools` or `returnRate`: known and sold in the field. */
function betTypeOf(key: string, field: Field, path: string): Result<BetType> {
  if (!isBetType(key)) return err('BET.TYPE_UNKNOWN', `unknown bet type "${key}"`, path);
  if (!isBetTypeSold(field, key)) {
    return err('BET.TYPE_NOT_SOLD', `${key} is not sold in a ${field.riders}-rider ${field.sport} race (sold: ${betTypesSold(field).join(', ')})`, path);
  }
  return ok(key);
}

function parsePool(betType: BetType, value: unknown, field: Field, path: string): Result<Map<number, number>> {
  if (!isRecord(value)) return err('POOL.INVALID', `a pool must be an object of combination -> yen, got ${JSON.stringify(value)}`, path);
  const pool = new Map<number, number>();
  let totalYen = 0;
  for (const [combo, yen] of Object.entries(value)) {
    const at = keyPath(path, combo);
    const numbers = parseCombination(betType, combo, field);
    if (!numbers.ok) return err(numbers.error.code, numbers.error.message, at);
    if (typeof yen !== 'number' || !Number.isSafeInteger(yen) || yen < 0) {
      return err('POOL.INVALID', `stake must be a non-negative integer of yen, got ${JSON.stringify(yen)}`, at);
    }
    totalYen += yen;
    if (totalYen > POOL_TOTAL_YEN_MAX) return err('POOL.INVALID', `the ${betType} pool exceeds ${POOL_TOTAL_YEN_MAX} yen`, at);
    pool.set(encodeCombination(numbers.value), yen);
  }
  return ok(pool);
}

function parsePools(value: unknown, field: Field): Result<{ pools: Partial<Record<BetType, Map<number, number>>>; betTypes: BetType[] }> {
  if (!isRecord(value)) return err('POOL.INVALID', `pools must be an object of bet type -> pool, got ${JSON.stringify(value)}`, 'pools');
  const pools: Partial<Record<BetType, Map<number, number>>> = {};
  const betTypes: BetType[] = [];
  for (const [key, poolValue] of Object.entries(value)) {
    const path = keyPath('pools', key);
    const betType = betTypeOf(key, field, path);
    if (!betType.ok) return betType;
    const pool = parsePool(betType.value, poolValue, field, path);
    if (!pool.ok) return pool;
    pools[betType.value] = pool.value;
    betTypes.push(betType.value);
  }
  return ok({ pools, betTypes });
}

function parseReturnRates(value: unknown, field: Field): Result<Partial<Record<BetType, Rational>>> {
  if (!isRecord(value)) return err('RATE.INVALID', `returnRate must be an object of bet type -> decimal string, got ${JSON.stringify(value)}`, 'returnRate');
  const rates: Partial<Record<BetType, Rational>> = {};
  for (const [key, text] of Object.entries(value)) {
    const path = keyPath('returnRate', key);
    const betType = betTypeOf(key, field, path);
    if (!betType.ok) return betType;
    const rate = parseRate(text, path);
    if (!rate.ok) return rate;
    rates[betType.value] = rate.value;
  }
  return ok(rates);
}

/** Validates one `raceday payout` input line (already JSON-parsed) into a payout input. */
export function parsePayoutRequest(value: unknown): Result<PayoutRequest> {
  if (!isRecord(value)) return err('INPUT.INVALID', `a race must be a JSON object, got ${JSON.stringify(value)}`);
  for (const key of Object.keys(value)) {
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      return err('INPUT.INVALID', `unknown key "${key}" (expected ${TOP_LEVEL_KEYS.join(', ')})`, keyPath('', key));
    }
  }
  const field = validateField(value['sport'], value['riders']);
  if (!field.ok) return field;
  const scratched = value['scratched'] === undefined ? ok([] as readonly number[]) : validateScratched(value['scratched'], field.value);
  if (!scratched.ok) return scratched;
  if (value['result'] === undefined) return err('RESULT.STATUS_INVALID', 'result is required', 'result');
  const result = parseRaceResult(value['result'], field.value, scratched.value);
  if (!result.ok) return result;
  if (value['pools'] === undefined) return err('POOL.INVALID', 'pools is required (use {} for a race without sales)', 'pools');
  const pools = parsePools(value['pools'], field.value);
  if (!pools.ok) return pools;
  const returnRates = value['returnRate'] === undefined ? ok({}) : parseReturnRates(value['returnRate'], field.value);
  if (!returnRates.ok) return returnRates;
  return ok({
    field: field.value,
    scratched: scratched.value,
    result: result.value,
    pools: pools.value.pools,
    returnRates: returnRates.value,
    betTypesInInput: pools.value.betTypes,
  });
}
