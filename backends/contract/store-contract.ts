// The Store contract every backend must pass (memory, Spanner emulator, real Spanner): a vitest
// describe block in real time. Every test uses fresh ids (a nonce prefix), so it also runs
// against a shared database. The settlement function here is a small stand-in with the same
// shape as the core's (deterministic id, outcomes, ledger, deltas), so the suite tests the store.
import { describe, expect, it } from 'vitest';
import type { BetRequest, RaceInfo, Store, UserRaceTickets } from '../../core/ports.ts';
import type { Result } from '../../core/result.ts';
import { settlementIdOf, type LedgerEntry, type Settlement, type TicketOutcome } from '../../core/settlement-record.ts';
import type { Ticket } from '../../core/ticket.ts';
import { storeRunner, type StoreUnderTest } from './fresh-store.ts';

export type { StoreUnderTest } from './fresh-store.ts';

export interface StoreContractOptions {
  readonly testTimeoutMs?: number;
  /** Concurrent calls in the race-condition tests. */
  readonly concurrency?: number;
}


/** The winning combination and its per100 in the stand-in settlement. */
export const CONTRACT_WINNER = '1-2-3';
export const CONTRACT_PER100 = 250;

/** Stand-in settlement: trifecta `1-2-3` wins at 250 per 100, everything else loses. */
export function contractSettlement(resultVersion: number): (input: UserRaceTickets) => Settlement {
  return ({ raceId, userId, tickets }) => {
    const settlementId = settlementIdOf(raceId, userId, resultVersion);
    const outcomes: TicketOutcome[] = [];
    const ledger: LedgerEntry[] = [];
    let cashDelta = 0;
    let medalDelta = 0;
    let hits = 0;
    for (const t of tickets) {
      const won = t.betType === 'trifecta' && t.combination === CONTRACT_WINNER;
      const per100 = won ? CONTRACT_PER100 : 0;
      const payout = (t.stake / 100) * per100;
      outcomes.push({ ticketId: t.ticketId, status: won ? 'won' : 'lost', per100, payout, currency: t.currency, betType: t.betType });
      if (won) {
        hits++;
        ledger.push({ userId, currency: t.currency, amount: payout, reason: 'payout', ref: t.ticketId });
        if (t.currency === 'cash') cashDelta += payout;
        else medalDelta += payout;
      }
    }
    return { settlementId, raceId, userId, resultVersion, outcomes, ledger, cashDelta, medalDelta, hits };
  };
}

function raceInfo(raceId: string): RaceInfo {
  const now = Date.now();
  return { raceId, sport: 'keirin', riders: 9, closeAtMs: now + 3_600_000, postAtMs: now + 3_700_000 };
}

function bet(p: string, n: number, userId: string, raceId: string, combination: string, stake: number, currency: Ticket['currency'] = 'cash'): BetRequest {
  return { ticketId: `${p}T${n}`, userId, raceId, betType: 'trifecta', combination, stake, currency };
}

function expectOk<T>(r: Result<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

export function describeStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>, opts: StoreContractOptions = {}): void {
  const timeout = opts.testTimeoutMs ?? 30_000;
  const concurrency = opts.concurrency ?? 8;
  const withStore = storeRunner(makeStore, 'c');

  describe(`Store contract: ${name}`, () => {
    it('places concurrent bets atomically with the balance check (never overdraws)', () =>
      withStore(async (store, p) => {
        const userId = `${p}u`;
        const raceId = `${p}r`;
        await store.putUsers([{ userId, cash: 1000, medals: 300 }]);
        await store.putRace(raceInfo(raceId));
        const bets = Array.from({ length: 2 * concurrency + 4 }, (_, i) => bet(p, i, userId, raceId, '1-2-3', 100));
        const results = await Promise.all(bets.map((b) => store.placeBet(b)));
        const okCount = results.filter((r) => r.ok).length;
        expect(okCount).toBe(Math.min(10, bets.length));
        for (const r of results) if (!r.ok) expect(r.error.code).toBe('BET.INSUFFICIENT_BALANCE');
        const medal = await Promise.all([0, 1, 2, 3].map((i) => store.placeBet(bet(p, 100 + i, userId, raceId, '3-2-1', 100, 'medal'))));
        expect(medal.filter((r) => r.ok).length).toBe(3);
        if (store.readback !== undefined) expect(await store.readback.balances(userId)).toEqual({ userId, cash: 0, medals: 0 });
      }), timeout);

    it('rejects invalid bets with stable error codes', () =>
      withStore(async (store, p) => {
        const userId = `${p}u`;
        const raceId = `${p}r`;
        await store.putUsers([{ userId, cash: 1000, medals: 0 }]);
        await store.putRace(raceInfo(raceId));
        const badCombo = await store.placeBet(bet(p, 1, userId, raceId, '1-1-3', 100));
        const badStake = await store.placeBet(bet(p, 2, userId, raceId, '1-2-3', 150));
        const unknownRace = await store.placeBet(bet(p, 3, userId, `${p}nope`, '1-2-3', 100));
        expect(badCombo.ok ? 'ok' : badCombo.error.code).toBe('BET.COMBINATION_INVALID');
        expect(badStake.ok ? 'ok' : badStake.error.code).toBe('BET.STAKE_INVALID');
        expect(unknownRace.ok ? 'ok' : unknownRace.error.code).toBe('RACE.UNKNOWN');
        if (store.readback !== undefined) expect((await store.readback.balances(userId))?.cash).toBe(1000);
      }), timeout);

    it('refuses loaded tickets of unknown users or impossible combinations, and post-settle marks of unknown users', () =>
      withStore(async (store, p) => {
        const userId = `${p}u`;
        const raceId = `${p}r`;
        await store.putUsers([{ userId, cash: 0, medals: 0 }]);
        await store.putRace(raceInfo(raceId));
        const ticket = (n: number, owner: string, combination: string): Ticket => ({ ticketId: `${p}L${n}`, userId: owner, raceId, betType: 'trifecta', combination, stake: 100, currency: 'cash' });
        await expect(store.loadTickets([ticket(1, `${p}ghost`, '1-2-3')])).rejects.toThrow(/user \S+ghost is not known.*\[USER\.UNKNOWN\]/);
        await expect(store.loadTickets([ticket(2, userId, '1-1-3')])).rejects.toThrow(/ticket \S+L2: .*\[BET\.COMBINATION_INVALID\]/);
        await expect(store.loadTickets([ticket(3, userId, '1-2-x')])).rejects.toThrow(/\[BET\.COMBINATION_INVALID\]/);
        expect(await store.pageUsersWithOpenTickets(raceId, undefined, 5)).toEqual([]);
        // A forged `settled` for a user the store never had must not count toward the barrier.
        await expect(store.markPostSettled(raceId, `${p}ghost`)).rejects.toThrow(/\[USER\.UNKNOWN\]/);
        expect(await store.markPostSettled(raceId, userId)).toBe(1);
        await store.loadTickets([ticket(4, userId, '1-2-3')]);
        expect(await store.pageUsersWithOpenTickets(raceId, undefined, 5)).toEqual([userId]);
      }), timeout);

    it('settles a user exactly once under concurrent duplicate settleUser calls', () =>
      withStore(async (store, p) => {
        const userId = `${p}u`;
        const raceId = `${p}r`;
        await store.putUsers([{ userId, cash: 10_000, medals: 1_000 }]);
        await store.putRace(raceInfo(raceId));
        expectOk(await store.placeBet(bet(p, 1, userId, raceId, '1-2-3', 200)));
        expectOk(await store.placeBet(bet(p, 2, userId, raceId, '3-2-1', 300)));
        expectOk(await store.placeBet(bet(p, 3, userId, raceId, '1-2-3', 400, 'medal')));
        const compute = contractSettlement(1);
        const results = await Promise.all(Array.from({ length: concurrency }, () => store.settleUser(raceId, userId, 1, compute)));
        const applied = results.filter((r) => r.kind === 'applied');
        expect(applied).toHaveLength(1);
        for (const r of results) if (r.kind !== 'applied') expect(r).toEqual({ kind: 'duplicate', settlementId: settlementIdOf(raceId, userId, 1) });
        expect(await store.settleUser(raceId, userId, 1, compute)).toEqual({ kind: 'duplicate', settlementId: settlementIdOf(raceId, userId, 1) });
        expect(await store.pageUsersWithOpenTickets(raceId, undefined, 10)).toEqual([]);
        const rb = store.readback;
        if (rb === undefined) return;
        // 10,000 - 500 staked + 200 x 2.5 won; medals 1,000 - 400 + 400 x 2.5.
        expect(await rb.balances(userId)).toEqual({ userId, cash: 10_000 - 500 + 500, medals: 1_000 - 400 + 1_000 });
        const markers = await rb.settlementMarkers(raceId);
        expect(markers.map((m) => [m.userId, m.resultVersion, m.applications ?? 1])).toEqual([[userId, 1, 1]]);
        const tickets: { ticketId: string; status: string; payout: number }[] = [];
        for await (const t of rb.ticketsOfRace(raceId)) tickets.push({ ticketId: t.ticketId, status: t.status, payout: t.payout });
        tickets.sort((a, b) => (a.ticketId < b.ticketId ? -1 : 1));
        expect(tickets).toEqual([
          { ticketId: `${p}T1`, status: 'won', payout: 500 },
          { ticketId: `${p}T2`, status: 'lost', payout: 0 },
          { ticketId: `${p}T3`, status: 'won', payout: 1000 },
        ]);
      }), timeout);

    it("reads one user's tickets in one race by key: that user's, that race's, with status and payout", () =>
      withStore(async (store, p) => {
        const rb = store.readback;
        if (rb === undefined) return;
        const [a, b] = [`${p}uA`, `${p}uB`];
        const [race, other] = [`${p}r`, `${p}r2`];
        await store.putUsers([a, b].map((userId) => ({ userId, cash: 10_000, medals: 1_000 })));
        await Promise.all([store.putRace(raceInfo(race)), store.putRace(raceInfo(other))]);
        expectOk(await store.placeBet(bet(p, 1, a, race, '1-2-3', 200)));
        expectOk(await store.placeBet(bet(p, 2, a, race, '3-2-1', 300)));
        expectOk(await store.placeBet(bet(p, 3, b, race, '1-2-3', 100)));
        expectOk(await store.placeBet(bet(p, 4, a, other, '1-2-3', 100)));
        expect((await store.settleUser(race, a, 1, contractSettlement(1))).kind).toBe('applied');
        const mine = (await rb.ticketsOfUser(a, race)).map((t) => [t.ticketId, t.userId, t.raceId, t.status, t.payout]).sort();
        expect(mine).toEqual([
          [`${p}T1`, a, race, 'won', 500],
          [`${p}T2`, a, race, 'lost', 0],
        ]);
        expect((await rb.ticketsOfUser(b, race)).map((t) => [t.ticketId, t.status, t.payout])).toEqual([[`${p}T3`, 'open', 0]]);
        expect((await rb.ticketsOfUser(a, other)).map((t) => t.ticketId)).toEqual([`${p}T4`]);
        // The same rows the race's walk holds for that user.
        const walked: string[] = [];
        for await (const t of rb.ticketsOfRace(race)) if (t.userId === a) walked.push(t.ticketId);
        expect(walked.sort()).toEqual(mine.map((m) => m[0]));
        expect(await rb.ticketsOfUser(`${p}ghost`, race)).toEqual([]);
        expect(await rb.ticketsOfUser(a, `${p}nowhere`)).toEqual([]);
      }), timeout);

    it('pages users with open tickets in ascending id strictly after the cursor', () =>
      withStore(async (store, p) => {
        const raceA = `${p}rA`;
        const raceB = `${p}rB`;
        const users = Array.from({ length: 23 }, (_, i) => `${p}u${String(i).padStart(3, '0')}`);
        const onlyB = [`${p}u050`, `${p}u051`];
        await store.putUsers([...users, ...onlyB].map((userId) => ({ userId, cash: 1_000, medals: 0 })));
        await Promise.all([store.putRace(raceInfo(raceA)), store.putRace(raceInfo(raceB))]);
        // Placed in scrambled order, so the store must sort rather than keep insertion order.
        const scrambled = users.map((u, i) => ({ u, k: (i * 7) % users.length })).sort((a, b) => a.k - b.k);
        for (const [i, { u }] of scrambled.entries()) expectOk(await store.placeBet(bet(p, i, u, raceA, '1-2-3', 100)));
        for (const [i, u] of onlyB.entries()) expectOk(await store.placeBet(bet(p, 100 + i, u, raceB, '1-2-3', 100)));
        const pageAll = async (): Promise<string[]> => {
          const out: string[] = [];
          let cursor: string | undefined;
          for (let guard = 0; guard < 100; guard++) {
            const page = await store.pageUsersWithOpenTickets(raceA, cursor, 5);
            expect(page.length).toBeLessThanOrEqual(5);
            for (const u of page) if (cursor !== undefined) expect(u > cursor).toBe(true);
            out.push(...page);
            if (page.length < 5) return out;
            cursor = page[page.length - 1];
          }
          throw new Error('paging did not end');
        };
        expect(await pageAll()).toEqual(users);
        expect(await store.pageUsersWithOpenTickets(raceA, `${p}u004x`, 2)).toEqual([`${p}u005`, `${p}u006`]);
        for (const u of users.slice(0, 6)) expect((await store.settleUser(raceA, u, 1, contractSettlement(1))).kind).toBe('applied');
        expect(await pageAll()).toEqual(users.slice(6));
        expect(await store.pageUsersWithOpenTickets(`${p}none`, undefined, 5)).toEqual([]);
      }), timeout);

    it('grants bonuses once by id, counts post-settled users once, and claims the ranking once', () =>
      withStore(async (store, p) => {
        const [u1, u2] = [`${p}u1`, `${p}u2`];
        const raceId = `${p}r`;
        await store.putUsers([u1, u2].map((userId) => ({ userId, cash: 0, medals: 10 })));
        const bonus = (id: string, userId: string) => ({ bonusId: `${p}${id}`, userId, medals: 5, reason: 'hit' });
        const grants = await Promise.all(Array.from({ length: concurrency }, () => store.grantBonuses([bonus('b1', u1), bonus('b2', u2)])));
        expect(grants.flat().sort()).toEqual([`${p}b1`, `${p}b2`]);
        expect(await store.grantBonuses([bonus('b1', u1)])).toEqual([]);
        expect(await store.markPostSettled(raceId, u1)).toBe(1);
        expect(await store.markPostSettled(raceId, u1)).toBe(1);
        expect(await store.markPostSettled(raceId, u2)).toBe(2);
        const claims = await Promise.all(Array.from({ length: concurrency }, () => store.claimRanking(raceId)));
        expect(claims.filter(Boolean)).toHaveLength(1);
        expect(await store.claimRanking(raceId)).toBe(false);
        if (store.readback !== undefined) {
          expect(await store.readback.balances(u1)).toEqual({ userId: u1, cash: 0, medals: 15 });
          const granted = (await store.readback.bonuses()).filter((b) => b.bonusId.startsWith(p));
          expect(granted.map((b) => b.bonusId).sort()).toEqual([`${p}b1`, `${p}b2`]);
          // Where a backend counts grant applications, each bonus was applied once.
          for (const b of granted) expect(b.applications ?? 1).toBe(1);
        }
      }), timeout);

    it('records an outcome once per result version', () =>
      withStore(async (store, p) => {
        const raceId = `${p}r`;
        await store.putRace(raceInfo(raceId));
        const outcome = { raceId, resultVersion: 1, resultJson: '{"status":"void"}', payoutTableJson: '{}', publishedAtMs: 1 };
        expect(await store.recordOutcome(outcome)).toBe(true);
        expect(await store.recordOutcome(outcome)).toBe(false);
        expect((await store.getOutcome(raceId))?.resultVersion).toBe(1);
        expect(await store.getRace(raceId)).toMatchObject({ raceId, sport: 'keirin', riders: 9 });
      }), timeout);

    it('counts a user terminal once, post-settled or dead-lettered, and lets only the claimant re-claim the ranking on a later attempt', () =>
      withStore(async (store, p) => {
        if (store.markDeadLettered === undefined || store.deadLetteredUsers === undefined) throw new Error('a backend the pipeline runs on must implement markDeadLettered and deadLetteredUsers');
        const raceId = `${p}rt`;
        const [u1, u2, u3] = [`${p}u1`, `${p}u2`, `${p}u3`];
        await store.putUsers([u1, u2, u3].map((userId) => ({ userId, cash: 0, medals: 0 })));
        expect(await store.markPostSettled(raceId, u1)).toBe(1);
        expect(await store.markDeadLettered(raceId, u2, 'BET.COMBINATION_INVALID: first')).toBe(2);
        expect(await store.markDeadLettered(raceId, u2, 'DELIVERY.ATTEMPTS_EXHAUSTED: second')).toBe(2);
        // Re-driven and settled later: still one terminal user.
        expect(await store.markPostSettled(raceId, u2)).toBe(2);
        const counts = await Promise.all(Array.from({ length: concurrency }, () => store.markDeadLettered?.(raceId, u3, 'BET.COMBINATION_INVALID: third')));
        expect(Math.max(...counts.map(Number))).toBe(3);
        expect(await store.deadLetteredUsers(raceId)).toEqual([
          { userId: u2, reason: 'BET.COMBINATION_INVALID: first' },
          { userId: u3, reason: 'BET.COMBINATION_INVALID: third' },
        ]);
        const claimant = { id: `${raceId}/${u3}`, attempt: 1 };
        const claims = await Promise.all(Array.from({ length: concurrency }, () => store.claimRanking(raceId, claimant)));
        expect(claims.filter(Boolean)).toHaveLength(1);
        expect(await store.claimRanking(raceId, claimant)).toBe(false);
        expect(await store.claimRanking(raceId, { id: `${raceId}/${u1}`, attempt: 2 })).toBe(false);
        expect(await store.claimRanking(raceId)).toBe(false);
        expect(await store.claimRanking(raceId, { ...claimant, attempt: 2 })).toBe(true);
        expect(await store.claimRanking(raceId, { ...claimant, attempt: 2 })).toBe(false);
        // Recorded published: the claimant's own later attempt is refused too (the lease ends there).
        if (store.markRankingPublished === undefined || store.rankingClaim === undefined) throw new Error('a backend the pipeline runs on must implement markRankingPublished and rankingClaim');
        expect(await store.rankingClaim(raceId)).toEqual({ claimant: { ...claimant, attempt: 2 }, published: false });
        await Promise.all(Array.from({ length: concurrency }, () => store.markRankingPublished?.(raceId)));
        expect(await store.rankingClaim(raceId)).toEqual({ claimant: { ...claimant, attempt: 2 }, published: true });
        expect(await store.claimRanking(raceId, { ...claimant, attempt: 3 })).toBe(false);
        if (store.readback !== undefined) expect((await store.readback.rankingClaims()).find((c) => c.raceId === raceId)?.postSettledUsers).toBe(3);
      }), timeout);

    it('keeps the first outcome of a race: concurrent different results, exactly one is recorded', () =>
      withStore(async (store, p) => {
        const raceId = `${p}rf`;
        await store.putRace(raceInfo(raceId));
        const base = { raceId, payoutTableJson: '{}', publishedAtMs: 1 };
        const candidates = [
          { ...base, resultVersion: 1, resultJson: '{"result":{"status":"void"},"scratched":[]}' },
          { ...base, resultVersion: 2, resultJson: '{"result":{"order":[[1]],"status":"official"},"scratched":[]}' },
          { ...base, resultVersion: 1, resultJson: '{"result":{"order":[[2]],"status":"official"},"scratched":[]}' },
        ];
        const answers = await Promise.all(candidates.map((c) => store.recordOutcome(c)));
        expect(answers.filter((a) => a)).toHaveLength(1);
        const winner = candidates[answers.indexOf(true)];
        expect(await store.getOutcome(raceId)).toEqual(winner);
        expect(await store.recordOutcome({ ...base, resultVersion: 3, resultJson: '{"result":{"order":[[3]],"status":"official"},"scratched":[]}' })).toBe(false);
        expect(await store.getOutcome(raceId)).toEqual(winner);
      }), timeout);
  });
}
