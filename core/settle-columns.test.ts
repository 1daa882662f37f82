// Proves the columnar fast path settles exactly like the object path: a fast-check property
// (seeded, printing its seed on failure) builds random fields, payout tables and tickets, settles
// them both ways and compares status, per100 and payout ticket by ticket and the totals; tickets
// the object path rejects settle as `invalid` in the columns, and out-of-range column values too.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIELDS, pick, randomPayoutTable, randomTickets } from './_fixtures/random-settlement.ts';
import { createRng } from './rng.ts';
import {
  appendTicket,
  buildOutcomeLookup,
  createColumnOutput,
  createTicketColumns,
  lookupIndex,
  settleColumns,
  STATUS_CODE,
  STATUS_OF_CODE,
  type TicketColumns,
} from './settle-columns.ts';
import { settleUserTickets } from './settlement.ts';
import type { PayoutTable } from './payout-table.ts';
import type { Field } from './sports.ts';

function columnsOf(tickets: Parameters<typeof appendTicket>[1][], field: Field): TicketColumns {
  const columns = createTicketColumns(tickets.length);
  for (const t of tickets) {
    const r = appendTicket(columns, t, field);
    if (!r.ok) throw new Error(r.error.message);
  }
  return columns;
}

function outputOf(n: number) {
  return createColumnOutput(n);
}

describe('settleColumns', () => {
  it('agrees ticket by ticket with settleUserTickets on random races', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 80 }), fc.boolean(), (seed, count, strict) => {
        const rng = createRng(seed);
        const field = pick(rng, FIELDS);
        const table = randomPayoutTable(rng, field, !strict);
        const tickets = randomTickets(rng, field, table, { raceId: 'r1', userId: 'u1', count, medalShare: 0.8, onlySettleable: strict });
        const columns = columnsOf(tickets, field);
        const lookup = buildOutcomeLookup(table, field);
        const out = outputOf(count);
        // Settle in two chunks to exercise the row range.
        const mid = rng.int(0, count);
        const first = settleColumns(columns, lookup, 0, mid, out);
        const second = settleColumns(columns, lookup, mid, count, out);
        const invalid = first.invalid + second.invalid;
        const object = settleUserTickets({ raceId: 'r1', userId: 'u1', resultVersion: 1, tickets, table, field });
        expect(object.ok).toBe(invalid === 0);
        if (!object.ok) return;
        const byId = new Map(object.value.outcomes.map((o) => [o.ticketId, o]));
        tickets.forEach((t, i) => {
          const o = byId.get(t.ticketId);
          const k = lookupIndex(columns.currency[i] as number, columns.betType[i] as number, columns.comboCode[i] as number);
          expect([STATUS_OF_CODE[out.status[i] as number], lookup.per100[k], out.per100[i], out.payout[i]]).toEqual([o?.status, o?.per100, o?.per100, o?.payout]);
        });
        expect(first.cashPaid + second.cashPaid).toBe(object.value.cashDelta);
        expect(first.medalsPaid + second.medalsPaid).toBe(object.value.medalDelta);
        expect(first.hits + second.hits).toBe(object.value.hits);
        const trifectaHits = object.value.outcomes.filter((o) => o.betType === 'trifecta' && (o.status === 'won' || o.status === 'special')).length;
        expect(first.trifectaHits + second.trifectaHits).toBe(trifectaHits);
      }),
    );
  });

  it('settles out-of-range column values as invalid, paying nothing', () => {
    const field: Field = { sport: 'keirin', riders: 7 };
    const table: PayoutTable = { sport: 'keirin', riders: 7, byType: { exacta: { kind: 'special', per100: 70, winning: [12], refunded: new Set() } } };
    const lookup = buildOutcomeLookup(table, field);
    const columns = createTicketColumns(5);
    const rows: [number, number, number][] = [
      [5, 12, 0], // exacta 1-2 cash: special
      [5, 1200, 0], // code beyond three digits
      [20, 12, 1], // no such bet type
      [5, 12, 7], // no such currency
      [3, 12, 1], // bracket_exacta is not sold in a 7-rider race
    ];
    rows.forEach(([bt, code, cur], i) => {
      columns.betType[i] = bt;
      columns.comboCode[i] = code;
      columns.currency[i] = cur;
      columns.stakeUnits[i] = 3;
    });
    columns.count = rows.length;
    const out = outputOf(rows.length);
    const totals = settleColumns(columns, lookup, 0, rows.length, out);
    expect([...out.status]).toEqual([STATUS_CODE.special, 0, 0, 0, 0]);
    expect([...out.payout]).toEqual([210, 0, 0, 0, 0]);
    expect([...out.per100]).toEqual([70, 0, 0, 0, 0]);
    expect(totals).toEqual({ cashPaid: 210, medalsPaid: 0, hits: 1, trifectaHits: 0, invalid: 4 });
  });

  it('rejects a bad row range and invalid tickets on append', () => {
    const field: Field = { sport: 'keirin', riders: 9 };
    const columns = createTicketColumns(1);
    const lookup = buildOutcomeLookup({ sport: 'keirin', riders: 9, byType: {} }, field);
    expect(() => settleColumns(columns, lookup, 0, 1, outputOf(1))).toThrow(/bad row range/);
    const bad = appendTicket(columns, { ticketId: 't', userId: 'u', raceId: 'r', betType: 'trifecta', combination: '1-1-2', stake: 100, currency: 'cash' }, field);
    expect(!bad.ok && bad.error.code).toBe('BET.COMBINATION_INVALID');
    expect(columns.count).toBe(0);
  });
});
