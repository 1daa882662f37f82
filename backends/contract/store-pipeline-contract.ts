// The Store contract for the methods the port marks optional but the pipeline needs: ingest's cash
// pools, the ranking barrier's fan-out count, the fan-out's open-user count, the settlement totals
// a redelivery republishes and the ranking pages, the transactional outbox and the columnar settle
// path. Every backend the pipeline runs on (memory, Spanner) runs it; a backend without one of
// them fails here by name instead of at the first race. Ids are nonce-prefixed as in the main
// contract, so it runs against a shared database.
import { describe, expect, it } from 'vitest';
import { computePayoutTable } from '../../core/payout.ts';
import type { BetRequest, OutboxMessage, RaceInfo, Store } from '../../core/ports.ts';
import { invariant } from '../../core/result.ts';
import { parseRaceResult } from '../../core/results.ts';
import { buildOutcomeLookup } from '../../core/settle-columns.ts';
import { settleUserTickets } from '../../core/settlement.ts';
import { settlementIdOf } from '../../core/settlement-record.ts';
import type { Field } from '../../core/sports.ts';
import type { Ticket } from '../../core/ticket.ts';
import { contractSettlement } from './store-contract.ts';
import { storeRunner, type StoreUnderTest } from './fresh-store.ts';

type PipelineMethod =
  | 'cashPools'
  | 'recordFanoutUsers'
  | 'fanoutUsers'
  | 'countUsersWithOpenTickets'
  | 'getSettlementTotals'
  | 'pageSettlementTotals'
  | 'readOutbox'
  | 'deleteOutbox'
  | 'settleUserColumns'
  | 'unrankedRaces'
  | 'racesRankedSince'
  | 'terminalUserCount'
  | 'pageTerminalUsers'
  | 'markDeadLettered'
  | 'markRankingPublished';

/** The method bound to its store, or a failure naming it: the pipeline cannot run without it. */
function need<K extends PipelineMethod>(store: Store, name: K): NonNullable<Store[K]> {
  const m = store[name];
  if (typeof m !== 'function') throw new Error(`this Store lacks ${name}, which the pipeline needs`);
  return (m as (...args: unknown[]) => unknown).bind(store) as NonNullable<Store[K]>;
}

const FIELD: Field = { sport: 'keirin', riders: 9 };

function raceInfo(raceId: string): RaceInfo {
  const now = Date.now();
  return { raceId, sport: FIELD.sport, riders: FIELD.riders, closeAtMs: now + 3_600_000, postAtMs: now + 3_700_000 };
}

function bet(ticketId: string, userId: string, raceId: string, betType: Ticket['betType'], combination: string, stake: number, currency: Ticket['currency'] = 'cash'): BetRequest {
  return { ticketId, userId, raceId, betType, combination, stake, currency };
}

async function place(store: Store, bets: readonly BetRequest[]): Promise<void> {
  for (const b of bets) {
    const r = await store.placeBet(b);
    if (!r.ok) throw new Error(`bet ${b.ticketId} refused: ${r.error.code}: ${r.error.message}`);
  }
}


export function describeStorePipelineContract(name: string, makeStore: () => Promise<StoreUnderTest>, opts: { readonly testTimeoutMs?: number } = {}): void {
  const timeout = opts.testTimeoutMs ?? 30_000;
  const withStore = storeRunner(makeStore, 'q');

  describe(`Store contract, the pipeline's methods: ${name}`, () => {
    it('sums the cash pools per bet type and combination, leaving medal tickets out', () =>
      withStore(async (store, p) => {
        const [u1, u2] = [`${p}u1`, `${p}u2`];
        const raceId = `${p}r`;
        await store.putUsers([u1, u2].map((userId) => ({ userId, cash: 10_000, medals: 1_000 })));
        await store.putRace(raceInfo(raceId));
        await place(store, [
          bet(`${p}T1`, u1, raceId, 'trifecta', '1-2-3', 300),
          bet(`${p}T2`, u2, raceId, 'trifecta', '1-2-3', 200),
          bet(`${p}T3`, u2, raceId, 'trifecta', '3-2-1', 100),
          bet(`${p}T4`, u1, raceId, 'exacta', '4-5', 700),
          bet(`${p}T5`, u1, raceId, 'trifecta', '1-2-3', 900, 'medal'),
        ]);
        const pools = await need(store, 'cashPools')(raceId);
        const asObject = Object.fromEntries(Object.entries(pools).map(([t, m]) => [t, Object.fromEntries([...(m as ReadonlyMap<number, number>)].filter(([, yen]) => yen !== 0))]));
        expect(asObject).toMatchObject({ trifecta: { 123: 500, 321: 100 }, exacta: { 45: 700 } });
        const nonEmpty = Object.entries(asObject).filter(([, m]) => Object.keys(m).length > 0).map(([t]) => t).sort();
        expect(nonEmpty).toEqual(['exacta', 'trifecta']);
        // A race sold only in medals has no cash pool at all.
        const medalsOnly = `${p}m`;
        await store.putRace(raceInfo(medalsOnly));
        await place(store, [bet(`${p}T6`, u2, medalsOnly, 'trifecta', '1-2-3', 100, 'medal')]);
        const none = await need(store, 'cashPools')(medalsOnly);
        expect(Object.values(none).reduce((n, m) => n + [...(m as ReadonlyMap<number, number>).values()].reduce((a, y) => a + y, 0), 0)).toBe(0);
      }), timeout);

    it('keeps the first fan-out count of a race however often and concurrently it is recorded', () =>
      withStore(async (store, p) => {
        const raceId = `${p}r`;
        const record = need(store, 'recordFanoutUsers');
        const read = need(store, 'fanoutUsers');
        expect(await read(raceId)).toBeUndefined();
        expect(await record(raceId, 7)).toBe(7);
        const again = await Promise.all([3, 9, 7, 0].map((n) => record(raceId, n)));
        expect(again).toEqual([7, 7, 7, 7]);
        expect(await read(raceId)).toBe(7);
        expect(await read(`${p}other`)).toBeUndefined();
        // A race with no user to settle records zero: the barrier is then reached at once.
        expect(await record(`${p}empty`, 0)).toBe(0);
        expect(await read(`${p}empty`)).toBe(0);
      }), timeout);

    it('lists the races with a result and no published ranking, and each race\'s terminal users (the reconciler\'s reads)', () =>
      withStore(async (store, p) => {
        const [r1, r2, r3] = [`${p}r1`, `${p}r2`, `${p}r3`];
        const users = Array.from({ length: 5 }, (_, i) => `${p}u${i}`);
        await store.putUsers(users.map((userId) => ({ userId, cash: 1_000, medals: 0 })));
        for (const r of [r1, r2, r3]) await store.putRace(raceInfo(r));
        await place(store, users.map((u, i) => bet(`${p}T${i}`, u, r1, 'trifecta', '1-2-3', 100)));
        for (const r of [r1, r2]) expect(await store.recordOutcome({ raceId: r, resultVersion: 1, resultJson: '{}', payoutTableJson: '{}', publishedAtMs: 1 })).toBe(true);
        const unranked = async (sinceMs = Number.MIN_SAFE_INTEGER) => (await need(store, 'unrankedRaces')(sinceMs)).filter((r) => r.startsWith(p));
        expect(await unranked()).toEqual([r1, r2]); // r3 has no result yet
        // A window: r3's result, published at 5,000, is the only one since 2.
        expect(await store.recordOutcome({ raceId: r3, resultVersion: 1, resultJson: '{}', payoutTableJson: '{}', publishedAtMs: 5_000 })).toBe(true);
        expect(await unranked(2)).toEqual([r3]);
        expect(await unranked(5_001)).toEqual([]);
        expect(await unranked()).toEqual([r1, r2, r3]);
        const count = need(store, 'terminalUserCount');
        const page = need(store, 'pageTerminalUsers');
        expect(await count(r1)).toBe(0);
        expect(await page(r1, undefined, 10)).toEqual([]);
        await store.markPostSettled(r1, users[3] as string);
        await store.markPostSettled(r1, users[1] as string);
        await need(store, 'markDeadLettered')(r1, users[0] as string, 'RESULT.COMBINATION_INVALID: contract');
        await store.markPostSettled(r1, users[1] as string); // again: counted once
        expect(await count(r1)).toBe(3);
        expect(await page(r1, undefined, 2)).toEqual([users[0], users[1]]);
        expect(await page(r1, users[1], 2)).toEqual([users[3]]);
        expect(await page(r1, users[3], 2)).toEqual([]);
        expect(await page(r2, undefined, 2)).toEqual([]);
        expect(await store.claimRanking(r2)).toBe(true);
        expect(await unranked()).toEqual([r1, r2, r3]); // claimed is not published
        const rankedSince = async (ms: number) => (await need(store, 'racesRankedSince')(ms)).filter((r) => r.startsWith(p));
        expect(await rankedSince(Number.MIN_SAFE_INTEGER)).toEqual([]);
        await need(store, 'markRankingPublished')(r2);
        expect(await unranked()).toEqual([r1, r3]);
        expect(await rankedSince(Number.MIN_SAFE_INTEGER)).toEqual([r2]);
        expect(await rankedSince(Number.MAX_SAFE_INTEGER)).toEqual([]); // published before that time
      }), timeout);

    it('counts the users with open tickets as the pages list them, before and after settling', () =>
      withStore(async (store, p) => {
        const raceId = `${p}r`;
        const users = Array.from({ length: 7 }, (_, i) => `${p}u${i}`);
        await store.putUsers(users.map((userId) => ({ userId, cash: 1_000, medals: 0 })));
        await store.putRace(raceInfo(raceId));
        // Two tickets for some users: the count is of users, not tickets.
        await place(store, users.flatMap((u, i) => [bet(`${p}T${i}a`, u, raceId, 'trifecta', '1-2-3', 100), ...(i % 2 === 0 ? [bet(`${p}T${i}b`, u, raceId, 'trifecta', '2-1-3', 100)] : [])]));
        const count = need(store, 'countUsersWithOpenTickets');
        expect(await count(raceId)).toBe(7);
        expect((await store.pageUsersWithOpenTickets(raceId, undefined, 100)).length).toBe(7);
        for (const u of users.slice(0, 3)) expect((await store.settleUser(raceId, u, 1, contractSettlement(1))).kind).toBe('applied');
        expect(await count(raceId)).toBe(4);
        expect(await count(`${p}none`)).toBe(0);
      }), timeout);

    it('reads back each applied settlement\'s totals, one by one and in pages ascending after the cursor', () =>
      withStore(async (store, p) => {
        const raceId = `${p}r`;
        const users = Array.from({ length: 5 }, (_, i) => `${p}u${i}`);
        await store.putUsers(users.map((userId) => ({ userId, cash: 10_000, medals: 1_000 })));
        await store.putRace(raceInfo(raceId));
        // User i stakes (i + 1) x 100 on the stand-in winner in cash, and 100 in medals on a loser.
        await place(store, users.flatMap((u, i) => [bet(`${p}T${i}w`, u, raceId, 'trifecta', '1-2-3', (i + 1) * 100), bet(`${p}T${i}l`, u, raceId, 'trifecta', '3-2-1', 100, 'medal')]));
        const getTotals = need(store, 'getSettlementTotals');
        expect(await getTotals(raceId, users[0] as string)).toBeUndefined();
        // Settled out of order; the last user stays unsettled.
        for (const u of [users[3], users[0], users[2], users[1]] as string[]) expect((await store.settleUser(raceId, u, 1, contractSettlement(1))).kind).toBe('applied');
        const want = (i: number) => ({ userId: users[i], settlementId: settlementIdOf(raceId, users[i] as string, 1), cash: (i + 1) * 250, medals: 0, hits: 1 });
        expect(await getTotals(raceId, users[2] as string)).toMatchObject(want(2));
        expect(await getTotals(raceId, users[4] as string)).toBeUndefined();
        // Asked all at once (a store may answer them with one read): each call gets its own answer,
        // a key asked twice included, and a user of another race has none.
        const asked = [...users, users[1], `${p}nobody`] as string[];
        const together = await Promise.all([...asked.map((u) => getTotals(raceId, u)), getTotals(`${p}none`, users[0] as string)]);
        expect(together).toMatchObject([want(0), want(1), want(2), want(3), undefined, want(1), undefined, undefined]);
        expect(together.slice(0, 4).map((t) => t?.userId)).toEqual(users.slice(0, 4));
        const page = need(store, 'pageSettlementTotals');
        const first = await page(raceId, undefined, 3);
        expect(first).toMatchObject([want(0), want(1), want(2)]);
        expect(await page(raceId, users[2], 3)).toMatchObject([want(3)]);
        expect(await page(raceId, users[3], 3)).toEqual([]);
        expect(await page(`${p}none`, undefined, 3)).toEqual([]);
      }), timeout);

    it('writes outbox rows with the settlement only when it applies, lists them oldest first, and deletes them', () =>
      withStore(async (store, p) => {
        const raceId = `${p}r`;
        const users = [`${p}u1`, `${p}u2`, `${p}u3`];
        await store.putUsers(users.map((userId) => ({ userId, cash: 1_000, medals: 0 })));
        await store.putRace(raceInfo(raceId));
        await place(store, users.map((u, i) => bet(`${p}T${i}`, u, raceId, 'trifecta', '1-2-3', 100)));
        const rows = (userId: string): OutboxMessage[] => [{ outboxId: `outbox:${p}:${userId}`, topic: 'settled', data: `{"userId":"${userId}"}`, attributes: { userId } }];
        for (const u of users) expect((await store.settleUser(raceId, u, 1, contractSettlement(1), (s) => rows(s.userId))).kind).toBe('applied');
        // A redelivery settles nothing and writes no second row.
        expect((await store.settleUser(raceId, users[0] as string, 1, contractSettlement(1), () => [{ outboxId: `outbox:${p}:dup`, topic: 'settled', data: '{}' }])).kind).toBe('duplicate');
        const read = need(store, 'readOutbox');
        const mine = async () => (await read(10_000)).filter((m) => m.outboxId.startsWith(`outbox:${p}:`));
        const listed = await mine();
        expect(listed.map((m) => m.outboxId)).toEqual(users.map((u) => `outbox:${p}:${u}`));
        expect(listed[0]).toMatchObject({ topic: 'settled', data: `{"userId":"${users[0]}"}`, attributes: { userId: users[0] } });
        const limited = await read(1);
        expect(limited.length).toBe(1);
        const del = need(store, 'deleteOutbox');
        await del([`outbox:${p}:${users[0]}`, `outbox:${p}:never-written`]);
        expect((await mine()).map((m) => m.outboxId)).toEqual(users.slice(1).map((u) => `outbox:${p}:${u}`));
        await del(users.slice(1).map((u) => `outbox:${p}:${u}`));
        expect(await mine()).toEqual([]);
      }), timeout);

    it('settles through the columnar path exactly as through the object path, once', () =>
      withStore(async (store, p) => {
        const raceId = `${p}r`;
        const [cols, objs] = [`${p}uc`, `${p}uo`];
        await store.putUsers([cols, objs].map((userId) => ({ userId, cash: 10_000, medals: 1_000 })));
        await store.putRace(raceInfo(raceId));
        // The same bets for both users: a win, a loss, a medal win and a second bet type.
        const bets = (u: string, tag: string) => [
          bet(`${p}T${tag}1`, u, raceId, 'trifecta', '1-2-3', 200),
          bet(`${p}T${tag}2`, u, raceId, 'trifecta', '3-2-1', 300),
          bet(`${p}T${tag}3`, u, raceId, 'trifecta', '1-2-3', 400, 'medal'),
          bet(`${p}T${tag}4`, u, raceId, 'exacta', '1-2', 500),
        ];
        await place(store, [...bets(cols, 'c'), ...bets(objs, 'o')]);
        const result = parseRaceResult({ status: 'official', order: [[1], [2], [3], [4], [5], [6], [7], [8], [9]] }, FIELD, []);
        invariant(result.ok, 'the stand-in result parses');
        const table = computePayoutTable({ field: FIELD, scratched: [], result: result.value, pools: await need(store, 'cashPools')(raceId) });
        const columns = need(store, 'settleUserColumns');
        const viaColumns = await columns(raceId, cols, 1, buildOutcomeLookup(table, FIELD));
        const viaObjects = await store.settleUser(raceId, objs, 1, (input) => {
          const s = settleUserTickets({ ...input, resultVersion: 1, table, field: FIELD });
          if (!s.ok) throw new Error(s.error.message);
          return s.value;
        });
        if (viaColumns.kind !== 'applied' || viaObjects.kind !== 'applied') throw new Error(`expected both applied, got ${viaColumns.kind} and ${viaObjects.kind}`);
        const c = viaColumns.settlement;
        const o = viaObjects.settlement;
        expect({ cash: c.cashDelta, medals: c.medalDelta, hits: c.hits, tickets: c.tickets }).toEqual({ cash: o.cashDelta, medals: o.medalDelta, hits: o.hits, tickets: o.outcomes.length });
        expect(c.cashDelta).toBeGreaterThan(0);
        expect(c.medalDelta).toBeGreaterThan(0);
        expect(c.settlementId).toBe(settlementIdOf(raceId, cols, 1));
        expect(await columns(raceId, cols, 1, buildOutcomeLookup(table, FIELD))).toEqual({ kind: 'duplicate', settlementId: settlementIdOf(raceId, cols, 1) });
        const rb = store.readback;
        if (rb === undefined) return;
        const [bc, bo] = await Promise.all([rb.balances(cols), rb.balances(objs)]);
        expect({ cash: bc?.cash, medals: bc?.medals }).toEqual({ cash: bo?.cash, medals: bo?.medals });
        const states = new Map<string, string>();
        for await (const t of rb.ticketsOfRace(raceId)) states.set(t.ticketId, `${t.status}:${t.per100}:${t.payout}`);
        for (const n of [1, 2, 3, 4]) expect(states.get(`${p}Tc${n}`)).toBe(states.get(`${p}To${n}`));
        expect(states.get(`${p}Tc1`)?.startsWith('won:')).toBe(true);
        expect(states.get(`${p}Tc2`)).toBe('lost:0:0');
      }), timeout);
  });
}
