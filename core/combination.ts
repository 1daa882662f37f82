// Combination notation (docs/rules.md): ordered types join numbers with `-` in finishing order,
// unordered types join ascending numbers with `=`. Bracket types use bracket numbers.
//
// For columnar storage a combination is also an integer code: its numbers as decimal digits in
// canonical order ("3-1-5" -> 315, "1=3" -> 13, "4=4" -> 44). Numbers never exceed 9, so a code
// fits in a Uint16, and `comboKey(betType, code)` = betTypeCode * 1000 + code indexes a dense table.
import { BET_TYPE_CODE, BET_TYPE_SPECS, BRACKET_COUNT, betTypesSold, isBetTypeSold, bracketRiders, type BetType, type Field } from './sports.ts';
import { err, ok, type Result } from './result.ts';

export type Combination = readonly number[];

/** The largest number a combination of this bet type can name in this field. */
export function maxNumber(betType: BetType, field: Field): number {
  return BET_TYPE_SPECS[betType].brackets ? BRACKET_COUNT : field.riders;
}

/** A bracket combination may repeat a bracket (ゾロ目) only where the bracket holds two riders. */
function bracketCanRepeat(field: Field, bracket: number): boolean {
  return (bracketRiders(field.riders)[bracket - 1]?.length ?? 0) >= 2;
}

const NUMBER = /^[1-9]$/;

/** Parses combination text for a bet type in a field; the error names the bad part. */
export function parseCombination(betType: BetType, text: unknown, field: Field): Result<Combination> {
  const spec = BET_TYPE_SPECS[betType];
  const bad = (why: string) => err('BET.COMBINATION_INVALID', `${betType} combination ${JSON.stringify(text)}: ${why}`);
  // A type the field does not sell has no combinations at all (a 6-rider PIST6 race has no brackets).
  if (!isBetTypeSold(field, betType)) {
    return err('BET.TYPE_NOT_SOLD', `${betType} is not sold in a ${field.riders}-rider ${field.sport} race (sold: ${betTypesSold(field).join(', ')})`);
  }
  if (typeof text !== 'string') return bad('must be a string');
  const sep = spec.ordered ? '-' : '=';
  const wrongSep = spec.ordered ? '=' : '-';
  if (spec.size > 1 && text.includes(wrongSep)) {
    return bad(`${betType} is ${spec.ordered ? 'ordered' : 'unordered'}, join numbers with "${sep}" not "${wrongSep}"`);
  }
  const parts = spec.size === 1 ? [text] : text.split(sep);
  if (parts.length !== spec.size) return bad(`needs ${spec.size} number${spec.size > 1 ? 's' : ''} joined by "${sep}", found ${parts.length}`);
  const max = maxNumber(betType, field);
  const what = spec.brackets ? 'bracket' : 'rider';
  const numbers: number[] = [];
  for (const part of parts) {
    if (!NUMBER.test(part)) return bad(`"${part}" is not a ${what} number`);
    const n = Number(part);
    if (n > max) return bad(`${what} ${n} is out of range 1..${max}`);
    numbers.push(n);
  }
  for (let i = 1; i < numbers.length; i++) {
    const a = numbers[i - 1] as number;
    const b = numbers[i] as number;
    if (a === b) {
      if (!spec.brackets) return bad(`${what} ${a} appears twice`);
      if (!bracketCanRepeat(field, a)) return bad(`bracket ${a} has one rider in a ${field.riders}-rider field, so ${a}${sep}${a} does not exist`);
    } else if (!spec.ordered && a > b) {
      return bad(`numbers must be ascending, "${a}" comes before "${b}"`);
    }
  }
  if (spec.ordered && numbers.length === 3 && numbers[0] === numbers[2]) return bad(`${what} ${numbers[0]} appears twice`);
  return ok(numbers);
}

export function formatCombination(betType: BetType, numbers: Combination): string {
  return numbers.join(BET_TYPE_SPECS[betType].ordered ? '-' : '=');
}

export function encodeCombination(numbers: Combination): number {
  let code = 0;
  for (const n of numbers) code = code * 10 + n;
  return code;
}

export function decodeCombination(code: number, size: number): number[] {
  const out = new Array<number>(size);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = code % 10;
    code = Math.floor(code / 10);
  }
  return out;
}

/** Dense key of (bet type, combination code): unique across bet types, below COMBO_KEY_SPACE. */
export function comboKey(betType: BetType, code: number): number {
  return BET_TYPE_CODE[betType] * 1000 + code;
}

export const COMBO_KEY_SPACE = 9000;

/** Every combination that exists for a bet type in a field, in canonical form and ascending code. */
export function enumerateCombinations(betType: BetType, field: Field): Combination[] {
  const spec = BET_TYPE_SPECS[betType];
  const max = maxNumber(betType, field);
  const out: Combination[] = [];
  const current: number[] = [];
  const walk = (): void => {
    if (current.length === spec.size) {
      out.push([...current]);
      return;
    }
    const start = spec.ordered ? 1 : (current[current.length - 1] ?? 1);
    for (let n = start; n <= max; n++) {
      if (current.includes(n)) {
        const repeatAllowed = spec.brackets && current[current.length - 1] === n && current.length === 1 && bracketCanRepeat(field, n);
        if (!repeatAllowed) continue;
      }
      current.push(n);
      walk();
      current.pop();
    }
  };
  walk();
  return out;
}

/** The widest field any sport runs: a combination of a race the store does not know yet is checked against it. */
const WIDEST_FIELD: Field = { sport: 'keirin', riders: 9 };

/**
 * The check every store makes on a bulk-loaded ticket (one rule for every backend): the
 * combination must be one the race's field can have; before the race is known, one the widest
 * field can have. The error text names the ticket and ends with the stable code.
 */
export function loadedTicketCombination(ticket: { ticketId: string; betType: BetType; combination: string }, field: Field | undefined): Result<Combination> {
  const parsed = parseCombination(ticket.betType, ticket.combination, field ?? WIDEST_FIELD);
  if (parsed.ok) return parsed;
  return err(parsed.error.code, `loadTickets: ticket ${ticket.ticketId}: ${parsed.error.message} [${parsed.error.code}]`);
}
