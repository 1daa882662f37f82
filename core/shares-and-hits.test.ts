// One source for the keirin bet-type shares (core/sports.ts) and one rule for counting hits
// (core/settlement.ts), which a store that reads bet types from its own rows uses too.
import { describe, expect, it } from 'vitest';
import { hitsOfType, isHit } from './settlement.ts';
import type { TicketOutcome } from './settlement-record.ts';
import { KEIRIN_SALES_PER_MILLE } from './sports.ts';

const outcome = (ticketId: string, status: TicketOutcome['status'], betType: TicketOutcome['betType']): TicketOutcome => ({ ticketId, status, per100: status === 'lost' ? 0 : 100, payout: 0, currency: 'cash', betType });

describe('keirin bet-type shares', () => {
  it('are the national sales figures, in per mille, summing to 1,001 (rounded percentages)', () => {
    expect(KEIRIN_SALES_PER_MILLE).toEqual({ trifecta: 705, exacta: 182, trio: 60, bracket_exacta: 19, quinella: 17, bracket_quinella: 13, wide: 5 });
    expect(Object.values(KEIRIN_SALES_PER_MILLE).reduce((a, b) => a + (b ?? 0), 0)).toBe(1001);
  });
});

describe('hits', () => {
  const outcomes = [outcome('a', 'won', 'trifecta'), outcome('b', 'special', 'trifecta'), outcome('c', 'refunded', 'trifecta'), outcome('d', 'lost', 'trifecta'), outcome('e', 'won', 'exacta')];

  it('a hit is a win or a special payout; a refund is not', () => {
    expect(outcomes.map(isHit)).toEqual([true, true, false, false, true]);
    expect(hitsOfType({ outcomes }, 'trifecta')).toBe(2);
    expect(hitsOfType({ outcomes }, 'exacta')).toBe(1);
  });

  it('counts by the bet type a store gives (its own rows), not the one the outcome claims', () => {
    const storedTypes = ['exacta', 'trifecta', 'trifecta', 'trifecta', 'trifecta'] as const;
    expect(hitsOfType({ outcomes }, 'trifecta', (i) => storedTypes[i])).toBe(2);
    expect(hitsOfType({ outcomes }, 'exacta', (i) => storedTypes[i])).toBe(1);
  });
});
