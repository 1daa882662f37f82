// The memory store's shared state and its primitives: the ticket columns, users in typed arrays,
// races with their lazily built index, the ledger, and the transaction runner. The store's
// operations (store-bets.ts, store-settle.ts, store-queries.ts) all work on one such state, so
// it lives here once and each of them gets it from createMemoryStore (store.ts).
import { decodeCombination, formatCombination } from '../../core/combination.ts';
import type { Bonus, Clock, OutboxMessage } from '../../core/ports.ts';
import { invariant } from '../../core/result.ts';
import { createRng } from '../../core/rng.ts';
import type { LedgerEntry, LedgerReason } from '../../core/settlement-record.ts';
import { BET_TYPE_SPECS, BET_TYPES, type BetType } from '../../core/sports.ts';
import { STAKE_UNIT, type Currency, type Ticket } from '../../core/ticket.ts';
import { createRealClock } from './clock.ts';
import { GrowArray, STATUS_OPEN, TicketTable } from './columns.ts';
import { buildRaceIndex, buildUserOrder, clusterRace, RaceState, type RaceIndex, type UserOrder } from './race-index.ts';
import type { MemoryStoreOptions } from './store-types.ts';
import { createTransactionRunner, DEFAULT_MAX_TRANSACTION_ATTEMPTS, type Plan, type TransactionCounters } from './transaction.ts';

/** Below this, a race's tickets fit in cache anyway and clustering would only cost time. */
const DEFAULT_CLUSTER_MIN_TICKETS = 65_536;
export const LEDGER_REASONS: readonly LedgerReason[] = ['stake', 'payout', 'refund', 'special', 'bonus'];
const REASON_CODE: Readonly<Record<LedgerReason, number>> = { stake: 0, payout: 1, refund: 2, special: 3, bonus: 4 };
/** Ledger totals per user: currency (2) x reason (5). */
export const LEDGER_SLOTS = 10;

export interface StoreCounters extends TransactionCounters {
  applied: number;
  duplicate: number;
}

export interface StoreState {
  readonly options: MemoryStoreOptions;
  readonly clock: Clock;
  /** faults.brokenExactlyOnce: ignore markers and conflicts (for proving checkers fail). */
  readonly broken: boolean;
  readonly table: TicketTable;
  /** User ids by user index. */
  readonly userIds: readonly string[];
  readonly cash: GrowArray<Float64Array>;
  readonly medals: GrowArray<Float64Array>;
  readonly initialCash: GrowArray<Float64Array>;
  readonly initialMedals: GrowArray<Float64Array>;
  /** LEDGER_SLOTS totals per user. */
  readonly ledger: GrowArray<Float64Array>;
  readonly ledgerLog: Map<number, LedgerEntry[]>;
  readonly races: Map<string, RaceState>;
  /** Row of each ticket placed through placeBet (placing the same id again answers that ticket). */
  readonly placedTickets: Map<string, number>;
  readonly granted: Map<string, Bonus>;
  /** Grants applied per bonus id (1 when exactly once; more only under faults.brokenBonusOnce). */
  readonly grantApplications: Map<string, number>;
  readonly outbox: Map<string, OutboxMessage>;
  readonly counters: StoreCounters;
  /** Index of a user; with `create`, a new user gets one, otherwise an unknown user is -1. */
  userIdx(userId: string, create: boolean): number;
  raceOf(raceId: string, create: boolean): RaceState | undefined;
  /** The race's index, (re)built when tickets were added since the last build. */
  indexOf(race: RaceState): RaceIndex;
  /** Books one ledger amount by codes; `ref` is called only when entries are kept. */
  creditCode(u: number, currencyCode: number, reasonCode: number, amount: number, ref: () => string): void;
  credit(u: number, currency: Currency, amount: number, reason: LedgerReason, ref: string): void;
  /** Appends one open ticket row to the columns and to the race; returns the row. */
  appendRow(u: number, race: RaceState, betType: number, code: number, units: number, currencyCode: number): number;
  ticketOf(row: number, userId: string, raceId: string): Ticket;
  transact<T>(read: () => Plan<T>): Promise<T>;
}

export function createStoreState(options: MemoryStoreOptions): StoreState {
  const clock = options.clock ?? createRealClock();
  const rng = options.rng ?? createRng(0);
  const pAbort = options.faults?.abortProbability ?? 0;
  invariant(pAbort >= 0 && pAbort <= 1, `faults.abortProbability must be in [0, 1], got ${pAbort}`);
  const broken = options.faults?.brokenExactlyOnce === true;
  const keepLog = options.ledgerLog ?? true;
  const maxAttempts = options.maxTransactionAttempts ?? DEFAULT_MAX_TRANSACTION_ATTEMPTS;
  const latencyMs = options.transactionLatencyMs ?? 0;

  const table = new TicketTable();
  if (options.capacityTickets !== undefined) table.reserve(options.capacityTickets);
  const userIds: string[] = [];
  const userIndex = new Map<string, number>();
  const cash = new GrowArray((n) => new Float64Array(n));
  const medals = new GrowArray((n) => new Float64Array(n));
  const initialCash = new GrowArray((n) => new Float64Array(n));
  const initialMedals = new GrowArray((n) => new Float64Array(n));
  const version = new GrowArray((n) => new Uint32Array(n));
  const ledger = new GrowArray((n) => new Float64Array(n), 1024 * LEDGER_SLOTS);
  const ledgerLog = new Map<number, LedgerEntry[]>();
  const races = new Map<string, RaceState>();
  const placedTickets = new Map<string, number>();
  let order: UserOrder | undefined;
  const counters = { committed: 0, aborted: 0, retried: 0, injected: 0, conflicts: 0, applied: 0, duplicate: 0 };

  const userIdx = (userId: string, create: boolean): number => {
    let u = userIndex.get(userId);
    if (u === undefined && create) {
      u = userIds.length;
      userIds.push(userId);
      userIndex.set(userId, u);
      for (const g of [cash, medals, initialCash, initialMedals, version]) g.reserve(u + 1);
      ledger.reserve((u + 1) * LEDGER_SLOTS);
    }
    return u ?? -1;
  };
  const raceOf = (raceId: string, create: boolean): RaceState | undefined => {
    let r = races.get(raceId);
    if (r === undefined && create) {
      r = new RaceState(raceId);
      races.set(raceId, r);
    }
    return r;
  };
  const currentOrder = (): UserOrder => {
    if (order === undefined || order.rank.length !== userIds.length) order = buildUserOrder(userIds);
    return order;
  };
  const clusterMin = options.clusterMinTickets ?? DEFAULT_CLUSTER_MIN_TICKETS;
  const indexOf = (race: RaceState): RaceIndex => {
    if (race.index !== undefined && race.indexedCount === race.ticketCount) return race.index;
    const { index, dest } = buildRaceIndex(race, table, currentOrder(), userIds.length);
    if (race.ticketCount >= clusterMin) clusterKeepingRefs(race, index, dest);
    return index;
  };
  /** Keeps the row references outside the columns (placed ids, fallback ids) right when clustering moves tickets. */
  const clusterKeepingRefs = (race: RaceState, index: RaceIndex, dest: Uint32Array): void => {
    const moves = new Map<number, number>();
    const placedRows = new Set(placedTickets.values());
    const track = placedRows.size > 0 || table.fallbackIds.size > 0;
    clusterRace(race, table, index, dest, track ? (from, to) => void ((placedRows.has(from) || table.fallbackIds.has(from)) && moves.set(from, to)) : undefined);
    if (moves.size === 0) return;
    for (const [id, row] of placedTickets) placedTickets.set(id, moves.get(row) ?? row);
    const ids = [...table.fallbackIds];
    table.fallbackIds.clear();
    for (const [row, id] of ids) table.fallbackIds.set(moves.get(row) ?? row, id);
  };
  /** Books one ledger amount: balance, per-user totals and (when kept) the entry itself. */
  const creditCode = (u: number, currencyCode: number, reasonCode: number, amount: number, ref: () => string): void => {
    const balances = currencyCode === 0 ? cash : medals;
    balances.data[u] = (balances.data[u] as number) + amount;
    const slot = u * LEDGER_SLOTS + currencyCode * 5 + reasonCode;
    ledger.data[slot] = (ledger.data[slot] as number) + amount;
    if (keepLog) {
      const log = ledgerLog.get(u) ?? [];
      log.push({ userId: userIds[u] as string, currency: currencyCode === 0 ? 'cash' : 'medal', amount, reason: LEDGER_REASONS[reasonCode] as LedgerReason, ref: ref() });
      ledgerLog.set(u, log);
    }
  };
  const credit = (u: number, currency: Currency, amount: number, reason: LedgerReason, ref: string): void =>
    creditCode(u, currency === 'cash' ? 0 : 1, REASON_CODE[reason], amount, () => ref);
  const appendRow = (u: number, race: RaceState, betType: number, code: number, units: number, currencyCode: number): number => {
    const row = table.count++;
    if (row >= table.capacity()) table.reserve(row + 1);
    table.user.set(row, u);
    table.betType.set(row, betType);
    table.comboCode.set(row, code);
    table.stakeUnits.set(row, units);
    table.currency.set(row, currencyCode);
    table.status.set(row, STATUS_OPEN);
    table.per100.set(row, 0);
    race.addTicket(row, betType * 1000 + code, currencyCode === 0 ? units * STAKE_UNIT : 0);
    return row;
  };

  const comboText: string[] = [];
  const ticketOf = (row: number, userId: string, raceId: string): Ticket => {
    const bt = table.betType.get(row);
    const code = table.comboCode.get(row);
    const key = bt * 1000 + code;
    const betType = BET_TYPES[bt] as BetType;
    comboText[key] ??= formatCombination(betType, decodeCombination(code, BET_TYPE_SPECS[betType].size));
    return {
      ticketId: table.idOf(row),
      userId,
      raceId,
      betType,
      combination: comboText[key] as string,
      stake: table.stakeUnits.get(row) * STAKE_UNIT,
      currency: table.currency.get(row) === 0 ? 'cash' : 'medal',
    };
  };

  const transact = createTransactionRunner({ clock, rng, abortProbability: pAbort, ignoreConflicts: broken, maxAttempts, latencyMs, version, counters });

  return {
    options,
    clock,
    broken,
    table,
    userIds,
    cash,
    medals,
    initialCash,
    initialMedals,
    ledger,
    ledgerLog,
    races,
    placedTickets,
    granted: new Map<string, Bonus>(),
    grantApplications: new Map<string, number>(),
    outbox: new Map<string, OutboxMessage>(),
    counters,
    userIdx,
    raceOf,
    indexOf,
    creditCode,
    credit,
    appendRow,
    ticketOf,
    transact,
  };
}
