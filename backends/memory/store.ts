// The in-process Store: columnar tickets (columns.ts), a per-race index (race-index.ts), users in
// typed arrays, and Spanner-like transactions. A read-write transaction reads and computes, then
// yields (other transactions interleave there, like concurrent Spanner transactions), then
// commits only if no user it read was written meanwhile; otherwise it aborts and retries after a
// backoff on the clock, a bounded number of times. Aborts can also be injected from the rng.
import { decodeCombination, formatCombination, parseCombination } from '../../core/combination.ts';
import type { Bonus, OutboxMessage, SettlementSummary, SettlementTotals, SettleResult, Store, SummarySettleResult, UserAccount, UserRaceTickets } from '../../core/ports.ts';
import { err, invariant, ok, type Result } from '../../core/result.ts';
import { createRng } from '../../core/rng.ts';
import { settlementIdOf, type LedgerEntry, type LedgerReason, type Settlement } from '../../core/settlement-record.ts';
import { BET_TYPE_CODE, BET_TYPE_SPECS, BET_TYPES, betTypesSold, type BetType } from '../../core/sports.ts';
import { STAKE_UNIT, type Currency, type Ticket } from '../../core/ticket.ts';
import { createRealClock } from './clock.ts';
import { GrowArray, STATUS_OPEN, TICKET_STATUS, TicketTable } from './columns.ts';
import { buildRaceIndex, buildUserOrder, cashPoolsOf, clusterRace, positionAfter, positionOf, RaceState, type RaceIndex, type UserOrder } from './race-index.ts';
import { createReadback } from './store-readback.ts';
import { checkSettlement, priceRows, writeRows, type ColumnTotals } from './settle-path.ts';
import type { OutcomeLookup } from '../../core/settle-columns.ts';
import type { MemoryStore, MemoryStoreOptions } from './store-types.ts';
import { createTransactionRunner, DEFAULT_MAX_TRANSACTION_ATTEMPTS, type Plan } from './transaction.ts';

export { TRANSACTION_ABORTED } from './store-types.ts';
export type { ColumnSettlement, ColumnSettleResult, MemoryStore, MemoryStoreOptions, MemoryStoreStats, StoreFaults, TicketColumnBatch } from './store-types.ts';

/** Below this, a race's tickets fit in cache anyway and clustering would only cost time. */
const DEFAULT_CLUSTER_MIN_TICKETS = 65_536;
export const LEDGER_REASONS: readonly LedgerReason[] = ['stake', 'payout', 'refund', 'special', 'bonus'];
const REASON_CODE: Readonly<Record<LedgerReason, number>> = { stake: 0, payout: 1, refund: 2, special: 3, bonus: 4 };
/** Ledger totals per user: currency (2) x reason (5). */
export const LEDGER_SLOTS = 10;

export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
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
  const granted = new Map<string, Bonus>();
  const outbox = new Map<string, OutboxMessage>();
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

  const validateBet = (bet: Parameters<Store['placeBet']>[0]): Result<{ race: RaceState; code: number; u: number }> => {
    if (!Number.isSafeInteger(bet.stake) || bet.stake <= 0 || bet.stake % STAKE_UNIT !== 0) {
      return err('BET.STAKE_INVALID', `stake must be a positive multiple of ${STAKE_UNIT}, got ${bet.stake}`, 'stake');
    }
    const race = races.get(bet.raceId);
    if (race?.info === undefined) return err('RACE.UNKNOWN', `race ${bet.raceId} is not known`, 'raceId');
    const field = { sport: race.info.sport, riders: race.info.riders };
    if (!(BET_TYPES as readonly string[]).includes(bet.betType)) return err('BET.TYPE_UNKNOWN', `unknown bet type ${bet.betType}`, 'betType');
    if (!betTypesSold(field).includes(bet.betType)) return err('BET.TYPE_NOT_SOLD', `${bet.betType} is not sold in a ${field.riders}-rider ${field.sport} race`, 'betType');
    if (options.enforceCloseTime === true && clock.nowMs() >= race.info.closeAtMs) return err('BET.RACE_CLOSED', `betting on ${bet.raceId} closed at ${race.info.closeAtMs}`);
    const parsed = parseCombination(bet.betType, bet.combination, field);
    if (!parsed.ok) return parsed;
    if (bet.currency !== 'cash' && bet.currency !== 'medal') return err('INPUT.INVALID', `currency must be cash or medal, got ${bet.currency}`, 'currency');
    const u = userIdx(bet.userId, false);
    if (u < 0) return err('INPUT.INVALID', `user ${bet.userId} is not known`, 'userId');
    let code = 0;
    for (const n of parsed.value) code = code * 10 + n;
    return ok({ race, code, u });
  };

  /**
   * Where a (race, user) settlement starts, for both settlement paths: the user's slot in the race
   * index, or the early answer when nothing is open or the marker says it was already applied.
   */
  const locateSettlement = (raceId: string, userId: string): { race: RaceState; index: RaceIndex; p: number; u: number } | { early: { kind: 'nothing_open' } | { kind: 'duplicate'; settlementId: string } } => {
    const race = races.get(raceId);
    const u = userIdx(userId, false);
    if (race === undefined || u < 0) return { early: { kind: 'nothing_open' } };
    const index = indexOf(race);
    const p = positionOf(index, u);
    if (p < 0) return { early: { kind: 'nothing_open' } };
    const marker = index.marker[p] as number;
    if (marker !== 0 && !broken) return { early: { kind: 'duplicate', settlementId: settlementIdOf(raceId, userId, marker) } };
    return { race, index, p, u };
  };

  const settlePlan = (raceId: string, userId: string, resultVersion: number, compute: (input: UserRaceTickets) => Settlement, outboxOf: ((s: Settlement) => readonly OutboxMessage[]) | undefined): Plan<SettleResult> => {
    const at = locateSettlement(raceId, userId);
    if ('early' in at) return { result: at.early };
    const { race, index, p, u } = at;
    const rows: number[] = [];
    for (let k = index.offsets[p] as number; k < (index.offsets[p + 1] as number); k++) {
      const row = index.tix[k] as number;
      if (broken || table.status.get(row) === STATUS_OPEN) rows.push(row);
    }
    if (rows.length === 0) return { result: { kind: 'nothing_open' } };
    const tickets = rows.map((row) => ticketOf(row, userId, raceId));
    const settlement = compute({ raceId, userId, tickets });
    const outRows = checkSettlement(settlement, raceId, userId, resultVersion, tickets, rows);
    let trifectaHits = 0;
    settlement.outcomes.forEach((o, i) => {
      if ((o.status === 'won' || o.status === 'special') && table.betType.get(outRows[i] as number) === BET_TYPE_CODE.trifecta) trifectaHits++;
    });
    const messages = outboxOf?.(settlement) ?? [];
    return {
      result: { kind: 'applied', settlement },
      users: [u],
      // Rows and positions come from this index; a rebuild meanwhile (tickets added) moved them.
      stillValid: () => race.index === index,
      commit: () => {
        settlement.outcomes.forEach((o, i) => {
          const row = outRows[i] as number;
          table.status.set(row, TICKET_STATUS.indexOf(o.status));
          table.per100.set(row, o.per100);
        });
        for (const e of settlement.ledger) credit(u, e.currency, e.amount, e.reason, e.ref);
        markSettled(race, index, p, resultVersion, messages, { ...settlement, trifectaHits });
      },
    };
  };

  const markSettled = (race: RaceState, index: RaceIndex, p: number, resultVersion: number, messages: readonly OutboxMessage[], totals: Omit<ColumnTotals, 'tickets'>): void => {
    if (index.marker[p] === 0) race.settledUsers++;
    race.settledRows = true;
    index.settledCash[p] = totals.cashDelta;
    index.settledMedals[p] = totals.medalDelta;
    index.settledHits[p] = totals.hits;
    index.settledTrifectaHits[p] = totals.trifectaHits;
    index.open[p] = 0;
    index.marker[p] = resultVersion;
    index.applications[p] = (index.applications[p] as number) + 1;
    for (const m of messages) if (!outbox.has(m.outboxId)) outbox.set(m.outboxId, m);
    counters.applied++;
  };

  /** The columnar settlement: same marker and transaction, priced from the lookup, no Ticket objects. */
  const columnsPlan = (raceId: string, userId: string, resultVersion: number, lookup: OutcomeLookup, outboxOf: ((s: SettlementSummary) => readonly OutboxMessage[]) | undefined): Plan<SummarySettleResult> => {
    const at = locateSettlement(raceId, userId);
    if ('early' in at) return { result: at.early };
    const { race, index, p, u } = at;
    const from = index.offsets[p] as number;
    const to = index.offsets[p + 1] as number;
    const totals = priceRows(table, index.tix, from, to, lookup, !broken);
    if (totals.tickets === 0) return { result: { kind: 'nothing_open' } };
    const settlement: SettlementSummary = { settlementId: settlementIdOf(raceId, userId, resultVersion), raceId, userId, resultVersion, ...totals };
    const messages = outboxOf?.(settlement) ?? [];
    return {
      result: { kind: 'applied', settlement },
      users: [u],
      // Rows and positions come from this index; a rebuild meanwhile (tickets added) moved them.
      stillValid: () => race.index === index,
      commit: () => {
        writeRows(table, index.tix, from, to, lookup, !broken, (row, cur, reason, amount) => creditCode(u, cur, reason, amount, () => table.idOf(row)));
        markSettled(race, index, p, resultVersion, messages, totals);
      },
    };
  };

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

  const grantPlan = (bonuses: readonly Bonus[]): Plan<string[]> => {
    const fresh = new Map<string, Bonus>();
    for (const b of bonuses) {
      invariant(Number.isSafeInteger(b.medals) && b.medals >= 0, `bonus ${b.bonusId} medals must be a non-negative integer, got ${b.medals}`);
      if (!granted.has(b.bonusId) && !fresh.has(b.bonusId)) fresh.set(b.bonusId, b);
    }
    if (fresh.size === 0) return { result: [] };
    const users = [...new Set([...fresh.values()].map((b) => userIdx(b.userId, true)))];
    return {
      result: [...fresh.keys()],
      users,
      commit: () => {
        for (const b of fresh.values()) {
          granted.set(b.bonusId, b);
          credit(userIdx(b.userId, true), 'medal', b.medals, 'bonus', b.bonusId);
        }
      },
    };
  };

  const store: MemoryStore = {
    async putUsers(users: readonly UserAccount[]) {
      for (const a of users) {
        invariant(Number.isSafeInteger(a.cash) && Number.isSafeInteger(a.medals), `user ${a.userId} balances must be integers`);
        const u = userIdx(a.userId, true);
        cash.data[u] = initialCash.data[u] = a.cash;
        medals.data[u] = initialMedals.data[u] = a.medals;
      }
    },
    async putRace(race) {
      (raceOf(race.raceId, true) as RaceState).info = race;
    },
    async getRace(raceId) {
      return races.get(raceId)?.info;
    },
    async placeBet(bet) {
      const existing = placedTickets.get(bet.ticketId);
      if (existing !== undefined) return ok(ticketOf(existing, userIds[table.user.get(existing)] as string, bet.raceId));
      const v = validateBet(bet);
      if (!v.ok) return v;
      const { race, code, u } = v.value;
      const balances = bet.currency === 'cash' ? cash : medals;
      return transact<Result<Ticket>>(() => {
        if (placedTickets.has(bet.ticketId)) return { result: err('INPUT.INVALID', `ticket ${bet.ticketId} was placed concurrently`, 'ticketId') };
        if ((balances.data[u] as number) < bet.stake) {
          return { result: err('BET.INSUFFICIENT_BALANCE', `${bet.currency} balance ${balances.data[u]} is below the stake ${bet.stake}`, 'stake') };
        }
        const ticket: Ticket = { ticketId: bet.ticketId, userId: bet.userId, raceId: bet.raceId, betType: bet.betType, combination: bet.combination, stake: bet.stake, currency: bet.currency };
        return {
          result: ok(ticket),
          users: [u],
          commit: () => {
            const row = appendRow(u, race, BET_TYPE_CODE[bet.betType], code, bet.stake / STAKE_UNIT, bet.currency === 'cash' ? 0 : 1);
            table.setId(row, bet.ticketId);
            placedTickets.set(bet.ticketId, row);
            credit(u, bet.currency, -bet.stake, 'stake', bet.ticketId);
          },
        };
      });
    },
    async loadTickets(tickets) {
      for (const t of tickets) {
        const units = t.stake / STAKE_UNIT;
        invariant(Number.isInteger(units) && units >= 1 && units <= 0xffff_ffff, `ticket ${t.ticketId} stake ${t.stake} must be a positive multiple of ${STAKE_UNIT}`);
        invariant(t.betType in BET_TYPE_CODE, `ticket ${t.ticketId} bet type ${t.betType} is unknown`);
        const numbers = t.combination.split(/[-=]/).map(Number);
        let code = 0;
        for (const n of numbers) code = code * 10 + n;
        const row = appendRow(userIdx(t.userId, true), raceOf(t.raceId, true) as RaceState, BET_TYPE_CODE[t.betType], code, units, t.currency === 'cash' ? 0 : 1);
        table.setId(row, t.ticketId);
      }
    },
    loadTicketColumns(batch) {
      const race = raceOf(batch.raceId, true) as RaceState;
      const prefix = table.prefixCodeOf(batch.ticketIdPrefix ?? 'T');
      invariant(prefix !== 255, 'too many ticket id prefixes for the bulk path');
      const n = batch.count;
      for (let i = 0; i < n; i++) {
        const ok = (batch.userIdx[i] as number) < userIds.length && (batch.betType[i] as number) < BET_TYPES.length && (batch.stakeUnits[i] as number) > 0 && (batch.currency[i] as number) <= 1;
        invariant(ok, `bulk ticket ${i} of ${batch.raceId} is malformed`);
      }
      const first = table.count;
      table.reserve(first + n);
      table.count += n;
      table.user.copyFrom(first, batch.userIdx, 0, n);
      table.betType.copyFrom(first, batch.betType, 0, n);
      table.comboCode.copyFrom(first, batch.comboCode, 0, n);
      table.stakeUnits.copyFrom(first, batch.stakeUnits, 0, n);
      table.currency.copyFrom(first, batch.currency, 0, n);
      table.idNumber.copyFrom(first, batch.ticketNumber, 0, n);
      table.idPrefix.fill(first, first + n, prefix);
      table.status.fill(first, first + n, STATUS_OPEN);
      table.per100.fill(first, first + n, 0);
      race.addRowRange(first, n, batch);
    },
    userIndexOf: (userId) => userIdx(userId, false),
    ledgerEntries: (userId) => [...(ledgerLog.get(userIdx(userId, false)) ?? [])],
    indexRace(raceId) {
      const race = races.get(raceId);
      if (race !== undefined) indexOf(race);
    },
    async recordOutcome(outcome) {
      const race = raceOf(outcome.raceId, true) as RaceState;
      if (race.outcome !== undefined && race.outcome.resultVersion >= outcome.resultVersion) return false;
      race.outcome = outcome;
      return true;
    },
    async getOutcome(raceId) {
      return races.get(raceId)?.outcome;
    },
    async pageUsersWithOpenTickets(raceId, afterUserId, limit) {
      invariant(Number.isInteger(limit) && limit >= 1, `limit must be an integer >= 1, got ${limit}`);
      const race = races.get(raceId);
      if (race === undefined) return [];
      const index = indexOf(race);
      const out: string[] = [];
      for (let p = positionAfter(index, userIds, afterUserId); p < index.users.length && out.length < limit; p++) {
        if ((index.open[p] as number) > 0) out.push(userIds[index.users[p] as number] as string);
      }
      return out;
    },
    async settleUser(raceId, userId, resultVersion, compute, outboxOf) {
      invariant(Number.isInteger(resultVersion) && resultVersion >= 1, `resultVersion must be an integer >= 1, got ${resultVersion}`);
      const result = await transact(() => settlePlan(raceId, userId, resultVersion, compute, outboxOf));
      if (result.kind === 'duplicate') counters.duplicate++;
      return result;
    },
    async settleUserColumns(raceId, userId, resultVersion, lookup, outboxOf) {
      invariant(Number.isInteger(resultVersion) && resultVersion >= 1, `resultVersion must be an integer >= 1, got ${resultVersion}`);
      const result = await transact(() => columnsPlan(raceId, userId, resultVersion, lookup, outboxOf));
      if (result.kind === 'duplicate') counters.duplicate++;
      return result;
    },
    grantBonuses: (bonuses) => transact(() => grantPlan(bonuses)),
    async markPostSettled(raceId, userId) {
      const race = raceOf(raceId, true) as RaceState;
      race.postSettled.add(userIdx(userId, true));
      return race.postSettled.size;
    },
    async claimRanking(raceId) {
      const race = raceOf(raceId, true) as RaceState;
      if (race.ranking !== undefined) return false;
      race.ranking = { raceId, claimedAtMs: clock.nowMs(), postSettledUsers: race.postSettled.size };
      return true;
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
    async getSettlementTotals(raceId, userId) {
      const race = races.get(raceId);
      const u = userIdx(userId, false);
      if (race === undefined || u < 0) return undefined;
      const index = indexOf(race);
      const p = positionOf(index, u);
      return p < 0 || index.marker[p] === 0 ? undefined : totalsAt(race, index, p);
    },
    async pageSettlementTotals(raceId, afterUserId, limit) {
      invariant(Number.isInteger(limit) && limit >= 1, `limit must be an integer >= 1, got ${limit}`);
      const race = races.get(raceId);
      if (race === undefined) return [];
      const index = indexOf(race);
      const out: SettlementTotals[] = [];
      for (let p = positionAfter(index, userIds, afterUserId); p < index.users.length && out.length < limit; p++) {
        if (index.marker[p] !== 0) out.push(totalsAt(race, index, p));
      }
      return out;
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
    readback: createReadback({ table, userIds, userIdx: (id) => userIdx(id, false), cash, medals, initialCash, initialMedals, ledger, races, indexOf, granted, ticketOf }),
    async close() {},
  };
  return store;
}
