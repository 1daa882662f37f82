// The reads the services make of the memory store while settling a race: paging the users with
// open tickets (the fan-out), the settled totals per (race, user) (the `settled` messages are
// rebuilt from them), and the outbox. Checkers read through store-readback.ts instead.
import type { OutboxMessage, SettlementTotals } from '../../core/ports.ts';
import { invariant } from '../../core/result.ts';
import { settlementIdOf } from '../../core/settlement-record.ts';
import { positionAfter, positionOf, type RaceIndex, type RaceState } from './race-index.ts';
import type { StoreState } from './store-state.ts';
import type { MemoryStore } from './store-types.ts';

export type QueryMethods = Pick<MemoryStore, 'pageUsersWithOpenTickets' | 'countUsersWithOpenTickets' | 'getSettlementTotals' | 'pageSettlementTotals' | 'readOutbox' | 'deleteOutbox' | 'unrankedRaces' | 'racesRankedSince' | 'terminalUserCount' | 'pageTerminalUsers'>;

export function createQueryMethods(state: StoreState): QueryMethods {
  const { userIds, races, outbox, userIdx, indexOf } = state;

  const totalsAt = (race: RaceState, index: RaceIndex, p: number): SettlementTotals => {
    const userId = userIds[index.users[p] as number] as string;
    return {
      userId,
      settlementId: settlementIdOf(race.raceId, userId, index.marker[p] as number),
      cash: index.settledCash[p] as number,
      medals: index.settledMedals[p] as number,
      hits: index.settledHits[p] as number,
      trifectaHits: index.settledTrifectaHits[p] as number,
    };
  };

  /** Walks the race's users in id order after `afterUserId`, keeping up to `limit` of what `pick` returns. */
  const page = <T>(raceId: string, afterUserId: string | undefined, limit: number, pick: (race: RaceState, index: RaceIndex, p: number) => T | undefined): T[] => {
    invariant(Number.isInteger(limit) && limit >= 1, `limit must be an integer >= 1, got ${limit}`);
    const race = races.get(raceId);
    if (race === undefined) return [];
    const index = indexOf(race);
    const out: T[] = [];
    for (let p = positionAfter(index, userIds, afterUserId); p < index.users.length && out.length < limit; p++) {
      const item = pick(race, index, p);
      if (item !== undefined) out.push(item);
    }
    return out;
  };

  return {
    async pageUsersWithOpenTickets(raceId, afterUserId, limit) {
      return page(raceId, afterUserId, limit, (_race, index, p) => ((index.open[p] as number) > 0 ? (userIds[index.users[p] as number] as string) : undefined));
    },
    async countUsersWithOpenTickets(raceId) {
      const race = races.get(raceId);
      if (race === undefined) return 0;
      const index = indexOf(race);
      let users = 0;
      for (let p = 0; p < index.users.length; p++) if ((index.open[p] as number) > 0) users++;
      return users;
    },
    async getSettlementTotals(raceId, userId) {
      const race = races.get(raceId);
      const u = userIdx(userId, false);
      if (race === undefined || u < 0) return undefined;
      const index = indexOf(race);
      const p = positionOf(index, u);
      return p < 0 || index.marker[p] === 0 ? undefined : totalsAt(race, index, p);
    },
    async pageSettlementTotals(raceId, afterUserId, limit) {
      return page(raceId, afterUserId, limit, (race, index, p) => (index.marker[p] !== 0 ? totalsAt(race, index, p) : undefined));
    },
    async unrankedRaces(sinceMs) {
      const out: string[] = [];
      for (const race of races.values()) if (race.outcome !== undefined && race.outcome.publishedAtMs >= sinceMs && race.ranking?.publishedAtMs === undefined) out.push(race.raceId);
      return out.sort();
    },
    async racesRankedSince(sinceMs) {
      const out: string[] = [];
      for (const race of races.values()) if ((race.ranking?.publishedAtMs ?? Number.NEGATIVE_INFINITY) >= sinceMs) out.push(race.raceId);
      return out.sort();
    },
    async terminalUserCount(raceId) {
      return races.get(raceId)?.terminal.size ?? 0;
    },
    async pageTerminalUsers(raceId, afterUserId, limit) {
      return page(raceId, afterUserId, limit, (race, index, p) => {
        const u = index.users[p] as number;
        return race.terminal.has(u) ? (userIds[u] as string) : undefined;
      });
    },
    async readOutbox(limit) {
      const out: OutboxMessage[] = [];
      for (const m of outbox.values()) {
        if (out.length >= limit) break;
        out.push(m);
      }
      return out;
    },
    async deleteOutbox(ids) {
      for (const id of ids) outbox.delete(id);
    },
  };
}
