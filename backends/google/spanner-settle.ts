// One user's settlement of one race as one Spanner read-write transaction, in the shape the
// emulator runs fast: a key-range read and a key read through the read API, writes as mutations.
// (SQL or DML inside a read-write transaction makes the emulator scan: 21-29 users/s at 2,000
// users, 2-3 users/s at 20,000; this shape holds 270-280 users/s at both sizes; docs/emulators.md.)
import { Spanner, type Database, type Transaction } from '@google-cloud/spanner';
import type { OutboxMessage, SettleResult, UserRaceTickets } from '../../core/ports.ts';
import type { Settlement } from '../../core/settlement-record.ts';
import { STAKE_UNIT } from '../../core/ticket.ts';
import { hitsOfType } from '../../core/settlement.ts';
import { TICKET_COLUMNS, check, USER_COLUMNS, assertAmount, ticketStateFromRow, userFromRow, type LedgerRow, type TicketState, type TicketRow, type UserRow } from './spanner-rows.ts';
import { runReadWrite, type TxCounters, type TxRunnerOptions } from './spanner-tx.ts';

export interface SettleRequest {
  readonly raceId: string;
  readonly userId: string;
  readonly resultVersion: number;
  readonly compute: (input: UserRaceTickets) => Settlement;
  readonly outbox?: ((settlement: Settlement) => readonly OutboxMessage[]) | undefined;
}

/** Ledger entry ids of a settlement: the settlement id plus the entry's position (deterministic). */
export function settlementEntryId(settlementId: string, index: number): string {
  check(Number.isInteger(index) && index >= 0 && index < LEDGER_ENTRIES_PER_SETTLEMENT_MAX, () => `ledger entry index ${index} out of range`);
  // Zero-padded so key order is entry order: getSettlement reads them back as one key range.
  return `${settlementId}#${String(index).padStart(5, '0')}`;
}

/** The key range of one settlement's ledger entries under its user: `${id}#` up to `${id}$` ('$' follows '#'). */
export function settlementEntryRange(userId: string, settlementId: string): { startClosed: string[]; endOpen: string[] } {
  return { startClosed: [userId, `${settlementId}#`], endOpen: [userId, `${settlementId}$`] };
}

const LEDGER_ENTRIES_PER_SETTLEMENT_MAX = 100_000;

/** What must hold of a computed settlement before any of it is written. */
function assertSettlement(req: SettleRequest, open: readonly TicketState[], s: Settlement): void {
  check(s.raceId === req.raceId && s.userId === req.userId, () => `settlement ${s.settlementId} is for ${s.userId}/${s.raceId}, not ${req.userId}/${req.raceId}`);
  check(s.resultVersion === req.resultVersion, () => `settlement ${s.settlementId} has result version ${s.resultVersion}, asked ${req.resultVersion}`);
  const byId = new Map(open.map((t) => [t.ticketId, t]));
  check(s.outcomes.length === open.length, () => `settlement ${s.settlementId} settles ${s.outcomes.length} tickets, ${open.length} are open`);
  for (const o of s.outcomes) {
    const t = byId.get(o.ticketId);
    check(t !== undefined, () => `settlement ${s.settlementId} names ticket ${o.ticketId}, which is not an open ticket of the user in the race`);
    byId.delete(o.ticketId); // a second outcome for the same ticket then fails the check above
    check(o.currency === t.currency, () => `ticket ${o.ticketId}: outcome currency ${o.currency}, ticket ${t.currency}`);
    assertAmount(`per100 of ticket ${o.ticketId}`, o.per100);
    check(o.payout === (t.stake / STAKE_UNIT) * o.per100, () => `ticket ${o.ticketId}: payout ${o.payout} is not stake ${t.stake} / 100 x ${o.per100}`);
  }
  let cash = 0;
  let medals = 0;
  for (const e of s.ledger) {
    check(e.userId === req.userId, () => `ledger entry of ${s.settlementId} belongs to ${e.userId}`);
    check(Number.isSafeInteger(e.amount), () => `ledger amount ${e.amount} is not an integer`);
    if (e.currency === 'cash') cash += e.amount;
    else medals += e.amount;
  }
  check(cash === s.cashDelta && medals === s.medalDelta, () => `settlement ${s.settlementId}: ledger sums ${cash}/${medals} differ from deltas ${s.cashDelta}/${s.medalDelta}`);
}

/** Hits on trifecta tickets (missions count them), kept on the marker for the ranking's page. */
function trifectaHitsOf(open: readonly TicketState[], s: Settlement): number {
  // The bet type of the stored ticket, not the one the outcome claims.
  const typeOf = new Map(open.map((t) => [t.ticketId, t.betType]));
  return hitsOfType(s, 'trifecta', (i) => typeOf.get(s.outcomes[i]?.ticketId ?? ''));
}

function queueWrites(tx: Transaction, req: SettleRequest, user: UserRow, open: readonly TicketState[], s: Settlement): void {
  const cash = user.CashYen + s.cashDelta;
  const medals = user.Medals + s.medalDelta;
  check(cash >= 0 && medals >= 0, () => `settlement ${s.settlementId} would leave ${req.userId} at ${cash} yen / ${medals} medals`);
  tx.update(
    'Tickets',
    s.outcomes.map((o) => ({ UserId: req.userId, RaceId: req.raceId, TicketId: o.ticketId, Status: o.status, Per100: o.per100, Payout: o.payout, SettlementId: s.settlementId, OpenRaceId: null })),
  );
  if (s.ledger.length > 0) {
    const rows: LedgerRow[] = s.ledger.map((e, i) => ({ UserId: req.userId, EntryId: settlementEntryId(s.settlementId, i), Currency: e.currency, Amount: e.amount, Reason: e.reason, Ref: e.ref }));
    tx.insert('Ledger', rows);
  }
  tx.update('Users', { UserId: req.userId, CashYen: cash, Medals: medals });
  tx.insert('Settlements', {
    UserId: req.userId,
    RaceId: req.raceId,
    SettlementId: s.settlementId,
    ResultVersion: s.resultVersion,
    CashDelta: s.cashDelta,
    MedalDelta: s.medalDelta,
    Hits: s.hits,
    TrifectaHits: trifectaHitsOf(open, s),
    SettledAt: Spanner.COMMIT_TIMESTAMP,
  });
  const messages = req.outbox?.(s) ?? [];
  if (messages.length > 0) {
    tx.upsert(
      'Outbox',
      messages.map((m) => ({ OutboxId: m.outboxId, Topic: m.topic, Data: m.data, AttributesJson: JSON.stringify(m.attributes ?? {}), WrittenAt: Spanner.COMMIT_TIMESTAMP })),
    );
  }
}

/**
 * The body of the settlement transaction: two reads (the user's tickets of the race by key range,
 * the balance by key), then mutations. The settlement marker on the hot path is the
 * SettlementId every settled ticket carries: no open tickets and a settled one means a
 * redelivery. Reading the Settlements row as well would cost a third read per user; the row is
 * still written, and its insert is the backstop (a second settlement would fail ALREADY_EXISTS).
 * Exactly-once under concurrency comes from Spanner's locks: two transactions that both read the
 * tickets as open cannot both commit; the loser is ABORTED and its retry sees them settled.
 */
async function settleBody(tx: Transaction, req: SettleRequest): Promise<SettleResult> {
  const { raceId, userId } = req;
  // The first read begins the transaction inline; the client holds the second until it has the
  // transaction id.
  const [[ticketRows], [userRows]] = await Promise.all([
    tx.read('Tickets', { ranges: [ticketRange(req)], columns: TICKET_COLUMNS, json: true }),
    tx.read('Users', { keys: [userId], columns: USER_COLUMNS, json: true }),
  ]);
  return settleFromRows(tx, req, ticketRows as TicketRow[], (userRows as UserRow[])[0]);
}

function ticketRange(req: { readonly userId: string; readonly raceId: string }): { startClosed: string[]; endClosed: string[] } {
  return { startClosed: [req.userId, req.raceId], endClosed: [req.userId, req.raceId] };
}

/** Decides one user's settlement from the rows read in the transaction and queues its writes. */
function settleFromRows(tx: Transaction, req: SettleRequest, ticketRows: readonly TicketRow[], user: UserRow | undefined): SettleResult {
  const { raceId, userId } = req;
  const tickets = ticketRows.map(ticketStateFromRow);
  for (const t of tickets) check(t.userId === userId && t.raceId === raceId, () => `key-range read of ${userId}/${raceId} returned ticket ${t.ticketId} of ${t.userId}/${t.raceId}`);
  const open = tickets.filter((t) => t.status === 'open');
  if (open.length === 0) {
    const settledBy = new Set(tickets.map((t) => t.settlementId));
    check(settledBy.size <= 1, () => `tickets of ${userId}/${raceId} carry several settlement ids: ${[...settledBy].join(', ')}`);
    const settlementId = tickets[0]?.settlementId;
    return settlementId === undefined ? { kind: 'nothing_open' } : { kind: 'duplicate', settlementId };
  }
  check(open.length === tickets.length, () => `${userId}/${raceId} has open tickets next to settled ones`);
  check(user !== undefined, () => `user ${userId} has tickets in ${raceId} but no Users row`);
  userFromRow(user); // asserts the stored balances
  const plain = open.map(({ status: _s, per100: _p, payout: _y, settlementId: _i, ...ticket }) => ticket);
  const settlement = req.compute({ raceId, userId, tickets: plain });
  assertSettlement(req, open, settlement);
  queueWrites(tx, req, user, open, settlement);
  return { kind: 'applied', settlement };
}

/** One call's answer in a group commit: its result, or the error that only its user met. */
export type BatchSettleOutcome = { readonly ok: true; readonly result: SettleResult } | { readonly ok: false; readonly error: unknown };

/**
 * The group-commit twin of settleBody: several users' settlements in ONE transaction, with two
 * reads for all of them (their ticket key ranges, their balance rows) and one commit. Each call is
 * decided exactly as settleBody would: a user whose computation fails (poison tickets, a failed
 * assertion) gets its own error and no writes, the others commit. A (race, user) asked twice in
 * one batch is settled once; the second call sees the first's settlement as a duplicate. A user
 * settled for two races in one batch has the second settlement start from the first's balances.
 */
export async function settleBatchBody(tx: Transaction, reqs: readonly SettleRequest[]): Promise<BatchSettleOutcome[]> {
  const pairs = new Map<string, SettleRequest>();
  for (const r of reqs) pairs.set(`${r.userId}\u0000${r.raceId}`, r);
  const userIds = [...new Set(reqs.map((r) => r.userId))];
  const [[ticketRows], [userRows]] = await Promise.all([
    tx.read('Tickets', { ranges: [...pairs.values()].map(ticketRange), columns: TICKET_COLUMNS, json: true }),
    tx.read('Users', { keys: userIds.map((u) => [u]), columns: USER_COLUMNS, json: true }),
  ]);
  const ticketsOf = new Map<string, TicketRow[]>();
  for (const row of ticketRows as TicketRow[]) {
    const key = `${row.UserId}\u0000${row.RaceId}`;
    const list = ticketsOf.get(key);
    if (list === undefined) ticketsOf.set(key, [row]);
    else list.push(row);
  }
  const users = new Map((userRows as UserRow[]).map((u) => [u.UserId, { ...u }]));
  const decided = new Map<string, SettleResult>();
  return reqs.map((req): BatchSettleOutcome => {
    const key = `${req.userId}\u0000${req.raceId}`;
    const earlier = decided.get(key);
    if (earlier !== undefined) return { ok: true, result: earlier.kind === 'applied' ? { kind: 'duplicate', settlementId: earlier.settlement.settlementId } : earlier };
    try {
      const user = users.get(req.userId);
      const result = settleFromRows(tx, req, ticketsOf.get(key) ?? [], user);
      decided.set(key, result);
      if (result.kind === 'applied' && user !== undefined) {
        user.CashYen += result.settlement.cashDelta;
        user.Medals += result.settlement.medalDelta;
      }
      return { ok: true, result };
    } catch (error) {
      return { ok: false, error };
    }
  });
}

/** Settles one user in one transaction on the user's shard database, retrying ABORTED. */
export function settleInDatabase(database: Database, counters: TxCounters, req: SettleRequest, options: TxRunnerOptions = {}): Promise<SettleResult> {
  return runReadWrite(database, counters, (tx) => settleBody(tx, req), options);
}
