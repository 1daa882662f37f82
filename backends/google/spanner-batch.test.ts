// Proves the Spanner store's group commit (spanner-batch.ts) on the emulator keeps every per-call
// answer and every exactly-once rule: concurrent settlements of one shard, each user asked three
// times at once, are applied once each in fewer transactions than calls; one user's failing
// computation rejects only that call; a user settled for two races in one batch keeps both
// credits; concurrent post-settled marks count each user once; concurrent bonus grants of the same
// ids grant each once; a commit-time failure of one user (a stray Settlements row trips the insert
// backstop, ALREADY_EXISTS) fails that user only, the others of its batch are settled. It fails if
// batching drops, doubles or cross-wires a result, or lets one user's failure fail its neighbours.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { computePayoutTable } from '../../core/payout.ts';
import { payoutTableToJson } from '../../core/payout-json.ts';
import type { Bonus, UserRaceTickets } from '../../core/ports.ts';
import type { RaceResult } from '../../core/race-result.ts';
import { settleUserTickets } from '../../core/settlement.ts';
import type { Settlement } from '../../core/settlement-record.ts';
import type { Ticket } from '../../core/ticket.ts';
import { describeWithEmulators } from '../../emulators/test-support.ts';
import { createSpannerClient } from './spanner-client.ts';
import { startSpannerForTests, type SpannerForTests } from '../../emulators/spanner-testing.ts';
import type { SpannerStore } from './spanner-store.ts';

const RESULT: RaceResult = { status: 'official', order: [[3], [1], [5], [2], [4], [6], [7]] };
const FIELD = { sport: 'keirin', riders: 7 } as const;
const COMBOS = ['3-1', '1-3', '3-5', '2-4', '5-1'];
const USERS = 30;

function tickets(raceId: string, userId: string, n: number): Ticket[] {
  return Array.from({ length: n }, (_, k) => ({ ticketId: `${raceId}-t${k}`, userId, raceId, betType: 'exacta', combination: COMBOS[k % COMBOS.length] as string, stake: 100 * (1 + k), currency: 'cash' }));
}

async function openRace(store: SpannerStore, raceId: string, all: readonly Ticket[]): Promise<(input: UserRaceTickets) => Settlement> {
  await store.putRace({ raceId, sport: FIELD.sport, riders: FIELD.riders, closeAtMs: 0, postAtMs: 1 });
  await store.loadTickets(all);
  const table = computePayoutTable({ field: FIELD, scratched: [], result: RESULT, pools: await store.cashPools(raceId) });
  await store.recordOutcome({ raceId, resultVersion: 1, resultJson: JSON.stringify(RESULT), payoutTableJson: payoutTableToJson(table), publishedAtMs: 1 });
  return (input) => {
    const r = settleUserTickets({ ...input, resultVersion: 1, table, field: FIELD });
    if (!r.ok) throw new Error(r.error.message);
    return r.value;
  };
}

describeWithEmulators('Spanner store group commit', () => {
  let env: SpannerForTests;
  let store: SpannerStore;
  const users = Array.from({ length: USERS }, (_, i) => `gu${String(i).padStart(3, '0')}`);

  beforeAll(async () => {
    env = await startSpannerForTests('batch');
    store = await env.freshStore(1);
    await store.putUsers(users.map((userId) => ({ userId, cash: 10_000, medals: 0 })));
  }, 120_000);

  afterAll(async () => {
    await env?.stop();
  });

  it('applies each of many concurrent settlements exactly once, in fewer transactions than calls', async () => {
    expect(store.settlementsPerCommit).toBe(25); // group commit is the emulator's default
    const compute = await openRace(store, 'ra', users.flatMap((u) => tickets('ra', u, 3)));
    const before = store.stats().transactionsCommitted;
    const calls = [...users, ...users, ...users].map((u) => store.settleUser('ra', u, 1, compute));
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.kind === 'applied')).toHaveLength(USERS);
    expect(results.filter((r) => r.kind === 'duplicate')).toHaveLength(2 * USERS);
    // Each duplicate names the settlement its user's applied call wrote.
    const applied = new Set(results.flatMap((r) => (r.kind === 'applied' ? [r.settlement.settlementId] : [])));
    for (const r of results) if (r.kind === 'duplicate') expect(applied.has(r.settlementId)).toBe(true);
    expect(store.stats().transactionsCommitted - before).toBeLessThan(calls.length);
    for (const u of users) {
      const s = compute({ raceId: 'ra', userId: u, tickets: tickets('ra', u, 3) });
      expect(await store.readback.balances(u)).toEqual({ userId: u, cash: 10_000 + s.cashDelta, medals: s.medalDelta });
    }
  });

  it('rejects only the call whose computation fails, and keeps a user settled for two races in one batch whole', async () => {
    const [a, b, c] = users as [string, string, string];
    const rb = await openRace(store, 'rb', [a, b].flatMap((u) => tickets('rb', u, 2)));
    const rc = await openRace(store, 'rc', [a, c].flatMap((u) => tickets('rc', u, 2)));
    const before = await store.readback.balances(a);
    const poison = (input: UserRaceTickets): Settlement => {
      if (input.userId === b) throw new Error('poison tickets');
      return rb(input);
    };
    const [ra, rbad, rc2, ra2] = await Promise.allSettled([store.settleUser('rb', a, 1, poison), store.settleUser('rb', b, 1, poison), store.settleUser('rc', c, 1, rc), store.settleUser('rc', a, 1, rc)]);
    expect(ra.status === 'fulfilled' && ra.value.kind).toBe('applied');
    expect(rbad.status === 'rejected' && String(rbad.reason)).toContain('poison tickets');
    expect(rc2.status === 'fulfilled' && rc2.value.kind).toBe('applied');
    expect(ra2.status === 'fulfilled' && ra2.value.kind).toBe('applied');
    const credit = rb({ raceId: 'rb', userId: a, tickets: tickets('rb', a, 2) }).cashDelta + rc({ raceId: 'rc', userId: a, tickets: tickets('rc', a, 2) }).cashDelta;
    expect((await store.readback.balances(a))?.cash).toBe((before?.cash ?? NaN) + credit);
    expect((await store.readTickets(b, 'rb')).every((t) => t.status === 'open')).toBe(true);
  });

  it('counts concurrent post-settled marks once per user and grants concurrent bonuses once per id', async () => {
    const counts = await Promise.all([...users, ...users].map((u) => store.markPostSettled('rm', u)));
    expect(Math.max(...counts)).toBe(USERS);
    expect(await store.markPostSettled('rm', users[0] as string)).toBe(USERS);
    const bonus = (u: string): Bonus => ({ bonusId: `bonus:first-hit:${u}`, userId: u, medals: 50, reason: 'first-hit' });
    const medalsBefore = await Promise.all(users.map(async (u) => (await store.readback.balances(u))?.medals ?? NaN));
    const granted = await Promise.all([...users, ...users].map((u) => store.grantBonuses([bonus(u)])));
    expect(granted.flat().sort()).toEqual(users.map((u) => bonus(u).bonusId).sort());
    const medalsAfter = await Promise.all(users.map(async (u) => (await store.readback.balances(u))?.medals ?? NaN));
    expect(medalsAfter).toEqual(medalsBefore.map((m) => m + 50));
  });

  it('fails only the user whose commit fails when a group commit fails at commit time', async () => {
    const group = users.slice(10, 16);
    const poisoned = group[2] as string;
    const settle = await openRace(store, 'rf', group.flatMap((u) => tickets('rf', u, 2)));
    // A Settlements row for (poisoned, rf) while its tickets are still open: the settlement reads
    // the tickets as open, and its insert of the Settlements row fails at commit (ALREADY_EXISTS),
    // the backstop against a second settlement. That fails the whole group-committed transaction.
    const spanner = createSpannerClient(env.target);
    try {
      const db = spanner.instance(env.target.instanceId).database(store.databaseIds[0] as string);
      await db.table('Settlements').insert([{ UserId: poisoned, RaceId: 'rf', SettlementId: 'stray', ResultVersion: 1, CashDelta: 0, MedalDelta: 0, Hits: 0, TrifectaHits: 0, SettledAt: new Date() }]);
      await db.close();
    } finally {
      spanner.close();
    }
    const before = await Promise.all(group.map((u) => store.readback.balances(u)));
    const results = await Promise.allSettled(group.map((u) => store.settleUser('rf', u, 1, settle)));
    results.forEach((r, i) => {
      if (group[i] === poisoned) expect(r.status === 'rejected' && String(r.reason)).toMatch(/ALREADY_EXISTS|already exists/i);
      else expect(r.status === 'fulfilled' && r.value.kind, `${group[i]}: ${r.status === 'rejected' ? String(r.reason) : ''}`).toBe('applied');
    });
    for (const [i, u] of group.entries()) {
      const delta = u === poisoned ? 0 : settle({ raceId: 'rf', userId: u, tickets: tickets('rf', u, 2) }).cashDelta;
      expect((await store.readback.balances(u))?.cash).toBe((before[i]?.cash ?? NaN) + delta);
    }
    expect((await store.readTickets(poisoned, 'rf')).every((t) => t.status === 'open')).toBe(true);
  });
});
