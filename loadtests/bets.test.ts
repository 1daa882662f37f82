// Runs the deadline rush (autocannon, a few hundred placeBet requests ramping to the race's close)
// against the real gateway (GraphQL over HTTP) on a memory store, and proves the verification: accepted
// and refused bets reconcile with the Store, and a Store that lost an accepted bet, or kept a refused
// one, is caught.
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../backends/memory/index.ts';
import { signToken } from '../gateway/auth.ts';
import { ticketIdFor } from '../gateway/place-bet.ts';
import { startGateway } from '../gateway/server.ts';
import { runBets, verifyBets } from './bets.ts';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';

describe('load bets (deadline rush)', () => {
  it('accepted and refused bets reconcile with the Store, and a tampered Store is caught', async () => {
    const store = createMemoryStore();
    const users = await Promise.all(Array.from({ length: 12 }, async (_, i) => ({ userId: `b${i}`, token: await signToken(`b${i}`, SECRET, 600) })));
    // Two users can afford only a few bets: BET.INSUFFICIENT_BALANCE must show up and debit nothing.
    const opening = new Map(users.map((u, i) => [u.userId, i < 2 ? 300 : 100_000]));
    await store.putUsers(users.map((u) => ({ userId: u.userId, cash: opening.get(u.userId) as number, medals: 0 })));
    const closeAtMs = Date.now() + 2_500;
    await store.putRace({ raceId: 'rush1', sport: 'keirin', riders: 7, closeAtMs, postAtMs: closeAtMs + 60_000 });
    const server = await startGateway({ store, secret: SECRET, log: () => {} });
    try {
      const { report, records } = await runBets({
        graphqlUrl: server.url, users, raceId: 'rush1', riders: 7, closeAtMs,
        rampMs: 2_000, stages: 2, rateStartPerSecond: 40, ratePeakPerSecond: 120, afterCloseMs: 1_000, connections: 8,
      });
      expect(report.requests).toBeGreaterThan(100);
      expect(report.accepted).toBeGreaterThan(20);
      expect(report.rejectedByCode['BET.COMBINATION_INVALID']).toBeGreaterThan(0);
      expect(report.rejectedByCode['BET.RACE_CLOSED']).toBeGreaterThan(0);
      expect(report.rejectedByCode['BET.INSUFFICIENT_BALANCE']).toBeGreaterThan(0);
      expect(report.indeterminate).toBe(0);
      // Retries carry an earlier key: accepted again with the same ticket, debited once.
      expect(report.acceptedDistinctTickets).toBeLessThan(report.accepted);
      expect(report.latencyMs.count).toBe(report.requests);
      const readback = store.readback;
      if (readback === undefined) throw new Error('memory store has a readback');
      const good = await verifyBets(records, readback, 'rush1', opening);
      expect(good.firstProblem ?? 'none').toBe('none');
      expect(good).toMatchObject({ ok: true, acceptedMissing: 0, rejectedLeftTicket: 0, balanceMismatches: 0, usersChecked: 12 });

      // A Store that lost one accepted ticket, or that holds a refused request's ticket, fails the check.
      const acceptedId = records.find((r) => r.outcome.kind === 'accepted')?.outcome;
      const refused = records.find((r) => r.outcome.kind === 'rejected' && r.outcome.code === 'BET.COMBINATION_INVALID');
      if (acceptedId?.kind !== 'accepted' || refused === undefined) throw new Error('the run has an accepted and a refused bet');
      const tampered = {
        balances: readback.balances.bind(readback),
        async *ticketsOfRace(raceId: string) {
          for await (const t of readback.ticketsOfRace(raceId)) if (t.ticketId !== acceptedId.ticketId) yield t;
          yield { ...refused.bet.input, ticketId: ticketIdFor(refused.bet.user.userId, refused.bet.idempotencyKey), userId: refused.bet.user.userId, betType: 'trifecta' as const, currency: 'cash' as const, status: 'open' as const, per100: 0, payout: 0 };
        },
      };
      const bad = await verifyBets(records, tampered, 'rush1', opening);
      expect(bad).toMatchObject({ ok: false, acceptedMissing: 1, rejectedLeftTicket: 1 });
      expect(bad.balanceMismatches).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });
  it('still rushes past the close when the ramp overran it', async () => {
    // The ramp's first bet is answered 1.3 s after the close: the ramp (a counted run) ends after
    // the rush past the close should have, and that rush must run all the same.
    const store = createMemoryStore();
    const users = await Promise.all(Array.from({ length: 4 }, async (_, i) => ({ userId: `s${i}`, token: await signToken(`s${i}`, SECRET, 600) })));
    await store.putUsers(users.map((u) => ({ userId: u.userId, cash: 100_000, medals: 0 })));
    const closeAtMs = Date.now() + 1_500;
    await store.putRace({ raceId: 'rush2', sport: 'keirin', riders: 7, closeAtMs, postAtMs: closeAtMs + 60_000 });
    let calls = 0;
    const slow: typeof store = Object.create(store) as typeof store;
    Object.assign(slow, {
      placeBet: async (bet: Parameters<typeof store.placeBet>[0]) => {
        if (calls++ === 0) await new Promise((r) => setTimeout(r, closeAtMs + 1_300 - Date.now()));
        return store.placeBet(bet);
      },
    });
    const server = await startGateway({ store: slow, secret: SECRET, log: () => {} });
    try {
      const { report } = await runBets({
        graphqlUrl: server.url, users, raceId: 'rush2', riders: 7, closeAtMs,
        rampMs: 1_000, stages: 1, rateStartPerSecond: 20, ratePeakPerSecond: 20, afterCloseMs: 500, connections: 20,
      });
      expect(report.accepted).toBeGreaterThan(5);
      expect(report.rejectedByCode['BET.RACE_CLOSED'] ?? 0).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });
});
