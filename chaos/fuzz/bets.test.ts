// The bet fuzzer in CI: every kind of generated invalid placeBet input, sent through a real gateway
// over HTTP, is refused with exactly its code (and field), none is placed, and the store's balances
// and tickets reconcile exactly with the valid bets that were accepted (the first bets of the
// reused-key cases).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryStore, createRealClock } from '../../backends/memory/index.ts';
import { parseCombination } from '../../core/combination.ts';
import { BET_KIND_NAMES, betCase } from './bet-arbitraries.ts';
import { betWorld, runBetFuzz } from './bets.ts';

describe('invalid bet arbitraries', () => {
  const w = betWorld(1, 0);
  it('an invalid combination is never one the core accepts; a reused key always comes with a different first bet', () => {
    fc.assert(
      fc.property(betCase('combination-invalid', w), (c) => {
        const i = c.input as { betType: 'trifecta'; combination: string };
        return !parseCombination(i.betType, i.combination, w.openRace.field).ok;
      }),
      { numRuns: 200, seed: 3 },
    );
    fc.assert(
      fc.property(betCase('idempotency-key-reused', w), (c) => c.first !== undefined && c.first.key === c.key && JSON.stringify(c.first.input) !== JSON.stringify(c.input)),
      { numRuns: 100, seed: 3 },
    );
  });
});

describe('invalid bets through a real gateway (memory store)', () => {
  it('each gets its precise code, none is placed, and balances and tickets reconcile exactly', async () => {
    const store = createMemoryStore({ clock: createRealClock() });
    const r = await runBetFuzz(store, { seed: 11, runs: 8 });
    expect(r.crashes).toEqual([]);
    expect(r.reconciliation).toEqual([]);
    for (const c of r.cells) expect({ kind: c.kind, rejected: c.rejected, wrong: c.wrong }).toEqual({ kind: c.kind, rejected: 8, wrong: [] });
    expect(r.cells.map((c) => c.kind)).toEqual(BET_KIND_NAMES);
    expect(r.accepted).toBe(0);
    expect(r.ok).toBe(true);
    await store.close();
  });
});
