// The race ranking read page by page keeping only the best so far equals the ranking of every
// total at once, across page boundaries and with ties at the cut (cash and medals equal, decided
// by userId; equal totals share their competition rank).
import { describe, expect, it } from 'vitest';
import type { SettlementTotals, Store } from '../core/ports.ts';
import { rankUsers } from '../core/ranking.ts';
import type { HandlerDeps } from './context.ts';
import { rankRace } from './ranking.ts';

function totalsOf(users: number): SettlementTotals[] {
  const out: SettlementTotals[] = [];
  for (let i = 0; i < users; i++) {
    // Few distinct amounts, so ties are everywhere, including among the best.
    const cash = (i * 7919) % 13 === 0 ? 50_000 : ((i * 104_729) % 97) * 100;
    out.push({ userId: `u${String(i).padStart(6, '0')}`, settlementId: `s${i}`, cash, medals: (i * 31) % 3, hits: 0 });
  }
  return out;
}

function depsOver(totals: readonly SettlementTotals[]): HandlerDeps {
  const sorted = [...totals].sort((a, b) => (a.userId < b.userId ? -1 : 1));
  const store = {
    async pageSettlementTotals(_raceId: string, after: string | undefined, limit: number) {
      const from = after === undefined ? 0 : sorted.findIndex((t) => t.userId > after);
      return from < 0 ? [] : sorted.slice(from, from + limit);
    },
  } as unknown as Store;
  return { store } as HandlerDeps;
}

describe('rankRace', () => {
  it('ranks page by page exactly as all totals at once', async () => {
    for (const users of [1, 4_999, 5_000, 5_001, 23_456]) {
      const totals = totalsOf(users);
      expect((await rankRace(depsOver(totals), 'r', 10)).ranking).toEqual(rankUsers(totals, 10));
    }
    const { ranking: tied, settled } = await rankRace(depsOver(totalsOf(23_456)), 'r', 10, new Set(['u000007', 'u999999']));
    expect([...settled]).toEqual(['u000007']);
    expect(new Set(tied.map((e) => e.rank)).size).toBeLessThan(tied.length);
  });
});
