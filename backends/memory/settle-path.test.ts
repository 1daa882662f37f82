// The memory store's columnar settlement prices with the core's kernel (settleColumns): every
// ticket a user's settleUserColumns settles gets the status, per100 and payout the kernel and
// the object path (settleUserTickets) give it, the user's totals match, and a row the kernel
// cannot price (a combination code out of range) is refused as the kernel refuses it, not priced
// as some other bet type's combination.
import { describe, expect, it } from 'vitest';
import { FIELDS, randomPayoutTable, randomTickets } from '../../core/_fixtures/random-settlement.ts';
import type { PayoutTable } from '../../core/payout-table.ts';
import { createRng } from '../../core/rng.ts';
import { appendTicket, buildOutcomeLookup, createColumnOutput, createTicketColumns, settleColumns, STATUS_OF_CODE } from '../../core/settle-columns.ts';
import { settleUserTickets } from '../../core/settlement.ts';
import { BET_TYPE_CODE, type Field } from '../../core/sports.ts';
import type { Ticket } from '../../core/ticket.ts';
import { createMemoryStore } from './index.ts';

const RACE_ID = 'r1';

function kernelPrices(tickets: readonly Ticket[], field: Field, table: PayoutTable) {
  const columns = createTicketColumns(tickets.length);
  for (const t of tickets) {
    const r = appendTicket(columns, t, field);
    if (!r.ok) throw new Error(r.error.message);
  }
  const out = createColumnOutput(tickets.length);
  settleColumns(columns, buildOutcomeLookup(table, field), 0, tickets.length, out);
  return new Map(tickets.map((t, i) => [t.ticketId, { status: STATUS_OF_CODE[out.status[i] as number], per100: out.per100[i], payout: out.payout[i] }]));
}

describe('memory store columnar settlement', () => {
  for (const seed of [1, 2, 3]) {
    it(`settles every ticket as the core kernel and the object path do (seed ${seed})`, async () => {
      const rng = createRng(`settle-path/${seed}`);
      const field = FIELDS[seed % FIELDS.length] as Field;
      const table = randomPayoutTable(rng, field);
      const store = createMemoryStore();
      const userIds = Array.from({ length: 30 }, (_, i) => `u${String(i).padStart(2, '0')}`);
      await store.putUsers(userIds.map((userId) => ({ userId, cash: 0, medals: 0 })));
      await store.putRace({ raceId: RACE_ID, sport: field.sport, riders: field.riders, closeAtMs: 0, postAtMs: 0 });
      const ticketsOf = new Map(
        userIds.map((userId) => [userId, randomTickets(rng, field, table, { raceId: RACE_ID, userId, count: rng.int(1, 25), medalShare: 0.7, onlySettleable: true }).map((t) => ({ ...t, ticketId: `${userId}-${t.ticketId}` }))]),
      );
      await store.loadTickets([...ticketsOf.values()].flat());
      const lookup = buildOutcomeLookup(table, field);
      const expected = new Map<string, { status: string | undefined; per100: number | undefined; payout: number | undefined }>();
      for (const userId of userIds) {
        const tickets = ticketsOf.get(userId) as Ticket[];
        const r = await store.settleUserColumns(RACE_ID, userId, 1, lookup);
        const object = settleUserTickets({ raceId: RACE_ID, userId, resultVersion: 1, tickets, table, field });
        if (r.kind !== 'applied' || !object.ok) throw new Error(`${userId}: ${r.kind}, object path ok=${object.ok}`);
        const trifectaHits = object.value.outcomes.filter((o) => o.betType === 'trifecta' && (o.status === 'won' || o.status === 'special')).length;
        expect(r.settlement).toMatchObject({ cashDelta: object.value.cashDelta, medalDelta: object.value.medalDelta, hits: object.value.hits, trifectaHits, tickets: tickets.length });
        const kernel = kernelPrices(tickets, field, table);
        for (const o of object.value.outcomes) {
          expect(kernel.get(o.ticketId)).toEqual({ status: o.status, per100: o.per100, payout: o.payout });
          expected.set(o.ticketId, { status: o.status, per100: o.per100, payout: o.payout });
        }
      }
      let compared = 0;
      for await (const t of store.readback?.ticketsOfRace(RACE_ID) ?? []) {
        expect({ ticket: t.ticketId, status: t.status, per100: t.per100, payout: t.payout }).toEqual({ ticket: t.ticketId, ...expected.get(t.ticketId) });
        compared++;
      }
      expect(compared).toBe(expected.size);
      expect(compared).toBeGreaterThan(100);
    });
  }

  it("refuses a row whose combination code is out of range instead of pricing it as the next bet type's combination", async () => {
    const field: Field = { sport: 'keirin', riders: 9 };
    // Wide 1=3 pays; an exacta row with code 1013 lands on the same flattened entry (wide follows exacta).
    const table: PayoutTable = { sport: 'keirin', riders: 9, byType: { wide: { kind: 'special', per100: 70, winning: [13], refunded: new Set() } } };
    const store = createMemoryStore();
    await store.putUsers([{ userId: 'u1', cash: 0, medals: 0 }]);
    await store.putRace({ raceId: RACE_ID, sport: field.sport, riders: field.riders, closeAtMs: 0, postAtMs: 0 });
    const one = <A extends Uint8Array | Uint16Array | Uint32Array>(a: A, v: number): A => {
      a[0] = v;
      return a;
    };
    store.loadTicketColumns({
      raceId: RACE_ID,
      count: 1,
      userIdx: one(new Uint32Array(1), store.userIndexOf('u1')),
      betType: one(new Uint8Array(1), BET_TYPE_CODE.exacta),
      comboCode: one(new Uint16Array(1), 1013),
      stakeUnits: one(new Uint32Array(1), 2),
      currency: one(new Uint8Array(1), 0),
      ticketNumber: one(new Uint32Array(1), 1),
    });
    store.indexRace(RACE_ID);
    await expect(store.settleUserColumns(RACE_ID, 'u1', 1, buildOutcomeLookup(table, field))).rejects.toThrow('T1 cannot be settled against this payout table');
    expect(await store.readback?.balances('u1')).toEqual({ userId: 'u1', cash: 0, medals: 0 });
    const tickets = [];
    for await (const t of store.readback?.ticketsOfRace(RACE_ID) ?? []) tickets.push(t);
    expect(tickets.map((t) => t.status)).toEqual(['open']);
  });
});
