// Proves live odds are the payout rules applied to the pools as they stand: on random races
// (every sport's field, scratches, pools of tiny and large stakes, overridden return rates) each
// staked combination's odds equal what computePayoutTable pays it in a finish where it wins
// (for wide and place: the least and the most over every finish where it wins, each reached);
// odds are rounded down to 0.1 and never below 1.0, fall when money joins the combination and
// rise when it joins the others. Each run prints its seed; FC_SEED=<seed> replays it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCombination, encodeCombination, enumerateCombinations } from './combination.ts';
import { computeOdds, formatOdds, formatOddsRange, oddsToWire, type OddsInput } from './odds.ts';
import { computePayoutTable, isRefundedCombination } from './payout.ts';
import type { Rational } from './rational.ts';
import { BET_TYPE_SPECS, SPORT_SPECS, betTypesSold, bracketRiders, placingsNeeded, type BetType, type Field } from './sports.ts';

const seed = Number(process.env['FC_SEED'] ?? Date.now() % 2 ** 31);
console.info(`odds properties: fast-check seed ${seed} (replay with FC_SEED=${seed})`);
const params = { seed, numRuns: 120 };

const FIELDS: readonly Field[] = [
  { sport: 'keirin', riders: 9 },
  { sport: 'keirin', riders: 7 },
  { sport: 'pist6', riders: 6 },
  { sport: 'autorace', riders: 8 },
];

const stakeArb = fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 10_000_000 }).map((n) => n * 100));
const rateArb: fc.Arbitrary<Rational> = fc.integer({ min: 70, max: 100 }).map((n) => ({ num: BigInt(n), den: 100n }));

function poolsArb(field: Field): fc.Arbitrary<OddsInput['pools']> {
  const entries: Record<string, fc.Arbitrary<Map<number, number>>> = {};
  for (const betType of betTypesSold(field)) {
    const codes = enumerateCombinations(betType, field).map(encodeCombination);
    entries[betType] = fc.array(fc.tuple(fc.constantFrom(...codes), stakeArb), { maxLength: 12 }).map((pairs) => new Map(pairs));
  }
  return fc.record(entries) as fc.Arbitrary<OddsInput['pools']>;
}

const raceArb: fc.Arbitrary<Required<OddsInput>> = fc.constantFrom(...FIELDS).chain((field) => {
  const all = Array.from({ length: field.riders }, (_, i) => i + 1);
  return fc.record({
    field: fc.constant(field),
    scratched: fc.subarray(all, { maxLength: 2 }),
    pools: poolsArb(field),
    returnRates: fc.dictionary(fc.constantFrom(...betTypesSold(field)), rateArb, { maxKeys: 3 }) as fc.Arbitrary<Partial<Record<BetType, Rational>>>,
  });
});

/**
 * Every finishing prefix in which the combination wins, as the riders placed first (the rest of
 * the live riders follow). Single-winner types: one prefix (the payout does not depend on the
 * rest). wide a=b: a, b and each third rider. place a: a and each choice of the other placed riders.
 */
function winningPrefixes(betType: BetType, code: number, field: Field, live: readonly number[]): number[][] {
  const mine = decodeCombination(code, BET_TYPE_SPECS[betType].size);
  if (BET_TYPE_SPECS[betType].brackets) {
    const used: number[] = [];
    for (const bracket of mine) used.push(bracketRiders(field.riders)[bracket - 1]?.find((r) => live.includes(r) && !used.includes(r)) as number);
    return [used];
  }
  const others = live.filter((r) => !mine.includes(r));
  if (betType === 'wide') return others.map((x) => [...mine, x]);
  if (betType === 'place') {
    const k = placingsNeeded(betType, field.riders) - 1;
    const out: number[][] = [];
    const pick = (from: number, chosen: number[]): void => {
      if (chosen.length === k) out.push([...mine, ...chosen]);
      else for (let i = from; i < others.length; i++) pick(i + 1, [...chosen, others[i] as number]);
    };
    pick(0, []);
    return out;
  }
  return [mine];
}

const liveRiders = (input: OddsInput): number[] => Array.from({ length: input.field.riders }, (_, i) => i + 1).filter((r) => !(input.scratched ?? []).includes(r));

describe('odds properties', () => {
  it('each staked combination\'s odds are what the payout rules pay it in a finish where it wins (ranges: min and max reached)', () => {
    fc.assert(
      fc.property(raceArb, (input) => {
        const live = liveRiders(input);
        for (const [betType, odds] of Object.entries(computeOdds(input)) as [BetType, NonNullable<ReturnType<typeof computeOdds>[BetType]>][]) {
          for (const c of odds.combinations) {
            const paid: number[] = [];
            for (const prefix of winningPrefixes(betType, c.code, input.field, live)) {
              const order = [...prefix, ...live.filter((r) => !prefix.includes(r))].map((r) => [r]);
              const table = computePayoutTable({ ...input, result: { status: 'official', order } });
              const t = table.byType[betType];
              expect(t?.kind).toBe('paid');
              if (t?.kind === 'paid') paid.push(t.winners.get(c.code) as number);
            }
            expect([c.per100Min, c.per100Max]).toEqual([Math.min(...paid), Math.max(...paid)]);
          }
        }
      }),
      params,
    );
  });

  it('lists exactly the live staked combinations, with S as the live pool; odds are multiples of 0.1, at least 1.0, and within 0.1 below S x R / W', () => {
    fc.assert(
      fc.property(raceArb, (input) => {
        const odds = computeOdds(input);
        for (const betType of betTypesSold(input.field)) {
          const pool = input.pools[betType] ?? new Map<number, number>();
          const live = [...pool].filter(([code, yen]) => yen > 0 && !isRefundedCombination(betType, code, input.field, input.scratched)).sort((a, b) => a[0] - b[0]);
          const S = live.reduce((s, [, yen]) => s + yen, 0);
          const t = odds[betType];
          if (S === 0) {
            expect(t).toBeUndefined();
            continue;
          }
          expect(t?.poolYen).toBe(S);
          if (betType !== 'wide' && betType !== 'place') expect(t?.combinations.map((c) => [c.code, c.stakeYen])).toEqual(live);
          const { num, den } = input.returnRates[betType] ?? SPORT_SPECS[input.field.sport].returnRate;
          for (const c of t?.combinations ?? []) {
            expect(c.per100Min % 10 === 0 && c.per100Min >= 100 && c.per100Max >= c.per100Min).toBe(true);
            if (betType === 'wide' || betType === 'place') continue;
            // Exact: 100 S R / W = 100 S num / (W den); per100 is its round-down to 10, unless the 1.0 floor lifted it.
            const exactTimesWden = 100n * BigInt(S) * num;
            const w = BigInt(c.stakeYen) * den;
            if (c.per100Min > 100) expect(BigInt(c.per100Min) * w <= exactTimesWden && exactTimesWden < BigInt(c.per100Min + 10) * w).toBe(true);
            else expect(exactTimesWden < 110n * w).toBe(true);
          }
        }
      }),
      params,
    );
  });

  it('money joining a combination never raises its odds; money joining another combination never lowers them', () => {
    const singleWinner = (t: BetType) => t !== 'wide' && t !== 'place';
    fc.assert(
      fc.property(raceArb, fc.nat(), fc.nat(), stakeArb, (input, pickType, pickCode, extraYen) => {
        const types = betTypesSold(input.field).filter(singleWinner);
        const betType = types[pickType % types.length] as BetType;
        const before = computeOdds(input)[betType];
        if (before === undefined || before.combinations.length === 0) return;
        const target = before.combinations[pickCode % before.combinations.length] as { code: number; per100Min: number };
        const pool = new Map(input.pools[betType]);
        const others = [...pool.keys()].filter((k) => k !== target.code);
        pool.set(target.code, (pool.get(target.code) ?? 0) + extraYen);
        const more = computeOdds({ ...input, pools: { ...input.pools, [betType]: pool } })[betType];
        expect((more?.combinations.find((c) => c.code === target.code)?.per100Min as number) <= target.per100Min).toBe(true);
        if (others.length === 0) return;
        const otherPool = new Map(input.pools[betType]);
        const other = others[pickCode % others.length] as number;
        otherPool.set(other, (otherPool.get(other) ?? 0) + extraYen);
        const less = computeOdds({ ...input, pools: { ...input.pools, [betType]: otherPool } })[betType];
        const after = less?.combinations.find((c) => c.code === target.code)?.per100Min;
        // The other combination may be refunded (a scratched rider): then nothing changes.
        expect(after !== undefined && after >= target.per100Min).toBe(true);
      }),
      params,
    );
  });
});

describe('odds examples', () => {
  const keirin9: Field = { sport: 'keirin', riders: 9 };

  it('one winner, R = 75%: S = 10,000 and 5,000 on the combination give 1.5; the 1.0 floor holds', () => {
    const pools = { trifecta: new Map([[315, 5_000], [135, 5_000]]), exacta: new Map([[31, 9_900], [13, 100]]) };
    const odds = computeOdds({ field: keirin9, pools });
    expect(odds.trifecta?.combinations.map((c) => [c.code, c.per100Min])).toEqual([[135, 150], [315, 150]]);
    // 3-1: 10,000 x 0.75 / 9,900 = 0.757..., floored to 1.0; 1-3: 10,000 x 0.75 / 100 = 75.0.
    expect(oddsToWire(odds)).toEqual({ exacta: { '1-3': '75.0', '3-1': '1.0' }, trifecta: { '1-3-5': '1.5', '3-1-5': '1.5' } });
  });

  it('wide is a range: 1=2 alone in the pool pays most, with 1=3 and 2=3 staked beside it least', () => {
    // S = 12,000 at R = 75%. Third rider 3: winners 1=2 (2,000), 1=3 (4,000), 2=3 (6,000), P = 3, D = 0,
    // so (2,000 + 0) x 0.75 / 2,000 = 0.75, floored to 1.0. Any other third rider: P = 1,
    // D = 10,000, (2,000 + 10,000) x 0.75 / 2,000 = 4.5.
    const odds = computeOdds({ field: keirin9, pools: { wide: new Map([[12, 2_000], [13, 4_000], [23, 6_000]]) } });
    const c12 = odds.wide?.combinations.find((c) => c.code === 12);
    expect(c12).toEqual({ code: 12, stakeYen: 2_000, per100Min: 100, per100Max: 450 });
    expect(formatOddsRange(c12 as NonNullable<typeof c12>)).toBe('1.0-4.5');
  });

  it('a scratched rider\'s combinations leave the pool and get no odds', () => {
    const odds = computeOdds({ field: keirin9, scratched: [7], pools: { exacta: new Map([[17, 5_000], [12, 1_000], [21, 1_000]]) } });
    expect(odds.exacta).toEqual({ poolYen: 2_000, combinations: [{ code: 12, stakeYen: 1_000, per100Min: 150, per100Max: 150 }, { code: 21, stakeYen: 1_000, per100Min: 150, per100Max: 150 }] });
  });

  it('formats per100 as display odds rounded to 0.1 and refuses what is not a multiple of 10', () => {
    expect([100, 150, 1_530, 12_340].map(formatOdds)).toEqual(['1.0', '1.5', '15.3', '123.4']);
    expect(() => formatOdds(155)).toThrow(/multiple of 10/);
  });
});
