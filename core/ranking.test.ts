// Proves the day ranking orders users by cash, then medals, then userId with competition ranks
// ("1224") and sums a user's races, and, by a fast-check property (seeded, printing its seed on
// failure), that the ranking is the same for any order of its inputs and its top-N cut is a prefix.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rankSettlements, rankUsers, type RankingInput } from './ranking.ts';
import type { Settlement } from './settlement-record.ts';

describe('rankUsers', () => {
  it('ranks by cash, then medals, with shared ranks for equal totals listed by userId', () => {
    const inputs: RankingInput[] = [
      { userId: 'c', cash: 500, medals: 0 },
      { userId: 'a', cash: 500, medals: 0 },
      { userId: 'b', cash: 500, medals: 10 },
      { userId: 'd', cash: 0, medals: 900 },
      { userId: 'e', cash: 1000, medals: 0 },
    ];
    expect(rankUsers(inputs, 10).map((e) => [e.rank, e.userId])).toEqual([
      [1, 'e'],
      [2, 'b'],
      [3, 'a'],
      [3, 'c'],
      [5, 'd'],
    ]);
    expect(rankUsers(inputs, 4).map((e) => e.userId)).toEqual(['e', 'b', 'a', 'c']);
  });

  it('sums several races of one user and ranks settlements by their credits', () => {
    const s = (raceId: string, userId: string, cashDelta: number, medalDelta: number): Settlement => ({
      settlementId: `stl:${raceId}:${userId}:v1`, raceId, userId, resultVersion: 1, outcomes: [], ledger: [], cashDelta, medalDelta, hits: 0,
    });
    const ranking = rankSettlements([s('r1', 'x', 300, 0), s('r1', 'y', 500, 0), s('r2', 'x', 300, 5)], 10);
    expect(ranking).toEqual([
      { rank: 1, userId: 'x', cash: 600, medals: 5 },
      { rank: 2, userId: 'y', cash: 500, medals: 0 },
    ]);
    expect(() => rankUsers([], -1)).toThrow(/ranking top/);
  });

  it('is the same for any input order, and a smaller top is a prefix (property)', () => {
    const input = fc.record({ userId: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5', 'u6'), cash: fc.integer({ min: 0, max: 3 }).map((n) => n * 100), medals: fc.integer({ min: 0, max: 2 }) });
    fc.assert(
      fc.property(fc.array(input, { maxLength: 20 }), fc.integer({ min: 0, max: 6 }), fc.integer(), (inputs, top, seed) => {
        const shuffled = fc.sample(fc.shuffledSubarray(inputs, { minLength: inputs.length, maxLength: inputs.length }), { seed, numRuns: 1 })[0] ?? [];
        const full = rankUsers(inputs, 6);
        expect(rankUsers(shuffled, 6)).toEqual(full);
        expect(rankUsers(inputs, top)).toEqual(full.slice(0, top));
        for (let i = 1; i < full.length; i++) {
          const [p, e] = [full[i - 1], full[i]];
          if (p === undefined || e === undefined) continue;
          const tied = p.cash === e.cash && p.medals === e.medals;
          expect(e.rank).toBe(tied ? p.rank : i + 1);
        }
      }),
    );
  });
});
