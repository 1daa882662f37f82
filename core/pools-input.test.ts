// Proves that every invalid `raceday payout` input is rejected with its stable error code and the
// exact field path, by feeding one defect at a time into an otherwise valid line and comparing
// the returned error (code and path) with the expected pair; the valid line itself must pass.
import { describe, expect, it } from 'vitest';
import { parsePayoutRequest, POOL_TOTAL_YEN_MAX } from './pools-input.ts';
import { parseRaceResult, validateScratched } from './results.ts';

const valid = {
  sport: 'autorace',
  riders: 8,
  scratched: [7],
  result: { status: 'official', order: [[3], [1, 5], [2]] },
  pools: { trifecta: { '3-1-5': 100 }, place: { '3': 25 } },
  returnRate: { place: '0.80' },
};

function errorOf(patch: Record<string, unknown>): { code: string; path: string | undefined } {
  const r = parsePayoutRequest({ ...valid, ...patch });
  if (r.ok) throw new Error(`accepted ${JSON.stringify(patch)}`);
  return { code: r.error.code, path: r.error.path };
}

describe('parsePayoutRequest', () => {
  it('accepts the valid line and reports the bet types of its pools', () => {
    const r = parsePayoutRequest(valid);
    expect(r.ok && r.value.betTypesInInput).toEqual(['trifecta', 'place']);
    expect(r.ok && r.value.pools.trifecta?.get(315)).toBe(100);
    expect(r.ok && r.value.returnRates?.place).toEqual({ num: 80n, den: 100n });
  });

  it('a void result may carry an empty order (no order) and parses to the same void as no order at all', () => {
    const withEmpty = parsePayoutRequest({ sport: 'keirin', riders: 9, result: { status: 'void', order: [] }, pools: { trifecta: { '1-2-3': 100 } } });
    const without = parsePayoutRequest({ sport: 'keirin', riders: 9, result: { status: 'void' }, pools: { trifecta: { '1-2-3': 100 } } });
    expect(withEmpty.ok).toBe(true);
    expect(withEmpty.ok && withEmpty.value.result).toEqual({ status: 'void' });
    expect(withEmpty).toEqual(without);
  });

  it('scratched and returnRate are optional; pools may be empty', () => {
    const r = parsePayoutRequest({ sport: 'pist6', riders: 6, result: { status: 'void' }, pools: {} });
    expect(r.ok && r.value.scratched).toEqual([]);
    expect(r.ok && r.value.betTypesInInput).toEqual([]);
  });

  it.each([
    [{ extra: 1 }, 'INPUT.INVALID', 'extra'],
    [{ sport: 'horse' }, 'RACE.SPORT_UNKNOWN', 'sport'],
    [{ riders: 9 }, 'RACE.RIDERS_INVALID', 'riders'],
    [{ riders: '8' }, 'RACE.RIDERS_INVALID', 'riders'],
    [{ scratched: 7 }, 'RACE.SCRATCH_INVALID', 'scratched'],
    [{ scratched: [7, 9] }, 'RACE.SCRATCH_INVALID', 'scratched[1]'],
    [{ scratched: [7, 7] }, 'RACE.SCRATCH_INVALID', 'scratched[1]'],
    [{ scratched: [1.5] }, 'RACE.SCRATCH_INVALID', 'scratched[0]'],
    [{ result: undefined }, 'RESULT.STATUS_INVALID', 'result'],
    [{ result: [[1]] }, 'RESULT.STATUS_INVALID', 'result'],
    [{ result: { status: 'final', order: [] } }, 'RESULT.STATUS_INVALID', 'result.status'],
    [{ result: { status: 'official', order: [[1]], photo: true } }, 'INPUT.INVALID', 'result.photo'],
    [{ result: { status: 'official' } }, 'RESULT.ORDER_INVALID', 'result.order'],
    [{ result: { status: 'official', order: [[3], []] } }, 'RESULT.ORDER_INVALID', 'result.order[1]'],
    [{ result: { status: 'official', order: [[3], 1] } }, 'RESULT.ORDER_INVALID', 'result.order[1]'],
    [{ result: { status: 'official', order: [[3], [3]] } }, 'RESULT.ORDER_INVALID', 'result.order[1][0]'],
    [{ result: { status: 'official', order: [[3], [1, 9]] } }, 'RESULT.ORDER_INVALID', 'result.order[1][1]'],
    [{ result: { status: 'official', order: [[3], [7]] } }, 'RESULT.ORDER_INVALID', 'result.order[1][0]'],
    [{ result: { status: 'void', order: [[3]] } }, 'RESULT.ORDER_INVALID', 'result.order'],
    [{ result: { status: 'void', order: {} } }, 'RESULT.ORDER_INVALID', 'result.order'],
    [{ pools: undefined }, 'POOL.INVALID', 'pools'],
    [{ pools: [] }, 'POOL.INVALID', 'pools'],
    [{ pools: { trifecta: [] } }, 'POOL.INVALID', 'pools.trifecta'],
    [{ pools: { exacta: { '3-1': -100 } } }, 'POOL.INVALID', 'pools.exacta."3-1"'],
    [{ pools: { exacta: { '3-1': 10.5 } } }, 'POOL.INVALID', 'pools.exacta."3-1"'],
    [{ pools: { exacta: { '3-1': '100' } } }, 'POOL.INVALID', 'pools.exacta."3-1"'],
    [{ pools: { exacta: { '3-1': POOL_TOTAL_YEN_MAX, '1-3': 1 } } }, 'POOL.INVALID', 'pools.exacta."1-3"'],
    [{ pools: { trifecta: { '3=1=5': 100 } } }, 'BET.COMBINATION_INVALID', 'pools.trifecta."3=1=5"'],
    [{ pools: { trifecta: { '3-1-9': 100 } } }, 'BET.COMBINATION_INVALID', 'pools.trifecta."3-1-9"'],
    [{ pools: { quinella: { '3=1': 100 } } }, 'BET.COMBINATION_INVALID', 'pools.quinella."3=1"'],
    [{ pools: { place: { '3-1': 100 } } }, 'BET.COMBINATION_INVALID', 'pools.place."3-1"'],
    [{ pools: { bracket_quinella: { '4=4': 100 } } }, 'BET.TYPE_NOT_SOLD', 'pools.bracket_quinella'],
    [{ pools: { show: {} } }, 'BET.TYPE_UNKNOWN', 'pools.show'],
    [{ returnRate: '0.75' }, 'RATE.INVALID', 'returnRate'],
    [{ returnRate: { place: '80%' } }, 'RATE.INVALID', 'returnRate.place'],
    [{ returnRate: { place: '1.5' } }, 'RATE.INVALID', 'returnRate.place'],
    [{ returnRate: { place: 0.8 } }, 'RATE.INVALID', 'returnRate.place'],
    [{ returnRate: { quinella_place: '0.8' } }, 'BET.TYPE_UNKNOWN', 'returnRate.quinella_place'],
  ])('rejects %j with %s at %s', (patch, code, path) => {
    expect(errorOf(patch)).toEqual({ code, path });
  });

  it('rejects a bet type that exists but is not sold in the field (bracket_exacta with 7 keirin riders, place in keirin)', () => {
    const keirin7 = { sport: 'keirin', riders: 7, result: { status: 'void' } };
    const be = parsePayoutRequest({ ...keirin7, pools: { bracket_exacta: { '1-2': 100 } } });
    expect(!be.ok && [be.error.code, be.error.path]).toEqual(['BET.TYPE_NOT_SOLD', 'pools.bracket_exacta']);
    const place = parsePayoutRequest({ ...keirin7, pools: {}, returnRate: { place: '0.8' } });
    expect(!place.ok && [place.error.code, place.error.path]).toEqual(['BET.TYPE_NOT_SOLD', 'returnRate.place']);
  });

  it('rejects 4=4 where bracket 4 holds one rider, and accepts it where it holds two', () => {
    const r7 = parsePayoutRequest({ sport: 'keirin', riders: 7, result: { status: 'void' }, pools: { bracket_quinella: { '4=4': 100 } } });
    expect(!r7.ok && [r7.error.code, r7.error.path]).toEqual(['BET.COMBINATION_INVALID', 'pools.bracket_quinella."4=4"']);
    const r9 = parsePayoutRequest({ sport: 'keirin', riders: 9, result: { status: 'void' }, pools: { bracket_quinella: { '4=4': 100 } } });
    expect(r9.ok).toBe(true);
  });

  it('rejects a non-object line without a path', () => {
    const r = parsePayoutRequest([valid]);
    expect(!r.ok && [r.error.code, r.error.path]).toEqual(['INPUT.INVALID', undefined]);
  });
});

describe('results validators on their own', () => {
  const field = { sport: 'keirin' as const, riders: 9 };

  it('sort scratched riders and take a custom path', () => {
    expect(validateScratched([9, 2], field)).toEqual({ ok: true, value: [2, 9] });
    const r = validateScratched([0], field, 'race.scratched');
    expect(!r.ok && r.error.path).toBe('race.scratched[0]');
  });

  it('accept an official order with no finishers and name a bad rider by its path', () => {
    expect(parseRaceResult({ status: 'official', order: [] }, field, [])).toEqual({ ok: true, value: { status: 'official', order: [] } });
    const r = parseRaceResult({ status: 'official', order: [[1], [2, 2]] }, field, []);
    expect(!r.ok && [r.error.code, r.error.path, r.error.message]).toEqual(['RESULT.ORDER_INVALID', 'result.order[1][1]', 'rider 2 finishes twice']);
  });
});
