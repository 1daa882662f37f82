// The bulk read-back the checkers use on Spanner (StoreReadback.ledgers: Users and Ledger read
// whole as key-range streams, every shard at once) returns exactly what the per-user read-backs
// return (balances + ledgerTotals, two round trips per user), on the Spanner emulator with users
// over 3 shards: bettors with stakes, settled payouts in cash and medals, bonuses, and users
// without a single ledger entry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computePayoutTable } from '../../core/payout.ts';
import { payoutTableToJson } from '../../core/payout-json.ts';
import type { UserLedger, UserRaceTickets } from '../../core/ports.ts';
import type { RaceResult } from '../../core/race-result.ts';
import { settleUserTickets } from '../../core/settlement.ts';
import type { Ticket } from '../../core/ticket.ts';
import { startSpannerForTests, type SpannerForTests } from '../../emulators/spanner-testing.ts';
import type { SpannerStore } from './spanner-store.ts';

const clock = { nowMs: () => 5_000, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
const RESULT: RaceResult = { status: 'official', order: [[3], [1], [5], [2], [4], [6], [7]] };
const FIELD = { sport: 'keirin', riders: 7 } as const;
const COMBOS = ['3-1', '1-3', '3-5', '2-4', '5-1'];
const USERS = 60;

let env: SpannerForTests;
let store: SpannerStore;

beforeAll(async () => {
  env = await startSpannerForTests('readback');
  store = await env.freshStore(3, { clock });
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

describe('StoreReadback.ledgers on Spanner', () => {
  it('returns the same balances and ledger totals as the per-user read-backs, for every user of every shard', async () => {
    const users = Array.from({ length: USERS }, (_, i) => ({ userId: `rb-${String(i).padStart(3, '0')}`, cash: 10_000 + i, medals: 500 + i }));
    await store.putUsers(users);
    await store.putRace({ raceId: 'r-rb', sport: 'keirin', riders: 7, closeAtMs: 10_000, postAtMs: 10_001 });
    // Every third user places nothing; the others bet in cash and medals, some on the winner 3-1.
    const tickets: Ticket[] = users
      .filter((_, i) => i % 3 !== 0)
      .flatMap((u, i) =>
        Array.from({ length: 1 + (i % 3) }, (_, k) => ({ ticketId: `t${i}-${k}`, userId: u.userId, raceId: 'r-rb', betType: 'exacta' as const, combination: COMBOS[(i + k) % COMBOS.length] as string, stake: 100 * (1 + k), currency: k % 2 === 0 ? ('cash' as const) : ('medal' as const) })),
      );
    for (const t of tickets) {
      const r = await store.placeBet(t);
      expect(r.ok).toBe(true);
    }
    const table = computePayoutTable({ field: FIELD, scratched: [], result: RESULT, pools: await store.cashPools('r-rb') });
    await store.recordOutcome({ raceId: 'r-rb', resultVersion: 1, resultJson: JSON.stringify(RESULT), payoutTableJson: payoutTableToJson(table), publishedAtMs: 1 });
    const compute = (input: UserRaceTickets) => {
      const r = settleUserTickets({ ...input, resultVersion: 1, table, field: FIELD });
      if (!r.ok) throw new Error(r.error.message);
      return r.value;
    };
    const bettors = [...new Set(tickets.map((t) => t.userId))];
    // Half the bettors are settled, the rest keep open tickets (stakes only in their ledger).
    for (const u of bettors.filter((_, i) => i % 2 === 0)) expect((await store.settleUser('r-rb', u, 1, compute)).kind).toBe('applied');
    await store.grantBonuses([{ bonusId: 'b-rb-1', userId: 'rb-003', medals: 7, reason: 'test' }, { bonusId: 'b-rb-2', userId: 'rb-004', medals: 11, reason: 'test' }]);

    const rb = store.readback;
    expect(rb.ledgers).toBeDefined();
    const bulk = new Map<string, UserLedger>();
    for await (const l of rb.ledgers!()) {
      expect(bulk.has(l.account.userId)).toBe(false);
      bulk.set(l.account.userId, l);
    }
    expect([...bulk.keys()].sort()).toEqual(users.map((u) => u.userId));
    for (const u of users) {
      const balance = await rb.balances(u.userId);
      const totals = await rb.ledgerTotals(u.userId);
      expect(bulk.get(u.userId)).toEqual({ account: balance, totals });
    }
    // The comparison covered real money: payouts, stakes in both currencies and a bonus.
    const all = [...bulk.values()];
    expect(all.some((l) => l.totals.cash.payout > 0)).toBe(true);
    expect(all.some((l) => l.totals.medal.stake < 0)).toBe(true);
    expect(bulk.get('rb-004')?.totals.medal.bonus).toBe(11);
    expect(new Set(users.map((u) => store.shardOfUser(u.userId))).size).toBe(3);
  }, 120_000);
});
