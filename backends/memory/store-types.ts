// The memory store's public types: options, faults, the bulk-load batch, stats, and the Store
// port with the optional methods the memory store always has.
import type { Clock, Rng, SettlementSummary, Store, StoreReadback, StoreStats, SummarySettleResult } from '../../core/ports.ts';
import type { LedgerEntry } from '../../core/settlement-record.ts';

export interface StoreFaults {
  /** Probability that a read-write transaction aborts at commit (it then retries). */
  readonly abortProbability?: number;
  /**
   * Deliberately broken exactly-once guard, for proving the checkers can fail: settleUser ignores
   * the marker and conflicts and re-settles already settled tickets.
   */
  readonly brokenExactlyOnce?: boolean;
  /**
   * Deliberately broken bonus guard, for proving the checkers can fail: grantBonuses grants ids
   * already granted again, and a race's day progress applied again re-grants its bonuses.
   */
  readonly brokenBonusOnce?: boolean;
}

export interface MemoryStoreOptions {
  readonly clock?: Clock;
  readonly rng?: Rng;
  readonly faults?: StoreFaults;
  /** Rows to reserve up front (a hint; storage grows in chunks anyway). */
  readonly capacityTickets?: number;
  /** Keep every ledger entry (checkers) or only per-user totals (scale). Default true. */
  readonly ledgerLog?: boolean;
  /** Keep every notification of the notification log (read back by recovery) or only their numbers (scale). Default true. */
  readonly notificationLog?: boolean;
  /** Attempts per transaction before it fails with TRANSACTION_ABORTED. Default 16. */
  readonly maxTransactionAttempts?: number;
  /** Virtual time between a transaction's reads and its commit; 0 = one microtask. */
  readonly transactionLatencyMs?: number;
  /** Races with at least this many tickets get their rows clustered by user when indexed. Default 65,536. */
  readonly clusterMinTickets?: number;
  /** Reject bets after the race's closeAtMs on the store's clock. Default false. */
  readonly enforceCloseTime?: boolean;
}

/** Bulk ticket columns of one race (bench and big scenarios): no Ticket objects at all. */
export interface TicketColumnBatch {
  readonly raceId: string;
  readonly count: number;
  /** User index per ticket (from `userIndexOf` after putUsers). */
  readonly userIdx: Uint32Array;
  readonly betType: Uint8Array;
  readonly comboCode: Uint16Array;
  /** stake / 100. */
  readonly stakeUnits: Uint32Array;
  /** 0 cash, 1 medal. */
  readonly currency: Uint8Array;
  /** Ticket id = ticketIdPrefix + ticketNumber[i] (decimal, no leading zeros). */
  readonly ticketNumber: Uint32Array;
  readonly ticketIdPrefix?: string;
}

export interface MemoryStoreStats extends StoreStats {
  readonly transactionsRetried: number;
  readonly abortsInjected: number;
  readonly abortsConflict: number;
  readonly settlementsApplied: number;
  readonly settlementsDuplicate: number;
  readonly tickets: number;
  readonly users: number;
}

/** Kept as aliases of the port types (earlier names of this module). */
export type ColumnSettlement = SettlementSummary;
export type ColumnSettleResult = SummarySettleResult;

/** The port's optional methods that the memory store always has. */
type AlwaysPresent = 'settleUserColumns' | 'applyDayProgress' | 'markDeadLettered' | 'deadLetteredUsers' | 'markRankingPublished' | 'rankingClaim' | 'cashPools' | 'recordFanoutUsers' | 'fanoutUsers' | 'countUsersWithOpenTickets' | 'getSettlementTotals' | 'pageSettlementTotals' | 'readOutbox' | 'deleteOutbox' | 'unrankedRaces' | 'terminalUserCount' | 'pageTerminalUsers' | 'notificationsLogged' | 'racesRankedSince';

export interface MemoryStore extends Omit<Store, AlwaysPresent>, Required<Pick<Store, AlwaysPresent>> {
  /** Fast bulk load; the stakes are taken as already debited (like loadTickets). */
  loadTicketColumns(batch: TicketColumnBatch): void;
  /**
   * Builds the race's user index (and clusters its rows by user) now. Loads defer it to the first
   * read; production keeps such an index up to date at bet time, so a benchmark should call this
   * after loading, before it starts timing the fan-out.
   */
  indexRace(raceId: string): void;
  /** Every ledger entry of the user, oldest first (empty when the store runs with ledgerLog: false). */
  ledgerEntries(userId: string): readonly LedgerEntry[];
  /** Index of a user for TicketColumnBatch.userIdx; -1 when unknown. */
  userIndexOf(userId: string): number;
  readonly readback: StoreReadback;
  stats(): MemoryStoreStats;
}

/** Error message prefix of a transaction that kept aborting (like Spanner's ABORTED status). */
export const TRANSACTION_ABORTED = 'ABORTED';
