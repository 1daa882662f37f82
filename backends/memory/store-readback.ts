// Read-backs of the memory store for invariant checkers: balances, tickets with their settlement
// state, markers, ledger totals, bonuses and ranking claims. Built from the columns on demand.
import type { Bonus, GrantedBonus, LedgerTotals, RankingClaim, SettlementMarker, StoredTicket, StoredTicketChunk, StoreReadback, UserAccount } from '../../core/ports.ts';
import { settlementIdOf, type LedgerReason } from '../../core/settlement-record.ts';
import type { Ticket } from '../../core/ticket.ts';
import { STAKE_UNIT } from '../../core/ticket.ts';
import { TICKET_STATUS, type GrowArray, type TicketTable } from './columns.ts';
import type { RaceIndex, RaceState } from './race-index.ts';
import { LEDGER_REASONS, LEDGER_SLOTS } from './store-state.ts';

export interface ReadbackSources {
  readonly table: TicketTable;
  readonly userIds: readonly string[];
  userIdx(userId: string): number;
  readonly cash: GrowArray<Float64Array>;
  readonly medals: GrowArray<Float64Array>;
  readonly initialCash: GrowArray<Float64Array>;
  readonly initialMedals: GrowArray<Float64Array>;
  /** Per user 10 slots: cash stake, payout, refund, special, bonus, then the same in medals. */
  readonly ledger: GrowArray<Float64Array>;
  readonly races: ReadonlyMap<string, RaceState>;
  indexOf(race: RaceState): RaceIndex;
  readonly granted: ReadonlyMap<string, Bonus>;
  readonly grantApplications: ReadonlyMap<string, number>;
  ticketOf(row: number, userId: string, raceId: string): Ticket;
}

/** Tickets per chunk of ticketChunksOfRace. */
const CHUNK_TICKETS = 65_536;

/**
 * The race's rows copied out of the columns a chunk at a time into one set of arrays, reused for
 * every chunk (a chunk is valid until the next is asked for): 20,000,000 tickets read back without
 * hundreds of megabytes of short-lived buffers.
 */
async function* ticketChunks(src: ReadbackSources, race: RaceState): AsyncGenerator<StoredTicketChunk> {
  const t = src.table;
  const size = Math.min(CHUNK_TICKETS, race.ticketCount);
  const cols = {
    user: new Uint32Array(size),
    betType: new Uint8Array(size),
    comboCode: new Uint16Array(size),
    stakeUnits: new Uint32Array(size),
    currency: new Uint8Array(size),
    status: new Uint8Array(size),
    per100: new Uint32Array(size),
  };
  for (let from = 0; from < race.ticketCount; from += CHUNK_TICKETS) {
    const n = Math.min(CHUNK_TICKETS, race.ticketCount - from);
    for (let i = 0; i < n; i++) {
      const row = race.tickets.data[from + i] as number;
      cols.user[i] = t.user.get(row);
      cols.betType[i] = t.betType.get(row);
      cols.comboCode[i] = t.comboCode.get(row);
      cols.stakeUnits[i] = t.stakeUnits.get(row);
      cols.currency[i] = t.currency.get(row);
      cols.status[i] = t.status.get(row);
      cols.per100[i] = t.per100.get(row);
    }
    yield { count: n, userIds: src.userIds, statusNames: TICKET_STATUS, ...cols };
  }
}

/** A ticket row with its status and payout, as the read-backs answer it. */
function storedTicket(src: ReadbackSources, row: number, userId: string, raceId: string): StoredTicket {
  const t = src.ticketOf(row, userId, raceId);
  const per100 = src.table.per100.get(row);
  return { ...t, status: TICKET_STATUS[src.table.status.get(row)] ?? 'open', per100, payout: (t.stake / STAKE_UNIT) * per100 };
}

export function createReadback(src: ReadbackSources): StoreReadback {
  const account = (u: number): UserAccount => ({ userId: src.userIds[u] as string, cash: src.cash.data[u] as number, medals: src.medals.data[u] as number });
  const totals = (u: number, offset: number): Record<LedgerReason, number> => {
    const out = {} as Record<LedgerReason, number>;
    LEDGER_REASONS.forEach((r, i) => (out[r] = src.ledger.data[u * LEDGER_SLOTS + offset + i] as number));
    return out;
  };
  return {
    async balances(userId) {
      const u = src.userIdx(userId);
      return u < 0 ? undefined : account(u);
    },
    async *users() {
      for (let u = 0; u < src.userIds.length; u++) yield account(u);
    },
    async *ticketsOfRace(raceId) {
      const race = src.races.get(raceId);
      if (race === undefined) return;
      for (let i = 0; i < race.ticketCount; i++) {
        const row = race.tickets.data[i] as number;
        yield storedTicket(src, row, src.userIds[src.table.user.get(row)] as string, raceId);
      }
    },
    async ticketsOfUser(userId, raceId) {
      const race = src.races.get(raceId);
      const u = src.userIdx(userId);
      if (race === undefined || u < 0) return [];
      const index = src.indexOf(race);
      const p = index.positionOfUser[u] ?? -1;
      if (p < 0) return [];
      const out: StoredTicket[] = [];
      for (let k = index.offsets[p] as number; k < (index.offsets[p + 1] as number); k++) out.push(storedTicket(src, index.tix[k] as number, userId, raceId));
      return out;
    },
    async *ticketChunksOfRace(raceId) {
      const race = src.races.get(raceId);
      if (race !== undefined) yield* ticketChunks(src, race);
    },
    async settlementMarkers(raceId) {
      const race = src.races.get(raceId);
      if (race === undefined) return [];
      const index = src.indexOf(race);
      const out: SettlementMarker[] = [];
      for (let p = 0; p < index.users.length; p++) {
        const v = index.marker[p] as number;
        if (v === 0) continue;
        const userId = src.userIds[index.users[p] as number] as string;
        out.push({ userId, settlementId: settlementIdOf(raceId, userId, v), resultVersion: v, applications: index.applications[p] as number });
      }
      return out;
    },
    async ledgerTotals(userId): Promise<LedgerTotals | undefined> {
      const u = src.userIdx(userId);
      if (u < 0) return undefined;
      return { userId, initialCash: src.initialCash.data[u] as number, initialMedals: src.initialMedals.data[u] as number, cash: totals(u, 0), medal: totals(u, 5) };
    },
    async bonuses() {
      return [...src.granted.values()].map((b): GrantedBonus => ({ ...b, applications: src.grantApplications.get(b.bonusId) ?? 0 }));
    },
    async rankingClaims() {
      const out: RankingClaim[] = [];
      for (const race of src.races.values()) if (race.ranking !== undefined) out.push(race.ranking);
      return out;
    },
  };
}
