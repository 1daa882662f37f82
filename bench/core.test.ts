// `raceday bench core`'s pathsAgree compares the kernel and the object path ticket by ticket:
// two tickets whose payouts are swapped leave the totals equal and must still count as a mismatch.
import { expect, it } from 'vitest';
import { createColumnOutput, createTicketColumns, STATUS_CODE } from '../core/settle-columns.ts';
import type { TicketOutcome } from '../core/settlement-record.ts';
import { compareTickets } from './core.ts';

function twoTickets() {
  const columns = createTicketColumns(2);
  columns.count = 2;
  columns.stakeUnits.set([1, 1]);
  columns.currency.set([0, 0]);
  const out = createColumnOutput(2);
  out.status.set([STATUS_CODE.won, STATUS_CODE.won]);
  out.per100.set([150, 300]);
  out.payout.set([150, 300]);
  return { columns, out };
}

const won = (ticketId: string, per100: number): TicketOutcome => ({ ticketId, status: 'won', per100, payout: per100, currency: 'cash', betType: 'exacta' });

it('agrees when every ticket matches', () => {
  const { columns, out } = twoTickets();
  expect(compareTickets(columns, out, [won('t0', 150), won('t1', 300)])).toEqual({ compared: 2, mismatches: 0 });
});

it('finds tickets that differ although the totals agree', () => {
  const { columns, out } = twoTickets();
  const r = compareTickets(columns, out, [won('t0', 300), won('t1', 150)]);
  expect(r.mismatches).toBe(2);
  expect(r.first).toEqual({ row: 0, columns: { status: 'won', per100: 150, payout: 150, currency: 'cash' }, object: { status: 'won', per100: 300, payout: 300, currency: 'cash' } });
});

it('counts a ticket the object path did not settle, and a currency that differs', () => {
  const { columns, out } = twoTickets();
  expect(compareTickets(columns, out, [undefined, { ...won('t1', 300), currency: 'medal' }]).mismatches).toBe(2);
});
