// Rows of schema.sql as TypeScript sees them, conversions to and from the domain types, the
// shard function, batching limits, and the assertions made on both sides of every write.
import type { UserAccount } from '../../core/ports.ts';
import { invariant } from '../../core/result.ts';
import { isBetType } from '../../core/sports.ts';
import { STAKE_UNIT, type Currency, type Ticket, type TicketStatus } from '../../core/ticket.ts';

export const STORE_LIMITS = {
  /**
   * Cells (columns x rows, index entries included) per bulk commit. Spanner allows 80,000
   * mutations per commit; half of that keeps each emulator commit short (under a second) so a
   * bulk load does not starve settlement transactions of the same shard for long.
   */
  cellsPerCommitMax: 40_000,
  /**
   * Index rows fetched per read when paging users with open tickets (a user has several rows).
   * The emulator's cost of a read grows with the rest of the range, not with the limit, so fewer,
   * larger reads walk a race faster: 10,000 users of 5 tickets took 3.9 s at 2,000 rows a read and
   * 1.6 s at 10,000.
   */
  pageRowsPerRead: 25_000,
  /** Reads per shard for one page before giving up (a bug guard: each read advances the cursor). */
  pageReadsMax: 10_000,
  /** Identifiers stored in STRING(64) key columns. */
  idLengthMax: 64,
} as const;

/** Keys are compared in JS (merge across shards) and in Spanner (UTF-8 bytes): printable ASCII agrees in both. */
const ID = /^[\x21-\x7e]+$/;

/**
 * Like core's `invariant`, but the message is built only on failure: these checks run for every
 * row read or written, and eager template strings showed up in the settlement loop's profile.
 */
export function check(condition: boolean, message: () => string): asserts condition {
  if (!condition) invariant(false, message());
}

export function assertId(kind: string, id: string): void {
  check(typeof id === 'string' && id.length > 0 && id.length <= STORE_LIMITS.idLengthMax && ID.test(id), () => `${kind} ${JSON.stringify(id)} must be 1..${STORE_LIMITS.idLengthMax} printable ASCII characters`);
}

export function assertAmount(kind: string, n: number): void {
  check(Number.isSafeInteger(n) && n >= 0, () => `${kind} must be a non-negative safe integer, got ${n}`);
}

/** FNV-1a over UTF-16 code units: stable across processes and versions, so a user never moves shard. */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h % shards;
}

/** Splits rows into commits that stay under the cell budget. */
export function batchesOf<T>(rows: readonly T[], cellsPerRow: number): T[][] {
  const size = Math.max(1, Math.floor(STORE_LIMITS.cellsPerCommitMax / cellsPerRow));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

export function groupByShard<T>(items: readonly T[], keyOf: (item: T) => string, shards: number): T[][] {
  const groups: T[][] = Array.from({ length: shards }, () => []);
  for (const item of items) (groups[shardOf(keyOf(item), shards)] as T[]).push(item);
  return groups;
}

// ---------------------------------------------------------------------------------------------
// Users

export interface UserRow {
  UserId: string;
  CashYen: number;
  Medals: number;
}
/** The balance columns every transaction reads; the opening balances are written once by putUsers. */
export const USER_COLUMNS = ['UserId', 'CashYen', 'Medals'];

export interface NewUserRow extends UserRow {
  InitialCashYen: number;
  InitialMedals: number;
}
export const NEW_USER_CELLS = 5;

export function newUserRow(u: UserAccount): NewUserRow {
  assertId('userId', u.userId);
  assertAmount(`cash of ${u.userId}`, u.cash);
  assertAmount(`medals of ${u.userId}`, u.medals);
  return { UserId: u.userId, CashYen: u.cash, Medals: u.medals, InitialCashYen: u.cash, InitialMedals: u.medals };
}

export function userFromRow(row: UserRow): UserAccount {
  check(Number.isSafeInteger(row.CashYen) && row.CashYen >= 0 && Number.isSafeInteger(row.Medals) && row.Medals >= 0, () => `stored balances of ${row.UserId} are ${row.CashYen} yen / ${row.Medals} medals`);
  return { userId: row.UserId, cash: row.CashYen, medals: row.Medals };
}

// ---------------------------------------------------------------------------------------------
// Tickets

export interface TicketRow {
  UserId: string;
  RaceId: string;
  TicketId: string;
  BetType: string;
  Combination: string;
  Stake: number;
  Currency: string;
  Status: string;
  Per100: number | null;
  Payout: number | null;
  SettlementId: string | null;
  OpenRaceId: string | null;
}
export const TICKET_COLUMNS = ['UserId', 'RaceId', 'TicketId', 'BetType', 'Combination', 'Stake', 'Currency', 'Status', 'Per100', 'Payout', 'SettlementId', 'OpenRaceId'];
/** Columns plus the one index entry an open ticket adds: what one inserted ticket costs in cells. */
export const TICKET_CELLS = TICKET_COLUMNS.length + 1;

const STATUSES: readonly TicketStatus[] = ['open', 'won', 'lost', 'refunded', 'special'];

export function isCurrency(c: unknown): c is Currency {
  return c === 'cash' || c === 'medal';
}

/** Checks what the schema cannot: a ticket's stake unit, currency and bet type. */
export function assertTicket(t: Ticket): void {
  assertId('ticketId', t.ticketId);
  assertId('userId', t.userId);
  assertId('raceId', t.raceId);
  check(isBetType(t.betType), () => `ticket ${t.ticketId}: bet type ${JSON.stringify(t.betType)} unknown`);
  check(isCurrency(t.currency), () => `ticket ${t.ticketId}: currency ${JSON.stringify(t.currency)} unknown`);
  check(Number.isSafeInteger(t.stake) && t.stake > 0 && t.stake % STAKE_UNIT === 0, () => `ticket ${t.ticketId}: stake ${t.stake} is not a positive multiple of ${STAKE_UNIT}`);
}

export function openTicketRow(t: Ticket): TicketRow {
  assertTicket(t);
  return {
    UserId: t.userId,
    RaceId: t.raceId,
    TicketId: t.ticketId,
    BetType: t.betType,
    Combination: t.combination,
    Stake: t.stake,
    Currency: t.currency,
    Status: 'open',
    Per100: null,
    Payout: null,
    SettlementId: null,
    OpenRaceId: t.raceId,
  };
}

export function ticketFromRow(row: TicketRow): Ticket {
  const t: Ticket = {
    ticketId: row.TicketId,
    userId: row.UserId,
    raceId: row.RaceId,
    betType: row.BetType as Ticket['betType'],
    combination: row.Combination,
    stake: row.Stake,
    currency: row.Currency as Currency,
  };
  assertTicket(t);
  return t;
}

/** A ticket as the checkers see it: its settled state next to the ticket itself. */
export interface TicketState extends Ticket {
  readonly status: TicketStatus;
  readonly per100: number | undefined;
  readonly payout: number | undefined;
  readonly settlementId: string | undefined;
}

export function ticketStateFromRow(row: TicketRow): TicketState {
  const status = row.Status as TicketStatus;
  check(STATUSES.includes(status), () => `ticket ${row.TicketId}: stored status ${JSON.stringify(row.Status)} unknown`);
  const open = status === 'open';
  // Open iff OpenRaceId is set and nothing is paid yet: the index and the status never disagree.
  check(open === (row.OpenRaceId !== null), () => `ticket ${row.TicketId}: status ${status} but OpenRaceId ${row.OpenRaceId}`);
  check(row.OpenRaceId === null || row.OpenRaceId === row.RaceId, () => `ticket ${row.TicketId}: OpenRaceId ${row.OpenRaceId} is not its race ${row.RaceId}`);
  check(open === (row.Payout === null), () => `ticket ${row.TicketId}: status ${status} with payout ${row.Payout}`);
  check(row.Payout === null || (Number.isSafeInteger(row.Payout) && row.Payout >= 0), () => `payout of ticket ${row.TicketId} is ${row.Payout}`);
  return {
    ...ticketFromRow(row),
    status,
    per100: row.Per100 ?? undefined,
    payout: row.Payout ?? undefined,
    settlementId: row.SettlementId ?? undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Ledger

export interface LedgerRow {
  UserId: string;
  EntryId: string;
  Currency: string;
  Amount: number;
  Reason: string;
  Ref: string;
}
export const LEDGER_COLUMNS = ['UserId', 'EntryId', 'Currency', 'Amount', 'Reason', 'Ref'];

/** A settlement marker row (table Settlements): what one applied settlement credited. */
export interface MarkerRow {
  UserId: string;
  RaceId: string;
  SettlementId: string;
  ResultVersion: number;
  CashDelta: number;
  MedalDelta: number;
  Hits: number;
  TrifectaHits: number;
}
export const MARKER_COLUMNS = ['UserId', 'RaceId', 'SettlementId', 'ResultVersion', 'CashDelta', 'MedalDelta', 'Hits', 'TrifectaHits'];
