// The Spanner store's columnar settle function prices with the core kernel: on random races its
// settlement equals the object path's (settleUserTickets) outcome by outcome, ledger and totals,
// and a ticket the lookup cannot price fails instead of being paid.
import { expect, it } from 'vitest';
import { FIELDS, pick, randomPayoutTable, randomTickets } from '../../core/_fixtures/random-settlement.ts';
import { createRng } from '../../core/rng.ts';
import { buildOutcomeLookup } from '../../core/settle-columns.ts';
import { settleUserTickets } from '../../core/settlement.ts';
import { computeFromLookup, summaryOf } from './spanner-columns.ts';

it('settles like the object path on random races', () => {
  for (let seed = 0; seed < 40; seed++) {
    const rng = createRng(`spanner-columns/${seed}`);
    const field = pick(rng, FIELDS);
    const table = randomPayoutTable(rng, field);
    const tickets = randomTickets(rng, field, table, { raceId: 'r1', userId: 'u1', count: rng.int(1, 40), medalShare: 0.6, onlySettleable: true });
    const object = settleUserTickets({ raceId: 'r1', userId: 'u1', resultVersion: 2, tickets, table, field });
    if (!object.ok) throw new Error(object.error.message);
    const columns = computeFromLookup(buildOutcomeLookup(table, field), 2)({ raceId: 'r1', userId: 'u1', tickets });
    const byId = <T extends { ticketId?: string; ref?: string }>(xs: readonly T[]) => [...xs].sort((a, b) => ((a.ticketId ?? a.ref ?? '') < (b.ticketId ?? b.ref ?? '') ? -1 : 1));
    expect(byId(columns.outcomes)).toEqual(byId(object.value.outcomes));
    expect(byId(columns.ledger)).toEqual(byId(object.value.ledger));
    expect(summaryOf(columns)).toEqual(summaryOf(object.value));
  }
});

it('refuses a ticket the lookup has no price for', () => {
  const field = { sport: 'keirin', riders: 7 } as const;
  const lookup = buildOutcomeLookup({ sport: 'keirin', riders: 7, byType: {} }, field);
  const ticket = { ticketId: 't1', userId: 'u1', raceId: 'r1', betType: 'exacta', combination: '1-2', stake: 100, currency: 'cash' } as const;
  expect(() => computeFromLookup(lookup, 1)({ raceId: 'r1', userId: 'u1', tickets: [ticket] })).toThrow('has no price in the outcome lookup');
});
