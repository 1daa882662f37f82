// The in-process Store: columnar tickets (columns.ts), a per-race index (race-index.ts), users in
// typed arrays, and Spanner-like transactions. A read-write transaction reads and computes, then
// yields (other transactions interleave there, like concurrent Spanner transactions), then
// commits only if no user it read was written meanwhile; otherwise it aborts and retries after a
// backoff on the clock, a bounded number of times. Aborts can also be injected from the rng.
//
// This file assembles the port from its parts, all over one shared state (store-state.ts): bets
// and balances (store-bets.ts), settlement (store-settle.ts), the services' reads
// (store-queries.ts) and the checkers' read-back (store-readback.ts); the race-level records
// (race info, outcome, post-settlement, ranking, fan-out) are small enough to stay here.
import { RANKING_CLAIM_LEASE_MS } from '../../core/ranking.ts';
import { BET_TYPES } from '../../core/sports.ts';
import { cashPoolsOf, type RaceState } from './race-index.ts';
import { createBetMethods } from './store-bets.ts';
import { createDayProgressMethod } from './store-missions.ts';
import { createNotificationLog } from './store-notifications.ts';
import { createQueryMethods } from './store-queries.ts';
import { createReadback } from './store-readback.ts';
import { createSettlementMethods } from './store-settle.ts';
import { createStoreState } from './store-state.ts';
import type { MemoryStore, MemoryStoreOptions } from './store-types.ts';

export { TRANSACTION_ABORTED } from './store-types.ts';
export type { ColumnSettlement, ColumnSettleResult, MemoryStore, MemoryStoreOptions, MemoryStoreStats, StoreFaults, TicketColumnBatch } from './store-types.ts';

export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const state = createStoreState(options);
  const { clock, table, userIds, cash, medals, initialCash, initialMedals, ledger, ledgerLog, races, granted, grantApplications, counters, userIdx, raceOf, indexOf, ticketOf } = state;
  const bets = createBetMethods(state);
  const settlement = createSettlementMethods(state);
  const queries = createQueryMethods(state);
  const notifications = createNotificationLog(options.notificationLog ?? true);

  // The methods are listed one by one (not spread) so the port reads as one table here.
  const store: MemoryStore = {
    putUsers: bets.putUsers,
    async putRace(race) {
      (raceOf(race.raceId, true) as RaceState).info = race;
    },
    async getRace(raceId) {
      return races.get(raceId)?.info;
    },
    placeBet: bets.placeBet,
    loadTickets: bets.loadTickets,
    loadTicketColumns: bets.loadTicketColumns,
    userIndexOf: (userId) => userIdx(userId, false),
    ledgerEntries: (userId) => [...(ledgerLog.get(userIdx(userId, false)) ?? [])],
    indexRace(raceId) {
      const race = races.get(raceId);
      if (race !== undefined) indexOf(race);
    },
    async recordOutcome(outcome) {
      // First wins: the first official result recorded fixes the race's payouts (result finality).
      const race = raceOf(outcome.raceId, true) as RaceState;
      if (race.outcome !== undefined) return false;
      race.outcome = outcome;
      return true;
    },
    async getOutcome(raceId) {
      return races.get(raceId)?.outcome;
    },
    pageUsersWithOpenTickets: queries.pageUsersWithOpenTickets,
    countUsersWithOpenTickets: queries.countUsersWithOpenTickets,
    settleUser: settlement.settleUser,
    settleUserColumns: settlement.settleUserColumns,
    grantBonuses: bets.grantBonuses,
    applyDayProgress: createDayProgressMethod(state, bets.grantPlan),
    async markPostSettled(raceId, userId) {
      const race = raceOf(raceId, true) as RaceState;
      // A `settled` message for a user the store never had is forged or misrouted: counting it
      // would let the ranking barrier pass early, so it is refused, as on Spanner.
      const u = userIdx(userId, false);
      if (u < 0) throw new Error(`markPostSettled: user ${userId} is not known [USER.UNKNOWN]`);
      race.postSettled.add(u);
      race.terminal.add(u);
      return race.terminal.size;
    },
    async markDeadLettered(raceId, userId, reason) {
      const race = raceOf(raceId, true) as RaceState;
      const u = userIdx(userId, false);
      if (u < 0) throw new Error(`markDeadLettered: user ${userId} is not known [USER.UNKNOWN]`);
      if (!race.deadLettered.has(u)) race.deadLettered.set(u, reason);
      race.terminal.add(u);
      return race.terminal.size;
    },
    async deadLetteredUsers(raceId) {
      const race = races.get(raceId);
      if (race === undefined) return [];
      return [...race.deadLettered].map(([u, reason]) => ({ userId: userIds[u] as string, reason })).sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
    },
    async claimRanking(raceId, claimant) {
      const race = raceOf(raceId, true) as RaceState;
      const held = race.ranking;
      const now = clock.nowMs();
      if (held === undefined) {
        race.ranking = { raceId, claimedAtMs: now, postSettledUsers: race.terminal.size };
        race.rankingClaimant = claimant;
        return true;
      }
      if (held.publishedAtMs !== undefined) return false;
      const h = race.rankingClaimant;
      const redelivered = claimant !== undefined && h !== undefined && h.id === claimant.id && claimant.attempt > h.attempt;
      // A lease: an unpublished claim this old is taken over (its claimant presumably died after claiming).
      if (!redelivered && now - held.claimedAtMs < RANKING_CLAIM_LEASE_MS) return false;
      race.ranking = { ...held, claimedAtMs: now };
      race.rankingClaimant = claimant;
      return true;
    },
    async markRankingPublished(raceId) {
      const race = raceOf(raceId, true) as RaceState;
      const held = race.ranking;
      if (held === undefined) throw new Error(`invariant violated: markRankingPublished: the ranking of ${raceId} was never claimed`);
      if (held.publishedAtMs === undefined) race.ranking = { ...held, publishedAtMs: clock.nowMs() };
    },
    async rankingClaim(raceId) {
      const race = races.get(raceId);
      if (race?.ranking === undefined) return undefined;
      return { claimant: race.rankingClaimant, published: race.ranking.publishedAtMs !== undefined };
    },
    async cashPools(raceId) {
      const race = races.get(raceId);
      return race === undefined ? {} : cashPoolsOf(race, BET_TYPES);
    },
    async recordFanoutUsers(raceId, users) {
      const race = raceOf(raceId, true) as RaceState;
      race.fanoutUsers ??= users;
      return race.fanoutUsers;
    },
    async fanoutUsers(raceId) {
      return races.get(raceId)?.fanoutUsers;
    },
    getSettlementTotals: queries.getSettlementTotals,
    pageSettlementTotals: queries.pageSettlementTotals,
    unrankedRaces: queries.unrankedRaces,
    racesRankedSince: queries.racesRankedSince,
    terminalUserCount: queries.terminalUserCount,
    pageTerminalUsers: queries.pageTerminalUsers,
    appendNotifications: notifications.appendNotifications,
    notificationsAfter: notifications.notificationsAfter,
    notificationsLogged: notifications.notificationsLogged,
    readOutbox: queries.readOutbox,
    deleteOutbox: queries.deleteOutbox,
    stats: () => ({
      transactionsCommitted: counters.committed,
      transactionsAborted: counters.aborted,
      transactionsRetried: counters.retried,
      abortsInjected: counters.injected,
      abortsConflict: counters.conflicts,
      settlementsApplied: counters.applied,
      settlementsDuplicate: counters.duplicate,
      tickets: table.count,
      users: userIds.length,
    }),
    readback: createReadback({ table, userIds, userIdx: (id) => userIdx(id, false), cash, medals, initialCash, initialMedals, ledger, races, indexOf, granted, grantApplications, ticketOf }),
    async close() {},
  };
  return store;
}
