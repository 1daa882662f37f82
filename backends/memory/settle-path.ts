// The two settlement paths of the memory store, as pure helpers over the ticket columns:
// - the object path checks the Settlement a compute function returned for the user's Ticket
//   objects and maps each outcome back to its row;
// - the columnar path copies the user's open rows into ticket columns and prices them with the
//   core's pricing kernel (settleColumns, core/settle-columns.ts), once: the transaction's read
//   phase prices, its commit writes what was priced.
import { invariant } from '../../core/result.ts';
import { createColumnOutput, createTicketColumns, settleColumns, STATUS_CODE, type ColumnOutput, type ColumnTotals, type OutcomeLookup, type TicketColumns } from '../../core/settle-columns.ts';
import { settlementIdOf, type Settlement } from '../../core/settlement-record.ts';
import { STAKE_UNIT, type Ticket } from '../../core/ticket.ts';
import { STATUS_OPEN, type TicketTable } from './columns.ts';

/** Asserts what a settlement must satisfy before the store writes it; returns the row of each outcome. */
export function checkSettlement(s: Settlement, raceId: string, userId: string, resultVersion: number, tickets: readonly Ticket[], rows: readonly number[]): number[] {
  invariant(s.raceId === raceId && s.userId === userId, `settlement ${s.settlementId} is for ${s.raceId}/${s.userId}, not ${raceId}/${userId}`);
  invariant(s.settlementId === settlementIdOf(raceId, userId, resultVersion), `settlement id ${s.settlementId} does not match version ${resultVersion}`);
  invariant(s.outcomes.length === tickets.length, `settlement ${s.settlementId} has ${s.outcomes.length} outcomes for ${tickets.length} open tickets`);
  const outRows: number[] = [];
  const used = new Uint8Array(tickets.length);
  for (const o of s.outcomes) {
    const k = tickets.findIndex((x) => x.ticketId === o.ticketId);
    const t = tickets[k];
    invariant(t !== undefined && used[k] === 0, `settlement ${s.settlementId} has an outcome for unknown or repeated ticket ${o.ticketId}`);
    used[k] = 1;
    invariant(o.payout === (t.stake / STAKE_UNIT) * o.per100 && o.currency === t.currency, `ticket ${o.ticketId}: payout ${o.payout} is not stake/100 x per100 in ${t.currency}`);
    outRows.push(rows[k] as number);
  }
  let cash = 0;
  let medal = 0;
  for (const e of s.ledger) {
    invariant(Number.isSafeInteger(e.amount) && e.userId === userId, `ledger entry ${e.ref} must be an integer amount of user ${userId}`);
    if (e.currency === 'cash') cash += e.amount;
    else medal += e.amount;
  }
  invariant(cash === s.cashDelta && medal === s.medalDelta, `settlement ${s.settlementId}: deltas do not match its ledger`);
  return outRows;
}

/** Ledger reason code (store-state.ts REASON_CODE order: stake, payout, refund, special, bonus) per status code; -1 = no entry. */
export const REASON_OF_STATUS = [-1, 1, -1, 2, 3] as const;

/** A user's tickets priced by the kernel: the rows' outputs in the order of the user's index slice. */
export interface PricedRows {
  readonly totals: ColumnTotals;
  readonly tickets: number;
  readonly out: ColumnOutput;
}

/**
 * Reusable columns a user's rows are copied into: the read phase that fills them runs
 * synchronously to the end of the kernel, so one scratch per store is enough.
 */
export interface PricingScratch {
  columns: TicketColumns;
}

export function createPricingScratch(): PricingScratch {
  return { columns: createTicketColumns(64) };
}

/** The rows of tix[from, to) a settlement takes: every one, or only the open ones. */
function takes(table: TicketTable, row: number, onlyOpen: boolean): boolean {
  return !onlyOpen || table.status.get(row) === STATUS_OPEN;
}

/**
 * Prices the rows of a user's index slice (tix[from, to)) with the core kernel; throws on a row
 * the payout table cannot price, as the object path refuses the ticket.
 */
export function priceRows(table: TicketTable, tix: Uint32Array, from: number, to: number, lookup: OutcomeLookup, onlyOpen: boolean, scratch: PricingScratch): PricedRows {
  if (scratch.columns.betType.length < to - from) scratch.columns = createTicketColumns(to - from);
  const c = scratch.columns;
  let n = 0;
  for (let k = from; k < to; k++) {
    const row = tix[k] as number;
    if (!takes(table, row, onlyOpen)) continue;
    c.betType[n] = table.betType.get(row);
    c.comboCode[n] = table.comboCode.get(row);
    c.stakeUnits[n] = table.stakeUnits.get(row);
    c.currency[n] = table.currency.get(row);
    n++;
  }
  c.count = n;
  const out = createColumnOutput(n);
  const totals = settleColumns(c, lookup, 0, n, out);
  if (totals.invalid > 0) {
    let j = 0;
    for (let k = from; k < to; k++) {
      const row = tix[k] as number;
      if (!takes(table, row, onlyOpen)) continue;
      invariant(out.status[j++] !== STATUS_CODE.invalid, `ticket ${table.idOf(row)} cannot be settled against this payout table (POOL.INVALID or BET.TYPE_NOT_SOLD)`);
    }
  }
  return { totals, tickets: n, out };
}

/** Writes what priceRows priced: status, per100, and one credit per paying ticket. */
export function writeRows(
  table: TicketTable,
  tix: Uint32Array,
  from: number,
  to: number,
  priced: PricedRows,
  onlyOpen: boolean,
  credit: (row: number, currencyCode: number, reasonCode: number, amount: number) => void,
): void {
  const { out } = priced;
  let j = 0;
  for (let k = from; k < to; k++) {
    const row = tix[k] as number;
    if (!takes(table, row, onlyOpen)) continue;
    const status = out.status[j] as number;
    const pay = out.payout[j] as number;
    table.status.set(row, status);
    table.per100.set(row, out.per100[j] as number);
    const reason = REASON_OF_STATUS[status as 1] ?? -1;
    if (reason >= 0 && pay > 0) credit(row, table.currency.get(row), reason, pay);
    j++;
  }
  // The commit sees the rows the read phase priced: a write to them meanwhile aborts the transaction.
  invariant(j === priced.tickets, `commit found ${j} rows to settle, the read phase priced ${priced.tickets}`);
}
