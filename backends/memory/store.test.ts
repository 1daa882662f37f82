// Proves the memory store's transactions and columns: injected and conflicting aborts retry and
// still write exactly once; exhausted retries write nothing; the columnar settlement agrees with
// the object path (core settleUserTickets) on random worlds; ticket ids of every shape round-trip
// through the columns, also after clustering; paging follows user id order, not load order; the
// broken exactly-once mode double-applies (so checkers can catch it); outbox rows and cash pools.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { enumerateCombinations, encodeCombination } from '../../core/combination.ts';
import { computePayoutTable } from '../../core/payout.ts';
import type { StoredTicket, UserRaceTickets } from '../../core/ports.ts';
import { createRng } from '../../core/rng.ts';
import { buildOutcomeLookup } from '../../core/settle-columns.ts';
import type { Settlement } from '../../core/settlement-record.ts';
import { settleUserTickets } from '../../core/settlement.ts';
import { BET_TYPE_CODE, betTypesSold, type BetType, type Field } from '../../core/sports.ts';
import { contractSettlement } from '../contract/store-contract.ts';
import { createMemoryStore, createVirtualClock, TRANSACTION_ABORTED, type MemoryStore } from './index.ts';

const FIELD: Field = { sport: 'keirin', riders: 7 };
const race = (raceId: string) => ({ raceId, sport: FIELD.sport, riders: FIELD.riders, closeAtMs: 1e12, postAtMs: 1e12 });

async function collect(store: MemoryStore, raceId: string): Promise<StoredTicket[]> {
  const out: StoredTicket[] = [];
  for await (const t of store.readback!.ticketsOfRace(raceId)) out.push(t);
  return out;
}

/** Awaits a store call while running the virtual clock, so retries' backoff sleeps can end. */
function inVirtualTime(clock: ReturnType<typeof createVirtualClock>): <T>(p: Promise<T>) => Promise<T> {
  return async (p) => (await Promise.all([p, clock.runUntilIdle()]))[0];
}

async function worldWithBets(store: MemoryStore, users: number, run: <T>(p: Promise<T>) => Promise<T> = (p) => p): Promise<string[]> {
  const ids = Array.from({ length: users }, (_, i) => `u${i}`);
  await store.putUsers(ids.map((userId) => ({ userId, cash: 10_000, medals: 0 })));
  await store.putRace(race('r1'));
  for (const [i, userId] of ids.entries()) {
    for (const combination of ['1-2-3', '2-1-3']) {
      const r = await run(store.placeBet({ ticketId: `T${i}${combination[0]}`, userId, raceId: 'r1', betType: 'trifecta', combination, stake: 1_000, currency: 'cash' }));
      expect(r.ok).toBe(true);
    }
  }
  return ids;
}

describe('memory store transactions', () => {
  it('retries injected aborts through the clock and still settles each user exactly once', async () => {
    const clock = createVirtualClock();
    const store = createMemoryStore({ clock, rng: createRng(3), faults: { abortProbability: 0.4 } });
    const run = inVirtualTime(clock);
    const users = await worldWithBets(store, 10, run);
    const results = await run(Promise.all(users.flatMap((u) => [1, 2, 3].map(() => store.settleUser('r1', u, 1, contractSettlement(1))))));
    expect(results.filter((r) => r.kind === 'applied')).toHaveLength(10);
    const stats = store.stats();
    expect(stats.abortsInjected).toBeGreaterThan(0);
    expect(stats.transactionsAborted).toBe(stats.abortsInjected + stats.abortsConflict);
    expect(clock.nowMs()).toBeGreaterThan(0); // retries waited on the virtual clock
    for (const u of users) expect(await store.readback!.balances(u)).toEqual({ userId: u, cash: 10_000 - 2_000 + 2_500, medals: 0 });
    expect((await store.readback!.settlementMarkers('r1')).every((m) => m.applications === 1)).toBe(true);
    expect(store.ledgerEntries('u0').map((e) => [e.reason, e.amount])).toEqual([['stake', -1_000], ['stake', -1_000], ['payout', 2_500]]);
  });

  it('aborts concurrent transactions on the same user as conflicts', async () => {
    const store = createMemoryStore();
    await worldWithBets(store, 1);
    const results = await Promise.all([1, 2, 3, 4].map(() => store.settleUser('r1', 'u0', 1, contractSettlement(1))));
    expect(results.map((r) => r.kind).sort()).toEqual(['applied', 'duplicate', 'duplicate', 'duplicate']);
    expect(store.stats().abortsConflict).toBe(3);
  });

  it('fails with ABORTED after the bounded retries and writes nothing', async () => {
    const clock = createVirtualClock();
    const store = createMemoryStore({ clock, faults: { abortProbability: 1 }, maxTransactionAttempts: 4 });
    await store.putUsers([{ userId: 'u0', cash: 500, medals: 0 }]);
    await store.putRace(race('r1'));
    const placing = store.placeBet({ ticketId: 'T1', userId: 'u0', raceId: 'r1', betType: 'trifecta', combination: '1-2-3', stake: 100, currency: 'cash' });
    const outcome = placing.then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    await clock.runUntilIdle();
    expect(await outcome).toMatch(new RegExp(`^${TRANSACTION_ABORTED}`));
    expect(store.stats()).toMatchObject({ transactionsAborted: 4, transactionsCommitted: 0, tickets: 0 });
    expect(await store.readback!.balances('u0')).toEqual({ userId: 'u0', cash: 500, medals: 0 });
  });

  it('retries a settlement whose race index was rebuilt (rows moved) between its read and commit', async () => {
    const clock = createVirtualClock();
    const store = createMemoryStore({ clock, transactionLatencyMs: 10, clusterMinTickets: 1 });
    await store.putUsers(['b', 'a'].map((userId) => ({ userId, cash: 0, medals: 0 })));
    const ticket = (ticketId: string, userId: string, combination: string) => ({ ticketId, userId, raceId: 'r1', betType: 'trifecta' as const, combination, stake: 100, currency: 'cash' as const });
    await store.loadTickets([ticket('T1', 'b', '1-2-3'), ticket('T2', 'a', '3-2-1'), ticket('T3', 'b', '2-1-3')]);
    const settling = store.settleUser('r1', 'b', 1, contractSettlement(1));
    await store.loadTickets([ticket('T4', 'a', '1-2-3')]);
    expect(await store.pageUsersWithOpenTickets('r1', undefined, 5)).toEqual(['a', 'b']); // rebuilds and re-clusters
    await clock.runUntilIdle();
    expect((await settling).kind).toBe('applied');
    expect(store.stats().abortsConflict).toBe(1);
    const states = (await collect(store, 'r1')).map((t) => `${t.ticketId}:${t.userId}:${t.status}`).sort();
    expect(states).toEqual(['T1:b:won', 'T2:a:open', 'T3:b:lost', 'T4:a:open']);
  });

  it('broken exactly-once mode applies a redelivered settlement twice (for checker tests)', async () => {
    const store = createMemoryStore({ faults: { brokenExactlyOnce: true } });
    await worldWithBets(store, 1);
    await store.settleUser('r1', 'u0', 1, contractSettlement(1));
    const again = await store.settleUser('r1', 'u0', 1, contractSettlement(1));
    expect(again.kind).toBe('applied');
    expect((await store.readback!.settlementMarkers('r1'))[0]?.applications).toBe(2);
    expect((await store.readback!.balances('u0'))?.cash).toBe(10_000 - 2_000 + 2 * 2_500);
  });

  it('counts the applications of each bonus grant: 1 when healthy, 2 when the bonus guard is broken', async () => {
    const bonus = { bonusId: 'bonus:test:u0', userId: 'u0', medals: 30, reason: 'test' };
    for (const [brokenBonusOnce, applications, medals] of [[false, 1, 30], [true, 2, 60]] as const) {
      const store = createMemoryStore({ faults: { brokenBonusOnce } });
      await store.putUsers([{ userId: 'u0', cash: 0, medals: 0 }]);
      await store.grantBonuses([bonus]);
      await store.grantBonuses([bonus]);
      expect((await store.readback!.bonuses()).map((b) => [b.bonusId, b.applications])).toEqual([[bonus.bonusId, applications]]);
      expect((await store.readback!.balances('u0'))?.medals).toBe(medals);
    }
  });
});

/** A random one-race world loaded into a store; the same seed loads the same tickets. */
async function randomWorld(seed: number, clusterMinTickets: number): Promise<{ store: MemoryStore; users: string[] }> {
  const rng = createRng(seed);
  const store = createMemoryStore({ clusterMinTickets });
  const users = Array.from({ length: 1 + rng.int(0, 30) }, (_, i) => `u${(i * 7919) % 1000}`);
  await store.putUsers(users.map((userId) => ({ userId, cash: 0, medals: 0 })));
  await store.putRace(race('r1'));
  const types = betTypesSold(FIELD);
  const tickets = Array.from({ length: rng.int(1, 200) }, (_, i) => {
    const betType = types[rng.int(0, types.length - 1)] as BetType;
    const combos = enumerateCombinations(betType, FIELD);
    const combo = combos[rng.int(0, combos.length - 1)] as readonly number[];
    const currency = rng.int(0, 4) === 0 ? ('cash' as const) : ('medal' as const);
    const combination = betType === 'trifecta' || betType === 'exacta' || betType === 'bracket_exacta' ? combo.join('-') : combo.join('=');
    return { ticketId: `T${i + 1}`, userId: users[rng.int(0, users.length - 1)] as string, raceId: 'r1', betType, combination, stake: 100 * rng.int(1, 5), currency };
  });
  await store.loadTickets(tickets);
  return { store, users };
}

describe('memory store columnar settlement', () => {
  it('settleUserColumns agrees with settleUser + settleUserTickets on random worlds', async () => {
    const seed = Date.now() % 1_000_000;
    console.log(`fast-check seed ${seed}`);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1e9 }), fc.boolean(), async (worldSeed, cluster) => {
        const a = await randomWorld(worldSeed, cluster ? 1 : 1e9);
        const b = await randomWorld(worldSeed, cluster ? 1 : 1e9);
        const pools = await a.store.cashPools!('r1');
        const table = computePayoutTable({ field: FIELD, scratched: [6], result: { status: 'official', order: [[3], [1, 5], [2], [4], [7]] }, pools });
        const compute = (input: UserRaceTickets): Settlement => {
          const r = settleUserTickets({ ...input, resultVersion: 1, table, field: FIELD });
          if (!r.ok) throw new Error(r.error.message);
          return r.value;
        };
        const lookup = buildOutcomeLookup(table, FIELD);
        for (const u of new Set(a.users)) {
          const x = await a.store.settleUser('r1', u, 1, compute);
          const y = await b.store.settleUserColumns('r1', u, 1, lookup);
          expect(y.kind).toBe(x.kind);
          if (x.kind === 'applied' && y.kind === 'applied') expect([y.settlement.cashDelta, y.settlement.medalDelta, y.settlement.hits]).toEqual([x.settlement.cashDelta, x.settlement.medalDelta, x.settlement.hits]);
        }
        const byId = (t: StoredTicket[]) => t.sort((p, q) => (p.ticketId < q.ticketId ? -1 : 1));
        expect(byId(await collect(b.store, 'r1'))).toEqual(byId(await collect(a.store, 'r1')));
        for (const u of new Set(a.users)) expect(await b.store.readback!.ledgerTotals(u)).toEqual(await a.store.readback!.ledgerTotals(u));
      }),
      { seed, numRuns: 25 },
    );
  });

  it('round-trips ticket ids of every shape through the columns, also after clustering', async () => {
    const ids = ['T1', 'T0', 'T0123', 'abc', 'X-99', 'T99999999999', 'T4294967294', 'B7', 'bet:ab:12'];
    for (const clusterMinTickets of [1, 1e9]) {
      const store = createMemoryStore({ clusterMinTickets });
      await store.putUsers(['b', 'a', 'c'].map((userId) => ({ userId, cash: 100_000, medals: 0 })));
      await store.putRace(race('r1'));
      for (const [i, ticketId] of ids.entries()) {
        const r = await store.placeBet({ ticketId, userId: ['b', 'a', 'c'][i % 3] as string, raceId: 'r1', betType: 'trio', combination: '1=2=3', stake: 100, currency: 'cash' });
        expect(r.ok).toBe(true);
      }
      expect(await store.pageUsersWithOpenTickets('r1', undefined, 10)).toEqual(['a', 'b', 'c']);
      expect((await collect(store, 'r1')).map((t) => `${t.userId}:${t.ticketId}`).sort()).toEqual(ids.map((id, i) => `${['b', 'a', 'c'][i % 3]}:${id}`).sort());
      const again = await store.placeBet({ ticketId: 'X-99', userId: 'a', raceId: 'r1', betType: 'trio', combination: '1=2=3', stake: 100, currency: 'cash' });
      expect(again.ok && again.value.ticketId).toBe('X-99');
      expect(store.stats().tickets).toBe(ids.length);
    }
  });

  it('bulk-loads columns, pages by user id rather than load order, and keeps markers across re-indexing', async () => {
    const store = createMemoryStore({ clusterMinTickets: 1 });
    const users = ['u3', 'u1', 'u2', 'u0'];
    await store.putUsers(users.map((userId) => ({ userId, cash: 0, medals: 1_000 })));
    await store.putRace(race('r1'));
    const trio = encodeCombination([1, 2, 3]);
    const n = 8;
    store.loadTicketColumns({
      raceId: 'r1',
      count: n,
      userIdx: Uint32Array.from({ length: n }, (_, i) => i % 4),
      betType: new Uint8Array(n).fill(BET_TYPE_CODE.trio),
      comboCode: new Uint16Array(n).fill(trio),
      stakeUnits: new Uint32Array(n).fill(2),
      currency: new Uint8Array(n).fill(1),
      ticketNumber: Uint32Array.from({ length: n }, (_, i) => 100 + i),
    });
    store.indexRace('r1');
    expect(await store.pageUsersWithOpenTickets('r1', undefined, 10)).toEqual(['u0', 'u1', 'u2', 'u3']);
    expect(await store.pageUsersWithOpenTickets('r1', 'u1', 10)).toEqual(['u2', 'u3']);
    expect((await store.settleUser('r1', 'u1', 1, contractSettlement(1))).kind).toBe('applied');
    await store.putUsers([{ userId: 'u9', cash: 0, medals: 0 }]); // tickets of unknown users are refused
    await store.loadTickets([{ ticketId: 'T999', userId: 'u9', raceId: 'r1', betType: 'trio', combination: '1=2=3', stake: 100, currency: 'medal' }]);
    expect(await store.pageUsersWithOpenTickets('r1', undefined, 10)).toEqual(['u0', 'u2', 'u3', 'u9']);
    expect((await store.settleUser('r1', 'u1', 1, contractSettlement(1))).kind).toBe('duplicate');
    const u1 = (await collect(store, 'r1')).filter((t) => t.userId === 'u1');
    expect(u1.map((t) => [t.ticketId, t.status]).sort()).toEqual([['T101', 'lost'], ['T105', 'lost']]);
    const pools = await store.cashPools!('r1');
    expect(pools).toEqual({});
  });

  it('keeps cash pools, the fan-out count, outbox rows and settlement totals', async () => {
    const store = createMemoryStore();
    await worldWithBets(store, 3);
    const pools = await store.cashPools!('r1');
    expect([...(pools.trifecta ?? new Map())].sort()).toEqual([[123, 3_000], [213, 3_000]]);
    expect(await store.recordFanoutUsers!('r1', 3)).toBe(3);
    expect(await store.recordFanoutUsers!('r1', 2)).toBe(3);
    expect(await store.fanoutUsers('r1')).toBe(3);
    expect(await store.fanoutUsers('r2')).toBeUndefined();
    const outbox = (s: { settlementId: string }) => [{ outboxId: `outbox:${s.settlementId}`, topic: 'settled', data: s.settlementId }];
    await store.settleUser('r1', 'u0', 1, contractSettlement(1), outbox);
    await store.settleUser('r1', 'u0', 1, contractSettlement(1), outbox);
    await store.settleUser('r1', 'u1', 1, contractSettlement(1), outbox);
    const rows = await store.readOutbox!(10);
    expect(rows.map((r) => r.data)).toEqual(['stl:r1:u0:v1', 'stl:r1:u1:v1']);
    await store.deleteOutbox!([rows[0]!.outboxId, 'unknown']);
    const u0 = { userId: 'u0', settlementId: 'stl:r1:u0:v1', cash: 2_500, medals: 0, hits: 1, trifectaHits: 1 };
    expect(await store.getSettlementTotals('r1', 'u0')).toEqual(u0);
    expect(await store.getSettlementTotals('r1', 'u2')).toBeUndefined();
    expect(await store.pageSettlementTotals('r1', undefined, 10)).toEqual([u0, { ...u0, userId: 'u1', settlementId: 'stl:r1:u1:v1' }]);
    expect(await store.pageSettlementTotals('r1', 'u0', 10)).toHaveLength(1);
    expect((await store.readOutbox!(10)).map((r) => r.data)).toEqual(['stl:r1:u1:v1']);
  });
});
