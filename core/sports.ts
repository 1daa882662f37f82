// The sports raceday settles, their fields, bet types and statutory return rates (docs/rules.md).
import type { Rational } from './rational.ts';
import { err, ok, type Result } from './result.ts';

export const SPORTS = ['keirin', 'pist6', 'autorace'] as const;
export type Sport = (typeof SPORTS)[number];

/** Every bet type, in a fixed order: the index is the bet type's code in columnar storage. */
export const BET_TYPES = [
  'win',
  'place',
  'bracket_quinella',
  'bracket_exacta',
  'quinella',
  'exacta',
  'wide',
  'trio',
  'trifecta',
] as const;
export type BetType = (typeof BET_TYPES)[number];

export const BET_TYPE_CODE: Readonly<Record<BetType, number>> = Object.freeze(
  Object.fromEntries(BET_TYPES.map((t, i) => [t, i])) as Record<BetType, number>,
);

export interface BetTypeSpec {
  /** Finishing order matters (`-`) or not (`=`). */
  readonly ordered: boolean;
  /** How many numbers a combination names. */
  readonly size: number;
  /** Numbers are bracket numbers (枠) rather than rider numbers. */
  readonly brackets: boolean;
}

export const BET_TYPE_SPECS: Readonly<Record<BetType, BetTypeSpec>> = Object.freeze({
  win: { ordered: true, size: 1, brackets: false },
  place: { ordered: false, size: 1, brackets: false },
  bracket_quinella: { ordered: false, size: 2, brackets: true },
  bracket_exacta: { ordered: true, size: 2, brackets: true },
  quinella: { ordered: false, size: 2, brackets: false },
  exacta: { ordered: true, size: 2, brackets: false },
  wide: { ordered: false, size: 2, brackets: false },
  trio: { ordered: false, size: 3, brackets: false },
  trifecta: { ordered: true, size: 3, brackets: false },
});

export interface SportSpec {
  readonly ridersAllowed: readonly number[];
  /** Statutory default return rate R for every bet type; overridable per bet type. */
  readonly returnRate: Rational;
}

export const SPORT_SPECS: Readonly<Record<Sport, SportSpec>> = Object.freeze({
  keirin: { ridersAllowed: [7, 8, 9], returnRate: { num: 75n, den: 100n } },
  pist6: { ridersAllowed: [6], returnRate: { num: 75n, den: 100n } },
  autorace: { ridersAllowed: [8], returnRate: { num: 70n, den: 100n } },
});

const KEIRIN_TYPES: readonly BetType[] = ['bracket_quinella', 'bracket_exacta', 'quinella', 'exacta', 'wide', 'trio', 'trifecta'];
const PIST6_TYPES: readonly BetType[] = ['win', 'quinella', 'exacta', 'wide', 'trio', 'trifecta'];
const AUTORACE_TYPES: readonly BetType[] = ['win', 'place', 'quinella', 'exacta', 'wide', 'trio', 'trifecta'];

export function isSport(value: unknown): value is Sport {
  return typeof value === 'string' && (SPORTS as readonly string[]).includes(value);
}

export function isBetType(value: unknown): value is BetType {
  return typeof value === 'string' && (BET_TYPES as readonly string[]).includes(value);
}

/** The field of a race: which sport and how many riders were entered. */
export interface Field {
  readonly sport: Sport;
  readonly riders: number;
}

export function validateField(sport: unknown, riders: unknown): Result<Field> {
  if (!isSport(sport)) return err('RACE.SPORT_UNKNOWN', `sport must be one of ${SPORTS.join(', ')}, got ${JSON.stringify(sport)}`, 'sport');
  const allowed = SPORT_SPECS[sport].ridersAllowed;
  if (typeof riders !== 'number' || !allowed.includes(riders)) {
    return err('RACE.RIDERS_INVALID', `${sport} races have ${allowed.join(' or ')} riders, got ${JSON.stringify(riders)}`, 'riders');
  }
  return ok({ sport, riders });
}

const KEIRIN_TYPES_UNDER_9: readonly BetType[] = KEIRIN_TYPES.filter((t) => t !== 'bracket_exacta');

/** Bet types on sale for a field; bracket_exacta only in 9-rider keirin races. */
export function betTypesSold(field: Field): readonly BetType[] {
  switch (field.sport) {
    case 'keirin':
      return field.riders === 9 ? KEIRIN_TYPES : KEIRIN_TYPES_UNDER_9;
    case 'pist6':
      return PIST6_TYPES;
    case 'autorace':
      return AUTORACE_TYPES;
  }
}

/** Whether the field sells the bet type (per ticket on settlement paths: allocates nothing). */
export function isBetTypeSold(field: Field, betType: BetType): boolean {
  return betTypesSold(field).includes(betType);
}

/** How many placings a bet type needs: `place` pays the top 3 with 8 or more riders entered, else the top 2. */
export function placingsNeeded(betType: BetType, riders: number): number {
  switch (betType) {
    case 'win':
      return 1;
    case 'place':
      return riders >= 8 ? 3 : 2;
    case 'bracket_quinella':
    case 'bracket_exacta':
    case 'quinella':
    case 'exacta':
      return 2;
    case 'wide':
    case 'trio':
    case 'trifecta':
      return 3;
  }
}

/** Keirin brackets (枠) by riders entered: index = bracket - 1, value = riders in it. */
const KEIRIN_BRACKETS: Readonly<Record<number, readonly (readonly number[])[]>> = Object.freeze({
  9: [[1], [2], [3], [4, 5], [6, 7], [8, 9]],
  8: [[1], [2], [3], [4], [5, 6], [7, 8]],
  7: [[1], [2], [3], [4], [5], [6, 7]],
});

export const BRACKET_COUNT = 6;

/** The riders of each bracket for a keirin field; throws for fields without brackets (a bug). */
export function bracketRiders(riders: number): readonly (readonly number[])[] {
  const table = KEIRIN_BRACKETS[riders];
  if (table === undefined) throw new Error(`invariant violated: no bracket table for ${riders} riders`);
  return table;
}

/** The bracket (1..6) of a rider in a keirin field. */
export function bracketOf(riders: number, rider: number): number {
  const table = bracketRiders(riders);
  for (let b = 0; b < table.length; b++) if ((table[b] as readonly number[]).includes(rider)) return b + 1;
  throw new Error(`invariant violated: rider ${rider} is not in a ${riders}-rider field`);
}

/**
 * Keirin ticket sales by bet type, in per mille of tickets (national sales, 2008). The one source
 * for every workload that draws keirin bet types (scenario presets, the benches). The published
 * percentages are rounded to one decimal and sum to 100.1%, so these sum to 1,001: consumers
 * draw in proportion to the weights rather than assume a total of 1,000.
 */
export const KEIRIN_SALES_PER_MILLE: Readonly<Partial<Record<BetType, number>>> = Object.freeze({
  trifecta: 705,
  exacta: 182,
  trio: 60,
  bracket_exacta: 19,
  quinella: 17,
  bracket_quinella: 13,
  wide: 5,
});
