// Proves the payout rules hold on random races (fields of every sport, scratches, falls, dead heats,
// void races, pools with small and large stakes, overridden return rates) with fast-check
// properties checked against exact integer arithmetic and a naive reference for winners; each run
// prints its seed, and FC_SEED=<seed> replays it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCombination, encodeCombination, enumerateCombinations, formatCombination, parseCombination } from './combination.ts';
import { payoutTableFromJson, payoutTableToJson } from './payout-json.ts';
import type { BetTypePayout } from './payout-table.ts';
import { computePayoutTable, isRefundedCombination, type PayoutInput } from './payout.ts';
import type { RaceResult } from './race-result.ts';
import type { Rational } from './rational.ts';
import { winningCombinations } from './results.ts';
import { BET_TYPE_SPECS, BET_TYPES, SPORT_SPECS, betTypesSold, bracketOf, placingsNeeded, type BetType, type Field } from './sports.ts';

const seed = Number(process.env['FC_SEED'] ?? Date.now() % 2 ** 31);
console.info(`payout properties: fast-check seed ${seed} (replay with FC_SEED=${seed})`);
const params = { seed, numRuns: 300 };

const FIELDS: readonly Field[] = [
  { sport: 'keirin', riders: 9 },
  { sport: 'keirin', riders: 8 },
  { sport: 'keirin', riders: 7 },
  { sport: 'pist6', riders: 6 },
  { sport: 'autorace', riders: 8 },
];

const codesOf = (betType: BetType, field: Field) => enumerateCombinations(betType, field).map(encodeCombination);

/** Stakes mix tiny pool figures (as in the worked vectors of docs/rules.md), zeros, and real multiples of 100 up to 10^9. */
const stakeArb = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 10_000_000 }).map((n) => n * 100));

/** A finishing order: a permutation of the live riders, some dropped (falls), cut into dead-heat groups. */
function resultArb(riders: readonly number[]): fc.Arbitrary<RaceResult> {
  const official = fc
    .record({
      order: fc.shuffledSubarray([...riders], { minLength: riders.length, maxLength: riders.length }),
      finishers: fc.integer({ min: 0, max: riders.length }),
      // About one rider in four ties with the one before.
      ties: fc.array(fc.integer({ min: 0, max: 3 }).map((n) => n === 0), { minLength: riders.length, maxLength: riders.length }),
    })
    .map(({ order, finishers, ties }) => {
      const groups: number[][] = [];
      order.slice(0, finishers).forEach((rider, i) => {
        const last = groups[groups.length - 1];
        if (ties[i] === true && last !== undefined) last.push(rider);
        else groups.push([rider]);
      });
      return { status: 'official', order: groups } as RaceResult;
    });
  return fc.oneof({ arbitrary: official, weight: 9 }, { arbitrary: fc.constant({ status: 'void' } as RaceResult), weight: 1 });
}

function poolsArb(field: Field): fc.Arbitrary<PayoutInput['pools']> {
  const entries: Record<string, fc.Arbitrary<Map<number, number> | undefined>> = {};
  for (const betType of betTypesSold(field)) {
    const codes = codesOf(betType, field);
    entries[betType] = fc.option(
      fc.array(fc.tuple(fc.constantFrom(...codes), stakeArb), { maxLength: 40 }).map((pairs) => new Map(pairs)),
      { freq: 4 },
    ).map((m) => m ?? undefined);
  }
  // Bet types without a pool are left out, as a caller would (not present with an undefined value).
  return fc.record(entries).map((r) => Object.fromEntries(Object.entries(r).filter(([, m]) => m !== undefined)) as PayoutInput['pools']);
}

const rateArb: fc.Arbitrary<Rational> = fc.integer({ min: 70, max: 100 }).map((n) => ({ num: BigInt(n), den: 100n }));

const raceArb: fc.Arbitrary<PayoutInput> = fc.constantFrom(...FIELDS).chain((field) => {
  const all = Array.from({ length: field.riders }, (_, i) => i + 1);
  return fc.subarray(all, { maxLength: 3 }).chain((scratched) =>
    fc.record({
      field: fc.constant(field),
      scratched: fc.constant(scratched),
      result: resultArb(all.filter((r) => !scratched.includes(r))),
      pools: poolsArb(field),
      returnRates: fc.dictionary(fc.constantFrom(...betTypesSold(field)), rateArb, { maxKeys: 3 }) as fc.Arbitrary<Partial<Record<BetType, Rational>>>,
    }),
  );
});

const rateOf = (input: PayoutInput, betType: BetType): Rational => input.returnRates?.[betType] ?? SPORT_SPECS[input.field.sport].returnRate;

/** Live pool figures of a bet type: S, and the stake on each code, after refunds. */
function livePool(input: PayoutInput, betType: BetType): { totalYen: bigint; stake: (code: number) => bigint } {
  const pool = input.pools[betType] ?? new Map<number, number>();
  let totalYen = 0n;
  for (const [code, yen] of pool) if (!isRefundedCombination(betType, code, input.field, input.scratched)) totalYen += BigInt(yen);
  return { totalYen, stake: (code) => BigInt(pool.get(code) ?? 0) };
}

const paidEntries = (input: PayoutInput) =>
  Object.entries(computePayoutTable(input).byType).filter((e): e is [BetType, Extract<BetTypePayout, { kind: 'paid' }>] => e[1].kind === 'paid');

describe('payout properties', () => {
  it('total paid never exceeds S x R unless the 100 floor applied; truncation loses under 1 yen per 10-yen unit per winner', () => {
    // Per staked winner c, with T_c = (W_c P + D) R / P exact: if per100 > 100 (no floor) then
    // 0 <= T_c - W_c per100 / 100 < W_c / 10, i.e. each 10-yen ticket unit lost less than 1 yen.
    // Summing T_c over winners gives S x R, so a table without floored winners pays at most S x R.
    fc.assert(
      fc.property(raceArb, (input) => {
        for (const [betType, p] of paidEntries(input)) {
          const { num, den } = rateOf(input, betType);
          const { totalYen, stake } = livePool(input, betType);
          const P = BigInt(p.winners.size);
          let W = 0n;
          for (const code of p.winners.keys()) W += stake(code);
          const D = totalYen - W;
          let paidTimes100 = 0n;
          let floored = false;
          for (const [code, per100] of p.winners) {
            const w = stake(code);
            paidTimes100 += w * BigInt(per100);
            // Scaled by 100 P den: T_c -> 100 (w P + D) num, paid -> w per100 P den, W_c/10 -> 10 w P den.
            const lossScaled = 100n * (w * P + D) * num - w * BigInt(per100) * P * den;
            if (per100 === 100 && lossScaled < 0n) floored = true;
            else expect(lossScaled >= 0n && lossScaled < 10n * w * P * den).toBe(true);
          }
          if (!floored) expect(paidTimes100 * den <= 100n * totalYen * num).toBe(true);
        }
      }),
      params,
    );
  });

  it('a winner is never paid below 100 and per100 is a multiple of 10', () => {
    fc.assert(
      fc.property(raceArb, (input) => {
        for (const [, p] of paidEntries(input)) for (const per100 of p.winners.values()) expect(per100 >= 100 && per100 % 10 === 0).toBe(true);
      }),
      params,
    );
  });

  it('the kind of each bet type follows from void, finishers, S and staked winners, computed independently', () => {
    fc.assert(
      fc.property(raceArb, (input) => {
        const table = computePayoutTable(input);
        const finishers = input.result.status === 'official' ? input.result.order.flat().length : -1;
        for (const betType of betTypesSold(input.field)) {
          const p = table.byType[betType] as BetTypePayout;
          const { totalYen, stake } = livePool(input, betType);
          let expected: BetTypePayout['kind'];
          if (finishers < placingsNeeded(betType, input.field.riders)) expected = 'refunded';
          else if (totalYen === 0n) expected = 'no_sales';
          else expected = winningCombinations(betType, input.field, input.result).some((c) => stake(c) > 0n) ? 'paid' : 'special';
          expect(p.kind).toBe(expected);
          if (p.kind === 'special') expect(p.per100).toBe(Number(10n * ((10n * rateOf(input, betType).num) / rateOf(input, betType).den)));
        }
      }),
      params,
    );
  });

  it('refunded money leaves S and refunded combinations never win', () => {
    fc.assert(
      fc.property(raceArb, fc.integer({ min: 1, max: 1_000_000 }), (input, extraYen) => {
        const table = computePayoutTable(input);
        const pools: Partial<Record<BetType, Map<number, number>>> = {};
        for (const betType of betTypesSold(input.field)) {
          const p = table.byType[betType] as BetTypePayout;
          if (p.kind === 'refunded') continue;
          for (const code of p.refunded) expect(p.winning.includes(code)).toBe(false);
          // Pile more money onto every refunded combination: nothing may change.
          const pool = new Map(input.pools[betType] ?? []);
          for (const code of p.refunded) pool.set(code, (pool.get(code) ?? 0) + extraYen);
          pools[betType] = pool;
        }
        expect(payoutTableToJson(computePayoutTable({ ...input, pools }))).toBe(payoutTableToJson(table));
      }),
      params,
    );
  });

  it('is invariant under reordering pool entries and riders inside a dead-heat group', () => {
    fc.assert(
      fc.property(raceArb, fc.integer(), (input, salt) => {
        const rotate = <T>(items: readonly T[]): T[] => {
          const k = items.length === 0 ? 0 : Math.abs(salt) % items.length;
          return [...items.slice(k), ...items.slice(0, k)].reverse();
        };
        const pools: Partial<Record<BetType, Map<number, number>>> = {};
        for (const [betType, pool] of Object.entries(input.pools) as [BetType, ReadonlyMap<number, number>][]) pools[betType] = new Map(rotate([...pool]));
        const result: RaceResult = input.result.status === 'official' ? { status: 'official', order: input.result.order.map(rotate) } : input.result;
        expect(payoutTableToJson(computePayoutTable({ ...input, pools, result }))).toBe(payoutTableToJson(computePayoutTable(input)));
      }),
      params,
    );
  });

  it("adding stake to a losing combination never lowers a winner's payout", () => {
    fc.assert(
      fc.property(raceArb, fc.nat(), stakeArb, (input, pick, extraYen) => {
        for (const [betType, before] of paidEntries(input)) {
          const losers = codesOf(betType, input.field).filter((c) => !before.winning.includes(c) && !before.refunded.has(c));
          if (losers.length === 0) continue;
          const loser = losers[pick % losers.length] as number;
          const pool = new Map(input.pools[betType] ?? []);
          pool.set(loser, (pool.get(loser) ?? 0) + extraYen);
          const after = computePayoutTable({ ...input, pools: { ...input.pools, [betType]: pool } }).byType[betType];
          expect(after?.kind).toBe('paid');
          if (after?.kind !== 'paid') continue;
          for (const [code, per100] of before.winners) expect((after.winners.get(code) ?? 0) >= per100).toBe(true);
        }
      }),
      params,
    );
  });

  it('winning combinations equal a naive enumeration of every linear order (when there are few)', () => {
    const permutations = (xs: readonly number[]): number[][] =>
      xs.length <= 1 ? [[...xs]] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
    fc.assert(
      fc.property(raceArb, (input) => {
        if (input.result.status !== 'official') return;
        let orders: number[][] = [[]];
        for (const g of input.result.order) orders = orders.flatMap((o) => permutations(g).map((p) => [...o, ...p]));
        fc.pre(orders.length <= 2000);
        for (const betType of betTypesSold(input.field)) {
          const k = placingsNeeded(betType, input.field.riders);
          const spec = BET_TYPE_SPECS[betType];
          const expected = new Set<number>();
          for (const o of orders) {
            if (o.length < k) continue;
            const top = o.slice(0, k);
            const sets = betType === 'place' ? top.map((r) => [r]) : betType === 'wide' ? top.flatMap((a, i) => top.slice(i + 1).map((b) => [a, b])) : [top];
            for (const s of sets) {
              const numbers = spec.brackets ? s.map((r) => bracketOf(input.field.riders, r)) : s;
              expected.add(encodeCombination(spec.ordered ? numbers : [...numbers].sort((a, b) => a - b)));
            }
          }
          expect(winningCombinations(betType, input.field, input.result)).toEqual([...expected].sort((a, b) => a - b));
        }
      }),
      params,
    );
  });

  it('payout tables round-trip through their stored JSON', () => {
    fc.assert(
      fc.property(raceArb, (input) => {
        const text = payoutTableToJson(computePayoutTable(input));
        const back = payoutTableFromJson(text);
        expect(back.ok && payoutTableToJson(back.value)).toBe(text);
      }),
      params,
    );
  });
});

describe('combination properties', () => {
  it('every enumerated combination formats, parses back and encodes/decodes to itself', () => {
    for (const field of FIELDS) {
      for (const betType of betTypesSold(field)) {
        for (const numbers of enumerateCombinations(betType, field)) {
          const parsed = parseCombination(betType, formatCombination(betType, numbers), field);
          expect(parsed.ok && parsed.value).toEqual(numbers);
          expect(decodeCombination(encodeCombination(numbers), numbers.length)).toEqual(numbers);
        }
      }
    }
  });

  it('any text that parses formats back to the same text, and parses only if enumerated', () => {
    const textArb = fc.array(fc.constantFrom('1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=', ' '), { maxLength: 6 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(fc.constantFrom(...FIELDS), fc.constantFrom(...BET_TYPES), textArb, (field, betType, text) => {
        const parsed = parseCombination(betType, text, field);
        const sold = betTypesSold(field).includes(betType);
        if (!parsed.ok) {
          expect(parsed.error.code).toBe(sold ? 'BET.COMBINATION_INVALID' : 'BET.TYPE_NOT_SOLD');
          return;
        }
        expect(sold).toBe(true);
        expect(formatCombination(betType, parsed.value)).toBe(text);
        expect(codesOf(betType, field)).toContain(encodeCombination(parsed.value));
      }),
      { ...params, numRuns: 2000 },
    );
  });
});
