// Proves the stored form of payout tables is canonical (sorted keys, combinations as text) and
// that its reader rejects corrupt tables with a code and path, by writing the contract example's
// table, reading it back, and tampering with the text one defect at a time.
import { describe, expect, it } from 'vitest';
import { canonicalJson, payoutContractOutput, payoutTableFromJson, payoutTableToJson } from './payout-json.ts';
import { computePayoutTable } from './payout.ts';

const table = computePayoutTable({
  field: { sport: 'keirin', riders: 7 },
  scratched: [7],
  result: { status: 'official', order: [[3], [1, 5], [2]] },
  pools: { trifecta: new Map([[315, 12000], [351, 8000], [135, 50000], [246, 27000]]), wide: new Map([[24, 5000]]) },
});

describe('payoutTableToJson / payoutTableFromJson', () => {
  it('writes sorted keys and combination text, and reads back to the same bytes', () => {
    const text = payoutTableToJson(table);
    const stored = JSON.parse(text) as { byType: Record<string, Record<string, unknown>>; riders: number };
    expect(Object.keys(stored)).toEqual(['byType', 'riders', 'sport']);
    expect(Object.keys(stored.byType)).toEqual(['bracket_quinella', 'exacta', 'quinella', 'trifecta', 'trio', 'wide']);
    expect(stored.byType['trifecta']?.['winners']).toEqual({ '3-1-5': 310, '3-5-1': 430 });
    expect(stored.byType['wide']).toEqual({ kind: 'special', per100: 70, winning: ['1=3', '1=5', '3=5'], refunded: ['1=7', '2=7', '3=7', '4=7', '5=7', '6=7'] });
    // Rider 7 was bracket 6's second rider in a 7-rider field: 6=6 is refunded, 1=6 is not.
    expect(stored.byType['bracket_quinella']?.['refunded']).toEqual(['6=6']);
    const back = payoutTableFromJson(text);
    expect(back.ok && payoutTableToJson(back.value)).toBe(text);
  });

  it.each([
    ['{', undefined],
    ['[]', undefined],
    ['{"sport":"keirin","riders":5,"byType":{}}', 'riders'],
    ['{"sport":"keirin","riders":7,"byType":{"place":{"kind":"refunded"}}}', 'byType.place'],
    ['{"sport":"keirin","riders":7,"byType":{"exacta":{"kind":"won"}}}', 'byType.exacta.winning'],
    ['{"sport":"keirin","riders":7,"byType":{"exacta":{"kind":"won","winning":[],"refunded":[]}}}', 'byType.exacta.kind'],
    ['{"sport":"keirin","riders":7,"byType":{"exacta":{"kind":"special","per100":75,"winning":["1-2"],"refunded":[]}}}', 'byType.exacta.per100'],
    ['{"sport":"keirin","riders":7,"byType":{"exacta":{"kind":"paid","winners":{"2-1":150},"winning":["1-2"],"refunded":[]}}}', 'byType.exacta.winners."2-1"'],
    ['{"sport":"keirin","riders":7,"byType":{"exacta":{"kind":"paid","winners":{"1-2":90},"winning":["1-2"],"refunded":[]}}}', 'byType.exacta.winners."1-2"'],
    ['{"sport":"keirin","riders":7,"byType":{"exacta":{"kind":"paid","winners":{},"winning":["1-2"],"refunded":[]}}}', 'byType.exacta.winners'],
    ['{"sport":"keirin","riders":7,"byType":{"exacta":{"kind":"no_sales","winning":["1-2"],"refunded":["1-2"]}}}', 'byType.exacta.refunded'],
    ['{"sport":"keirin","riders":7,"byType":{"exacta":{"kind":"no_sales","winning":["1=2"],"refunded":[]}}}', 'byType.exacta.winning[0]'],
  ])('rejects %s at path %s', (text, path) => {
    const r = payoutTableFromJson(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.path).toBe(path);
  });
});

describe('payoutContractOutput', () => {
  it('prints only the bet types of the input, with the documented shape per kind', () => {
    // trifecta: S = 97,000, W = 12,000 and 8,000, D = 77,000, P = 2, R = 0.75 (keirin default):
    // 3-5-1 -> (8,000 + 38,500) x 0.75 = 34,875; 10 x 34,875 / 8,000 = 43.59 -> 430 (and 3-1-5 -> 310).
    const out = payoutContractOutput(table, ['wide', 'trifecta', 'exacta', 'trio']);
    expect(canonicalJson(out)).toBe(
      '{"exacta":{"kind":"no_sales"},"trifecta":{"kind":"paid","winners":{"3-1-5":310,"3-5-1":430}},"trio":{"kind":"no_sales"},"wide":{"kind":"special","per100":70}}',
    );
    const voided = computePayoutTable({ field: { sport: 'pist6', riders: 6 }, scratched: [], result: { status: 'void' }, pools: {} });
    expect(payoutContractOutput(voided, ['win'])).toEqual({ win: { kind: 'refunded' } });
  });

  it('canonicalJson sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: { z: null, y: 'x' } })).toBe('{"a":{"y":"x","z":null},"b":[{"c":2,"d":1}]}');
  });
});
