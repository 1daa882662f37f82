// Invalid placeBet inputs, generated with fast-check from the bet rules (docs/rules.md,
// docs/gateway.md "placeBet"): each kind breaks one rule, and the code the gateway must answer is
// part of the case, so a refusal with another code (or none) is as much a finding as an accepted bet.
import fc from 'fast-check';
import { parseCombination } from '../../core/combination.ts';
import { BET_TYPES, betTypesSold, type BetType, type Field } from '../../core/sports.ts';

/** The world the bets are placed in (bets.ts builds it in the store under test). */
export interface BetWorld {
  /** Users with an account: cash and medals as given. */
  readonly users: readonly string[];
  readonly cash: number;
  readonly medals: number;
  /** A user with a valid token and no account. */
  readonly stranger: string;
  readonly openRace: { readonly raceId: string; readonly field: Field };
  /** Open too, with a field that does not sell every bet type (7 riders: no bracket bets). */
  readonly smallRace: { readonly raceId: string; readonly field: Field };
  readonly closedRace: { readonly raceId: string; readonly field: Field };
}

export const BET_KINDS = {
  'stake-not-positive': { code: 'BET.STAKE_INVALID', field: 'stake' },
  'stake-not-multiple': { code: 'BET.STAKE_INVALID', field: 'stake' },
  'stake-fractional': { code: 'INPUT.INVALID' },
  'stake-beyond-safe': { code: 'INPUT.INVALID' },
  'unknown-race': { code: 'RACE.UNKNOWN', field: 'raceId' },
  'closed-race': { code: 'BET.RACE_CLOSED', field: 'raceId' },
  'bet-type-unknown': { code: 'BET.TYPE_UNKNOWN', field: 'betType' },
  'bet-type-not-sold': { code: 'BET.TYPE_NOT_SOLD', field: 'betType' },
  'combination-invalid': { code: 'BET.COMBINATION_INVALID', field: 'combination' },
  'wrong-type': { code: 'INPUT.INVALID' },
  'missing-field': { code: 'INPUT.INVALID' },
  'extra-field': { code: 'INPUT.INVALID' },
  'currency-invalid': { code: 'INPUT.INVALID' },
  'idempotency-key-invalid': { code: 'GATEWAY.IDEMPOTENCY_KEY_INVALID', field: 'idempotencyKey' },
  'idempotency-key-reused': { code: 'GATEWAY.IDEMPOTENCY_KEY_REUSED', field: 'idempotencyKey' },
  'insufficient-cash': { code: 'BET.INSUFFICIENT_BALANCE', field: 'stake' },
  'insufficient-medals': { code: 'BET.INSUFFICIENT_BALANCE', field: 'stake' },
  'no-account': { code: 'GATEWAY.NOT_FOUND' },
} as const satisfies Record<string, { code: string; field?: string }>;
export type BetKind = keyof typeof BET_KINDS;
export const BET_KIND_NAMES = Object.keys(BET_KINDS) as BetKind[];

export interface BetCase {
  readonly kind: BetKind;
  readonly userId: string;
  /** The `input` variable as sent: any JSON (wrong types and missing fields included). */
  readonly input: unknown;
  /** The `idempotencyKey` variable; undefined leaves it out. */
  readonly key: string | undefined;
  /** A valid bet placed first with the same key (the reused-key case); it is accepted and debited. */
  readonly first?: { readonly input: ValidBet; readonly key: string };
}

export interface ValidBet {
  readonly raceId: string;
  readonly betType: BetType;
  readonly combination: string;
  readonly stake: number;
  readonly currency: 'cash' | 'medal';
}

const STAKE_UNIT = 100;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Every valid combination of a bet type in a field, by trying the candidates the core accepts. */
function validCombinations(betType: BetType, field: Field): string[] {
  const out: string[] = [];
  const n = field.riders;
  for (let a = 1; a <= n; a++) {
    for (const text of [`${a}`, ...Array.from({ length: n }, (_, b) => `${a}-${b + 1}`), ...Array.from({ length: n }, (_, b) => `${a}=${b + 1}`)]) {
      if (parseCombination(betType, text, field).ok) out.push(text);
    }
    for (let b = 1; b <= n; b++) for (let c = 1; c <= n; c++) for (const sep of ['-', '=']) {
      const text = `${a}${sep}${b}${sep}${c}`;
      if (parseCombination(betType, text, field).ok) out.push(text);
    }
  }
  return [...new Set(out)];
}

function validBet(w: BetWorld, stake: fc.Arbitrary<number>, currency: fc.Arbitrary<'cash' | 'medal'>): fc.Arbitrary<ValidBet> {
  const sold = betTypesSold(w.openRace.field);
  return fc.constantFrom(...sold).chain((betType) =>
    fc.record({ raceId: fc.constant(w.openRace.raceId), betType: fc.constant(betType), combination: fc.constantFrom(...validCombinations(betType, w.openRace.field)), stake, currency }),
  );
}

const smallStake = fc.integer({ min: 1, max: 3 }).map((n) => n * STAKE_UNIT);
const anyCurrency = fc.constantFrom('cash' as const, 'medal' as const);
const keyArb = fc.string({ minLength: 1, maxLength: 64 });
const strangerId = fc.stringMatching(/^[!-~]{1,30}$/).map((s) => `nope-${s}`);

/** Text a combination of `betType` in `field` may not be: garbage, a rider twice, out of range, wrong arity or separator. */
function invalidCombination(betType: BetType, field: Field): fc.Arbitrary<string> {
  const num = fc.integer({ min: 0, max: 20 }).map(String);
  const shaped = fc.tuple(fc.array(num, { minLength: 1, maxLength: 4 }), fc.constantFrom('-', '=', ',', ' ', '')).map(([parts, sep]) => parts.join(sep));
  return fc.oneof(shaped, fc.string({ maxLength: 12 }), fc.constantFrom('', '1-1-1', '0-1-2', '1-2-10', '3=1=2', '1-2', '1-2-3-4', ' 1-2-3', '1--2', '-1-2')).filter((t) => !parseCombination(betType, t, field).ok);
}

function input(b: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return { ...b };
}

function caseOf(kind: BetKind, w: BetWorld): fc.Arbitrary<BetCase> {
  const user = fc.constantFrom(...w.users);
  const base = validBet(w, smallStake, anyCurrency);
  const simple = (edit: fc.Arbitrary<unknown>): fc.Arbitrary<BetCase> => fc.tuple(user, edit, keyArb).map(([userId, i, key]) => ({ kind, userId, input: i, key }));
  switch (kind) {
    case 'stake-not-positive':
      return simple(fc.tuple(base, fc.oneof(fc.constant(0), fc.integer({ min: -100_000, max: -1 }).map((n) => n * STAKE_UNIT), fc.integer({ min: -1_000_000, max: -1 }), fc.constant(-MAX_SAFE))).map(([b, stake]) => input({ ...b, stake })));
    case 'stake-not-multiple':
      return simple(fc.tuple(base, fc.integer({ min: 1, max: 10_000_000 }).filter((s) => s % STAKE_UNIT !== 0)).map(([b, stake]) => input({ ...b, stake })));
    case 'stake-fractional':
      return simple(fc.tuple(base, fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).filter((s) => !Number.isInteger(s))).map(([b, stake]) => input({ ...b, stake })));
    case 'stake-beyond-safe':
      return simple(fc.tuple(base, fc.oneof(fc.double({ min: 2 ** 53, max: 1e300, noNaN: true }), fc.constant(-1e300))).map(([b, stake]) => input({ ...b, stake })));
    case 'unknown-race':
      return simple(fc.tuple(base, strangerId).map(([b, raceId]) => input({ ...b, raceId })));
    case 'closed-race':
      return simple(
        fc.constantFrom(...betTypesSold(w.closedRace.field)).chain((betType) =>
          fc.tuple(fc.constantFrom(...validCombinations(betType, w.closedRace.field)), smallStake, anyCurrency).map(([combination, stake, currency]) => input({ raceId: w.closedRace.raceId, betType, combination, stake, currency })),
        ),
      );
    case 'bet-type-unknown':
      return simple(fc.tuple(base, fc.string({ maxLength: 20 }).filter((t) => !(BET_TYPES as readonly string[]).includes(t))).map(([b, betType]) => input({ ...b, betType })));
    case 'bet-type-not-sold': {
      const unsold = BET_TYPES.filter((t) => !betTypesSold(w.smallRace.field).includes(t));
      return simple(fc.tuple(base, fc.constantFrom(...unsold), fc.constantFrom('1-2', '1=2', '1-1', '2')).map(([b, betType, combination]) => input({ ...b, raceId: w.smallRace.raceId, betType, combination })));
    }
    case 'combination-invalid':
      return simple(base.chain((b) => invalidCombination(b.betType, w.openRace.field).map((combination) => input({ ...b, combination }))));
    case 'wrong-type': {
      const notString = fc.oneof(fc.boolean(), fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { minKeys: 1, maxKeys: 2 }));
      const fieldValue = fc.oneof(
        fc.tuple(fc.constant('stake'), fc.oneof(fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }))),
        fc.tuple(fc.constantFrom('raceId', 'betType', 'combination'), notString),
      );
      return simple(fc.tuple(base, fieldValue).map(([b, [k, v]]) => input({ ...b, [k]: v })));
    }
    case 'missing-field':
      return simple(
        fc.tuple(base, fc.constantFrom('raceId', 'betType', 'combination', 'stake')).map(([b, k]) => {
          const { [k as keyof ValidBet]: _drop, ...rest } = b;
          return rest;
        }),
      );
    case 'extra-field':
      // userId among them: a bet on another user's account is not expressible.
      return simple(fc.tuple(base, fc.oneof(fc.constant('userId'), fc.constant('ticketId'), fc.string({ minLength: 1, maxLength: 10 }).filter((k) => !['raceId', 'betType', 'combination', 'stake', 'currency', '__proto__'].includes(k))), fc.jsonValue({ maxDepth: 1 })).map(([b, k, v]) => input({ ...b, [k]: v })));
    case 'currency-invalid':
      return simple(fc.tuple(base, fc.oneof(fc.string({ maxLength: 8 }).filter((c) => c !== 'cash' && c !== 'medal'), fc.constantFrom('CASH', 'medals', 'yen', 1))).map(([b, currency]) => input({ ...b, currency })));
    case 'idempotency-key-invalid':
      return fc.tuple(user, base, fc.oneof(fc.constant(''), fc.string({ minLength: 129, maxLength: 400 }))).map(([userId, b, key]) => ({ kind, userId, input: b, key }));
    case 'idempotency-key-reused':
      // The second bet differs from the first in its stake or currency. The first is a cash bet:
      // hundreds of them must not run the users' few medals out.
      return fc.tuple(user, validBet(w, smallStake, fc.constant('cash' as const)), fc.constantFrom('stake', 'currency'), keyArb).map(([userId, first, what, key]) => {
        const second = what === 'stake' ? { ...first, stake: first.stake + STAKE_UNIT } : { ...first, currency: first.currency === 'cash' ? ('medal' as const) : ('cash' as const) };
        return { kind, userId, input: second, key: `reuse-${key}`, first: { input: first, key: `reuse-${key}` } };
      });
    case 'insufficient-cash':
      return simple(fc.tuple(base, fc.integer({ min: w.cash / STAKE_UNIT + 1, max: Math.floor(MAX_SAFE / STAKE_UNIT) })).map(([b, units]) => input({ ...b, currency: 'cash', stake: units * STAKE_UNIT })));
    case 'insufficient-medals':
      // Free medals are their own balance: a medal bet above it is refused however much cash there is.
      return simple(fc.tuple(base, fc.integer({ min: w.medals / STAKE_UNIT + 1, max: w.cash / STAKE_UNIT })).map(([b, units]) => input({ ...b, currency: 'medal', stake: units * STAKE_UNIT })));
    case 'no-account':
      return fc.tuple(base, keyArb).map(([b, key]) => ({ kind, userId: w.stranger, input: b, key }));
  }
}

/** `runs` cases of every kind, drawn from `seed`. */
export function drawBetCases(w: BetWorld, runs: number, seed: number, kinds: readonly BetKind[] = BET_KIND_NAMES): BetCase[] {
  return kinds.flatMap((kind, i) => fc.sample(caseOf(kind, w), { seed: seed + 104_729 * i, numRuns: runs }));
}

export { caseOf as betCase };
