// The two settlement paths of the memory store, as pure helpers over the ticket columns:
// - the object path checks the Settlement a compute function returned for the user's Ticket
//   objects and maps each outcome back to its row;
// - the columnar path prices rows straight from an OutcomeLookup (core/settle-columns.ts), with
//   no Ticket objects at all; core's property test keeps the two paths in agreement.
import { COMBO_KEY_SPACE } from '../../core/combination.ts';
import { invariant } from '../../core/result.ts';
import type { OutcomeLookup } from '../../core/settle-columns.ts';
import { settlementIdOf, type Settlement } from '../../core/settlement-record.ts';
import { STAKE_UNIT, type Ticket } from '../../core/ticket.ts';
import type { TicketTable } from './columns.ts';
import { BET_TYPE_CODE } from '../../core/sports.ts';

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
const HIT_OF_STATUS = [0, 1, 0, 0, 1] as const;

export interface ColumnTotals {
  cashDelta: number;
  medalDelta: number;
  hits: number;
  trifectaHits: number;
}

const TRIFECTA_CODE = BET_TYPE_CODE.trifecta;

/** Prices rows (a range of the race index's tix) from the lookup; throws on a row it cannot price. */
export function priceRows(table: TicketTable, tix: Uint32Array, from: number, to: number, lookup: OutcomeLookup, onlyOpen: boolean): ColumnTotals & { tickets: number } {
  const totals = { cashDelta: 0, medalDelta: 0, hits: 0, trifectaHits: 0, tickets: 0 };
  for (let k = from; k < to; k++) {
    const row = tix[k] as number;
    if (onlyOpen && table.status.get(row) !== 0) continue;
    const cur = table.currency.get(row);
    const betType = table.betType.get(row);
    const i = cur * COMBO_KEY_SPACE + betType * 1000 + table.comboCode.get(row);
    const status = lookup.status[i] as number;
    invariant(status !== 0, `ticket ${table.idOf(row)} cannot be settled against this payout table (POOL.INVALID or BET.TYPE_NOT_SOLD)`);
    const pay = table.stakeUnits.get(row) * (lookup.per100[i] as number);
    if (cur === 0) totals.cashDelta += pay;
    else totals.medalDelta += pay;
    const hit = HIT_OF_STATUS[status as 1] ?? 0;
    totals.hits += hit;
    if (betType === TRIFECTA_CODE) totals.trifectaHits += hit;
    totals.tickets++;
  }
  return totals;
}

/** Writes the priced rows: status, per100, and one credit per paying ticket. */
export function writeRows(
  table: TicketTable,
  tix: Uint32Array,
  from: number,
  to: number,
  lookup: OutcomeLookup,
  onlyOpen: boolean,
  credit: (row: number, currencyCode: number, reasonCode: number, amount: number) => void,
): void {
  for (let k = from; k < to; k++) {
    const row = tix[k] as number;
    if (onlyOpen && table.status.get(row) !== 0) continue;
    const cur = table.currency.get(row);
    const i = cur * COMBO_KEY_SPACE + table.betType.get(row) * 1000 + table.comboCode.get(row);
    const status = lookup.status[i] as number;
    const per100 = lookup.per100[i] as number;
    table.status.set(row, status);
    table.per100.set(row, per100);
    const reason = REASON_OF_STATUS[status as 1] ?? -1;
    const pay = table.stakeUnits.get(row) * per100;
    if (reason >= 0 && pay > 0) credit(row, cur, reason, pay);
  }
}
