// Proves the payout rules on the worked vectors of docs/rules.md, its contract example and hand-checked edge
// cases (dead heats, scratches, brackets, void and undecidable races), by running the same path as
// `raceday payout` (parsePayoutRequest -> computePayoutTable -> payoutContractOutput) and comparing
// with per100 figures worked out by hand in the comments.
import { describe, expect, it } from 'vitest';
import { parseCombination } from './combination.ts';
import { canonicalJson, payoutContractOutput } from './payout-json.ts';
import { computePayoutTable, isRefundedCombination, paidPer100 } from './payout.ts';
import { parsePayoutRequest } from './pools-input.ts';
import type { BetType } from './sports.ts';

/** Runs one contract input line and returns the contract output as a plain object. */
function payout(line: Record<string, unknown>): Record<string, unknown> {
  const request = parsePayoutRequest(line);
  if (!request.ok) throw new Error(`${request.error.path}: ${request.error.message}`);
  return payoutContractOutput(computePayoutTable(request.value), request.value.betTypesInInput);
}

function table(line: Record<string, unknown>) {
  const request = parsePayoutRequest(line);
  if (!request.ok) throw new Error(`${request.error.path}: ${request.error.message}`);
  return computePayoutTable(request.value);
}

const official = (order: number[][]) => ({ status: 'official', order });
const autorace80 = { sport: 'autorace', riders: 8, returnRate: { place: '0.80' } };

describe('worked vectors of docs/rules.md', () => {
  it('1: one winner, R = 75%, S = 10,000, W = 5,000 -> 150', () => {
    // T = (5,000 + 5,000) x 0.75 = 7,500; 10 x 7,500 / 5,000 = 15 -> 150.
    const out = payout({ sport: 'pist6', riders: 6, result: official([[2], [1], [3]]), pools: { win: { '2': 5000, '1': 3000, '4': 2000 } } });
    expect(out).toEqual({ win: { kind: 'paid', winners: { '2': 150 } } });
  });

  it('2: place, R = 80%, stakes 25 / 5 / 10 on the placed riders, 60 on the rest -> 140, 400, 240', () => {
    const out = payout({ ...autorace80, result: official([[1], [2], [3], [4]]), pools: { place: { '1': 25, '2': 5, '3': 10, '4': 40, '5': 20 } } });
    expect(out).toEqual({ place: { kind: 'paid', winners: { '1': 140, '2': 400, '3': 240 } } });
  });

  it('3: place, R = 80%, 100,000 / 80,000 / 20,000 on the placed riders, 800,000 on the rest -> 290, 340, 1,140', () => {
    const pools = { place: { '4': 100_000, '6': 80_000, '2': 20_000, '1': 500_000, '8': 300_000 } };
    const out = payout({ ...autorace80, result: official([[4], [6], [2], [1]]), pools });
    expect(out).toEqual({ place: { kind: 'paid', winners: { '2': 1140, '4': 290, '6': 340 } } });
  });

  it('4: floor, W = 1,771,789,700, D = 304,461,700, P = 3, R = 80% -> raw 80 -> 100', () => {
    // Riders 2 and 3 hold 100,000 and 200,000; the other riders hold D = 304,461,700 between them.
    const pools = { place: { '1': 1_771_789_700, '2': 100_000, '3': 200_000, '4': 300_000_000, '5': 4_461_700 } };
    const out = payout({ ...autorace80, result: official([[1], [2], [3]]), pools }) as { place: { winners: Record<string, number> } };
    expect(out.place.winners['1']).toBe(100);
    // Without the floor the formula gives 80: 10 x floor(10 x (3W + D) x 0.8 / (3W)) = 10 x floor(8.46).
    expect(paidPer100(1_771_789_700n, 304_461_700n, 3n, { num: 80n, den: 100n })).toBe(100);
    expect((10n * ((10n * (3n * 1_771_789_700n + 304_461_700n) * 80n) / (3n * 100n * 1_771_789_700n))).toString()).toBe('80');
  });
});

describe('the raceday payout contract example', () => {
  it('gives exactly the documented output line', () => {
    // S = 97,000 after 7-3-1 (rider 7 scratched) leaves; W = 12,000 and 8,000, D = 77,000, P = 2.
    // 3-1-5: (12,000 + 38,500) x 0.75 = 37,875; 10 x 37,875 / 12,000 = 31.56 -> 310.
    // 3-5-1: (8,000 + 38,500) x 0.75 = 34,875; 10 x 34,875 / 8,000 = 43.59 -> 430.
    // wide: the winning pairs are 1=3, 1=5, 3=5; nobody holds one -> special 10 x floor(7.5) = 70.
    const line = {
      sport: 'keirin',
      riders: 9,
      scratched: [7],
      result: official([[3], [1, 5], [2]]),
      pools: {
        trifecta: { '3-1-5': 12000, '3-5-1': 8000, '1-3-5': 50000, '7-3-1': 3000, '2-4-6': 27000 },
        wide: { '2=4': 5000, '4=6': 1500 },
      },
      returnRate: { trifecta: '0.75' },
    };
    expect(canonicalJson(payout(line))).toBe('{"trifecta":{"kind":"paid","winners":{"3-1-5":310,"3-5-1":430}},"wide":{"kind":"special","per100":70}}');
  });
});

describe('dead heats', () => {
  it('exacta with a dead heat for first pays both orders of the tied pair', () => {
    // S = 1,000, W = 200 and 300, D = 500, P = 2, R = 0.75.
    // 1-2: (200 + 250) x 0.75 = 337.5 -> 10 x floor(16.875) = 160; 2-1: (300 + 250) x 0.75 = 412.5 -> 130.
    const out = payout({ sport: 'keirin', riders: 7, result: official([[1, 2], [3]]), pools: { exacta: { '1-2': 200, '2-1': 300, '1-3': 500 } } });
    expect(out).toEqual({ exacta: { kind: 'paid', winners: { '1-2': 160, '2-1': 130 } } });
  });

  it('a 3-way dead heat for first makes one trio winner and six trifecta winners', () => {
    const t = table({ sport: 'keirin', riders: 9, result: official([[1, 2, 3], [4]]), pools: {} });
    expect(t.byType.trio).toMatchObject({ winning: [123] });
    expect(t.byType.trifecta).toMatchObject({ winning: [123, 132, 213, 231, 312, 321] });
    expect(t.byType.quinella).toMatchObject({ winning: [12, 13, 23] });
    expect(t.byType.wide).toMatchObject({ winning: [12, 13, 23] });
  });

  it('a 3-way dead heat for third in trio makes three winners that share D', () => {
    // S = 900, W = 100, 200, 300, D = 300, P = 3: 1=2=3 gets (100 + 100) x 0.75 = 150 -> 150 per 100.
    const out = payout({
      sport: 'keirin',
      riders: 9,
      result: official([[1], [2], [3, 4, 5]]),
      pools: { trio: { '1=2=3': 100, '1=2=4': 200, '1=2=5': 300, '6=7=8': 300 } },
    });
    // 1=2=4: (200 + 100) x 0.75 = 225 -> 10 x floor(11.25) = 110; 1=2=5: (300 + 100) x 0.75 = 300 -> exactly 100.
    expect(out).toEqual({ trio: { kind: 'paid', winners: { '1=2=3': 150, '1=2=4': 110, '1=2=5': 100 } } });
  });

  it('wide with a dead heat for third pays the pairs of both possible top threes', () => {
    const t = table({ sport: 'autorace', riders: 8, result: official([[1], [2], [3, 4]]), pools: {} });
    expect(t.byType.wide).toMatchObject({ winning: [12, 13, 14, 23, 24] });
    expect(t.byType.place).toMatchObject({ winning: [1, 2, 3, 4] });
  });

  it('a 9-way dead heat enumerates only prefixes (504 trifecta winners)', () => {
    const t = table({ sport: 'keirin', riders: 9, result: official([[1, 2, 3, 4, 5, 6, 7, 8, 9]]), pools: {} });
    const trifecta = t.byType.trifecta;
    expect(trifecta?.kind).toBe('no_sales');
    expect(trifecta && 'winning' in trifecta ? trifecta.winning.length : -1).toBe(9 * 8 * 7);
  });

  it('a staked winner beside an unstaked one does not share D with it', () => {
    // 1-2 and 2-1 both win, only 1-2 is staked: P = 1, S = 1,000, T = 1,000 x 0.75 -> 750 per 100 on 100 staked.
    const out = payout({ sport: 'keirin', riders: 7, result: official([[1, 2]]), pools: { exacta: { '1-2': 100, '3-4': 900 } } });
    expect(out).toEqual({ exacta: { kind: 'paid', winners: { '1-2': 750 } } });
  });
});

describe('brackets', () => {
  it('a bracket bet in a field without brackets is refused as not sold, not a crash', () => {
    const pist6 = parseCombination('bracket_quinella', '1=1', { sport: 'pist6', riders: 6 });
    expect(!pist6.ok && pist6.error.code).toBe('BET.TYPE_NOT_SOLD');
    const sevenKeirin = parseCombination('bracket_exacta', '1-2', { sport: 'keirin', riders: 7 });
    expect(!sevenKeirin.ok && sevenKeirin.error.message).toMatch(/bracket_exacta is not sold in a 7-rider keirin race/);
    expect(parseCombination('bracket_exacta', '1-2', { sport: 'keirin', riders: 9 }).ok).toBe(true);
  });

  it('both riders of a two-rider bracket first and second win 4=4 and 4-4', () => {
    const t = table({ sport: 'keirin', riders: 9, result: official([[4], [5], [1]]), pools: {} });
    expect(t.byType.bracket_quinella).toMatchObject({ winning: [44] });
    expect(t.byType.bracket_exacta).toMatchObject({ winning: [44] });
  });

  it('a scratch refunds a repeated bracket when one of its two riders is out, a single one only when the bracket is empty', () => {
    const nine = { sport: 'keirin' as const, riders: 9 };
    expect(isRefundedCombination('bracket_quinella', 44, nine, [4])).toBe(true);
    expect(isRefundedCombination('bracket_quinella', 45, nine, [4])).toBe(false);
    expect(isRefundedCombination('bracket_exacta', 14, nine, [5])).toBe(false);
    expect(isRefundedCombination('bracket_exacta', 41, nine, [4, 5])).toBe(true);
    const seven = { sport: 'keirin' as const, riders: 7 };
    expect(isRefundedCombination('bracket_quinella', 14, seven, [4])).toBe(true);
    expect(isRefundedCombination('bracket_quinella', 66, seven, [7])).toBe(true);
    expect(isRefundedCombination('bracket_quinella', 16, seven, [7])).toBe(false);
    expect(isRefundedCombination('quinella', 14, seven, [4])).toBe(true);
    expect(isRefundedCombination('quinella', 15, seven, [4])).toBe(false);
  });

  it('refunded bracket stakes leave S, and the bracket that kept a rider still wins', () => {
    // Rider 4 is out: 4=4 (2,000) is refunded; S = 1,000 + 1,000, W(4=5 via rider 5 and 6) = 1,000, P = 1.
    const out = payout({
      sport: 'keirin',
      riders: 9,
      scratched: [4],
      result: official([[5], [6], [1]]),
      pools: { bracket_quinella: { '4=4': 2000, '4=5': 1000, '1=2': 1000 } },
    });
    expect(out).toEqual({ bracket_quinella: { kind: 'paid', winners: { '4=5': 150 } } });
  });
});

describe('refunds, undecidable and empty types', () => {
  it('place pays the top 3 with 8 riders entered and the top 2 with 7, scratches notwithstanding', () => {
    const eight = table({ sport: 'autorace', riders: 8, scratched: [7, 8], result: official([[1], [2], [3]]), pools: {} });
    expect(eight.byType.place).toMatchObject({ winning: [1, 2, 3] });
    const twoFinishers = table({ sport: 'autorace', riders: 8, result: official([[1], [2]]), pools: { place: { '1': 100 } } });
    expect(twoFinishers.byType.place).toEqual({ kind: 'refunded' });
  });

  it('a void race refunds every bet type sold', () => {
    const t = table({ sport: 'keirin', riders: 7, result: { status: 'void' }, pools: { trifecta: { '1-2-3': 100 } } });
    expect(Object.keys(t.byType).sort()).toEqual(['bracket_quinella', 'exacta', 'quinella', 'trifecta', 'trio', 'wide']);
    for (const p of Object.values(t.byType)) expect(p).toEqual({ kind: 'refunded' });
  });

  it('two finishers make trifecta, trio and wide undecidable (refunded) while exacta is decided', () => {
    const out = payout({
      sport: 'keirin',
      riders: 9,
      result: official([[2], [1]]),
      pools: { trifecta: { '2-1-3': 100 }, trio: { '1=2=3': 100 }, wide: { '1=2': 100 }, exacta: { '2-1': 100, '1-2': 100 } },
    });
    expect(out).toEqual({
      exacta: { kind: 'paid', winners: { '2-1': 150 } },
      trifecta: { kind: 'refunded' },
      trio: { kind: 'refunded' },
      wide: { kind: 'refunded' },
    });
  });

  it('a pool whose every stake is refunded has no sales; an absent pool is no_sales too', () => {
    const out = payout({ sport: 'keirin', riders: 7, scratched: [3], result: official([[1], [2], [4]]), pools: { exacta: { '3-1': 500 }, quinella: {} } });
    expect(out).toEqual({ exacta: { kind: 'no_sales' }, quinella: { kind: 'no_sales' } });
  });

  it('special payout follows R: 70 for 0.75 and 0.70, 80 for 0.80, 100 for 1', () => {
    const line = (sport: string, riders: number, rate?: string) => ({
      sport,
      riders,
      result: official([[1], [2], [3]]),
      pools: { exacta: { '3-4': 100 } },
      ...(rate === undefined ? {} : { returnRate: { exacta: rate } }),
    });
    const per100 = (l: Record<string, unknown>) => (payout(l) as Record<BetType, { per100: number }>).exacta.per100;
    expect(per100(line('keirin', 9))).toBe(70);
    expect(per100(line('autorace', 8))).toBe(70);
    expect(per100(line('autorace', 8, '0.80'))).toBe(80);
    expect(per100(line('pist6', 6, '1'))).toBe(100);
  });

  it('every bet type sold gets an entry even without a cash pool', () => {
    const t = table({ sport: 'autorace', riders: 8, result: official([[1], [2], [3]]), pools: {} });
    expect(Object.keys(t.byType).sort()).toEqual(['exacta', 'place', 'quinella', 'trifecta', 'trio', 'wide', 'win']);
    expect(t.byType.win).toMatchObject({ kind: 'no_sales', winning: [1] });
  });
});
