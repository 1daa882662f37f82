// Payout tables as text: the canonical JSON a Store keeps (combinations as canonical text, keys
// sorted, so equal tables give equal bytes), its validating reader, and the `raceday payout`
// contract output of docs/rules.md.
import { encodeCombination, formatCombination, parseCombination } from './combination.ts';
import type { BetTypePayout, PayoutTable } from './payout-table.ts';
import { combinationOfCode } from './payout.ts';
import { keyPath } from './results.ts';
import { err, invariant, ok, withPath, type Result } from './result.ts';
import { betTypesSold, isBetType, validateField, type BetType, type Field } from './sports.ts';

/** JSON with object keys sorted at every depth and no whitespace; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
  return out;
}

const text = (betType: BetType, code: number): string => formatCombination(betType, combinationOfCode(betType, code));
const texts = (betType: BetType, codes: Iterable<number>): string[] => [...codes].sort((a, b) => a - b).map((c) => text(betType, c));

function betTypeToPlain(betType: BetType, p: BetTypePayout): Record<string, unknown> {
  switch (p.kind) {
    case 'refunded':
      return { kind: p.kind };
    case 'no_sales':
      return { kind: p.kind, winning: texts(betType, p.winning), refunded: texts(betType, p.refunded) };
    case 'special':
      return { kind: p.kind, per100: p.per100, winning: texts(betType, p.winning), refunded: texts(betType, p.refunded) };
    case 'paid': {
      const winners: Record<string, number> = {};
      for (const [code, per100] of p.winners) winners[text(betType, code)] = per100;
      return { kind: p.kind, winners, winning: texts(betType, p.winning), refunded: texts(betType, p.refunded) };
    }
  }
}

/** The stored form of a payout table: canonical JSON, combinations as text. */
export function payoutTableToJson(table: PayoutTable): string {
  const byType: Record<string, unknown> = {};
  for (const [betType, p] of Object.entries(table.byType) as [BetType, BetTypePayout][]) byType[betType] = betTypeToPlain(betType, p);
  return canonicalJson({ sport: table.sport, riders: table.riders, byType });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPer100 = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v % 10 === 0;

function codesFromJson(betType: BetType, field: Field, value: unknown, path: string): Result<number[]> {
  if (!Array.isArray(value)) return err('INPUT.INVALID', 'must be an array of combinations', path);
  const codes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = withPath(parseCombination(betType, value[i], field), `${path}[${i}]`);
    if (!c.ok) return c;
    codes.push(encodeCombination(c.value));
  }
  return ok(codes.sort((a, b) => a - b));
}

function betTypeFromJson(betType: BetType, field: Field, v: unknown, path: string): Result<BetTypePayout> {
  if (!isRecord(v)) return err('INPUT.INVALID', 'must be an object', path);
  if (v['kind'] === 'refunded') return ok({ kind: 'refunded' });
  const winning = codesFromJson(betType, field, v['winning'], `${path}.winning`);
  if (!winning.ok) return winning;
  const refundedList = codesFromJson(betType, field, v['refunded'], `${path}.refunded`);
  if (!refundedList.ok) return refundedList;
  const refunded = new Set(refundedList.value);
  // A refunded combination can never win (its riders did not start): such a table is corrupt.
  const both = winning.value.find((c) => refunded.has(c));
  if (both !== undefined) return err('INPUT.INVALID', `combination ${both} is both winning and refunded`, `${path}.refunded`);
  switch (v['kind']) {
    case 'no_sales':
      return ok({ kind: 'no_sales', winning: winning.value, refunded });
    case 'special': {
      const per100 = v['per100'];
      if (!isPer100(per100)) return err('INPUT.INVALID', `per100 must be a multiple of 10, got ${JSON.stringify(per100)}`, `${path}.per100`);
      return ok({ kind: 'special', per100, winning: winning.value, refunded });
    }
    case 'paid': {
      const raw = v['winners'];
      if (!isRecord(raw)) return err('INPUT.INVALID', 'winners must be an object', `${path}.winners`);
      const winners = new Map<number, number>();
      for (const [combo, per100] of Object.entries(raw)) {
        const at = keyPath(`${path}.winners`, combo);
        const c = withPath(parseCombination(betType, combo, field), at);
        if (!c.ok) return c;
        if (!isPer100(per100) || per100 < 100) return err('INPUT.INVALID', `per100 must be a multiple of 10 of at least 100, got ${JSON.stringify(per100)}`, at);
        const code = encodeCombination(c.value);
        if (!winning.value.includes(code)) return err('INPUT.INVALID', `${combo} is paid but not a winning combination`, at);
        winners.set(code, per100);
      }
      if (winners.size === 0) return err('INPUT.INVALID', 'a paid bet type needs at least one winner', `${path}.winners`);
      return ok({ kind: 'paid', winners, winning: winning.value, refunded });
    }
    default:
      return err('INPUT.INVALID', `kind must be paid, special, refunded or no_sales, got ${JSON.stringify(v['kind'])}`, `${path}.kind`);
  }
}

/** Reads a stored payout table back, validating every part (a Store's bytes are a boundary too). */
export function payoutTableFromJson(source: string): Result<PayoutTable> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (e) {
    return err('INPUT.INVALID', `payout table is not JSON: ${(e as Error).message}`);
  }
  if (!isRecord(parsed)) return err('INPUT.INVALID', 'payout table must be an object');
  const field = validateField(parsed['sport'], parsed['riders']);
  if (!field.ok) return field;
  const rawByType = parsed['byType'];
  if (!isRecord(rawByType)) return err('INPUT.INVALID', 'byType must be an object', 'byType');
  const sold = betTypesSold(field.value);
  const byType: Partial<Record<BetType, BetTypePayout>> = {};
  for (const [key, v] of Object.entries(rawByType)) {
    if (!isBetType(key)) return err('BET.TYPE_UNKNOWN', `unknown bet type "${key}"`, `byType.${key}`);
    if (!sold.includes(key)) return err('BET.TYPE_NOT_SOLD', `${key} is not sold in a ${field.value.riders}-rider ${field.value.sport} race`, `byType.${key}`);
    const p = betTypeFromJson(key, field.value, v, `byType.${key}`);
    if (!p.ok) return p;
    byType[key] = p.value;
  }
  return ok({ sport: field.value.sport, riders: field.value.riders, byType });
}

/**
 * The `raceday payout` output (docs/rules.md) for the bet types named in the input: `paid` with winners
 * (combination text -> per100, staked winners only), `special` with per100, `refunded`, `no_sales`.
 */
export function payoutContractOutput(table: PayoutTable, betTypesInInput: readonly BetType[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const betType of [...betTypesInInput].sort()) {
    const p = table.byType[betType];
    invariant(p !== undefined, `${betType} is not in the payout table of a ${table.riders}-rider ${table.sport} race`);
    if (p.kind === 'paid') {
      const winners: Record<string, number> = {};
      for (const [code, per100] of p.winners) winners[text(betType, code)] = per100;
      out[betType] = { kind: 'paid', winners };
    } else if (p.kind === 'special') out[betType] = { kind: 'special', per100: p.per100 };
    else out[betType] = { kind: p.kind };
  }
  return out;
}
