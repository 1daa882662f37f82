// placeBet through a real gateway over HTTP: a valid bet is accepted once per idempotency key
// (retries, even concurrent ones, answer the same ticket and debit once), and every invalid bet
// gets its precise code with the balances and tickets left exactly as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASH, CLOSED_RACE, OPEN_RACE, post, startWorld, tokenFor, type World } from './_fixtures/world.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

const PLACE = `mutation($input: BetInput!, $key: String!) {
  placeBet(input: $input, idempotencyKey: $key) { ticket { ticketId raceId betType combination stake currency status } balances { cash medals } }
}`;

interface Bet {
  raceId: string;
  betType: string;
  combination: string;
  stake: number;
  currency?: string;
}
const bet = (over: Partial<Bet> = {}): Bet => ({ raceId: OPEN_RACE, betType: 'trifecta', combination: '3-1-5', stake: 200, ...over });

async function place(userId: string, input: Bet, key: string) {
  return post(world.gateway, PLACE, { input, key }, await tokenFor(userId));
}

async function holdings(userId: string) {
  const r = await post(world.gateway, '{ balances { cash medals } tickets(raceId: "race-open") { ticketId stake } }', {}, await tokenFor(userId));
  return r.body.data;
}

describe('placeBet', () => {
  it('accepts a valid bet once per idempotency key: retries answer the same ticket, debited once', async () => {
    const first = await place('alice', bet(), 'key-1');
    const ticket = (first.body.data?.['placeBet'] as { ticket: { ticketId: string } }).ticket;
    expect(first.body.data?.['placeBet']).toEqual({ ticket: { ...ticket, raceId: OPEN_RACE, betType: 'trifecta', combination: '3-1-5', stake: 200, currency: 'cash', status: 'open' }, balances: { cash: CASH - 200, medals: 500 } });
    const retries = await Promise.all(Array.from({ length: 8 }, () => place('alice', bet(), 'key-1')));
    for (const r of retries) expect((r.body.data?.['placeBet'] as { ticket: { ticketId: string } }).ticket.ticketId).toBe(ticket.ticketId);
    expect(await holdings('alice')).toEqual({ balances: { cash: CASH - 200, medals: 500 }, tickets: [{ ticketId: ticket.ticketId, stake: 200 }] });
  });

  it('the same key of another user is another ticket', async () => {
    const r = await place('bob', bet(), 'key-1');
    expect(r.body.errors).toBeUndefined();
    expect((await holdings('bob'))?.['balances']).toEqual({ cash: CASH - 200, medals: 500 });
  });

  it('concurrent first attempts with one key place one ticket', async () => {
    const before = await holdings('carol');
    const all = await Promise.all(Array.from({ length: 10 }, () => place('carol', bet({ combination: '1-2-3', stake: 100, currency: 'medal' }), 'rush')));
    expect(new Set(all.map((r) => (r.body.data?.['placeBet'] as { ticket: { ticketId: string } }).ticket.ticketId)).size).toBe(1);
    const after = await holdings('carol');
    expect(after?.['balances']).toEqual({ cash: (before?.['balances'] as { cash: number }).cash, medals: 400 });
  });

  const refusals: readonly [string, Bet, string, string, string?][] = [
    ['an unknown race', bet({ raceId: 'no-such-race' }), 'k-a', 'RACE.UNKNOWN', 'raceId'],
    ['an unknown bet type', bet({ betType: 'superfecta' }), 'k-b', 'BET.TYPE_UNKNOWN', 'betType'],
    ['a bet type the field does not sell', bet({ raceId: CLOSED_RACE, betType: 'bracket_exacta', combination: '1-2' }), 'k-c', 'BET.TYPE_NOT_SOLD', 'betType'],
    ['a combination with a rider twice', bet({ combination: '1-1-3' }), 'k-d', 'BET.COMBINATION_INVALID', 'combination'],
    ['a rider out of the field', bet({ combination: '1-2-10' }), 'k-e', 'BET.COMBINATION_INVALID', 'combination'],
    ['a stake not a multiple of 100', bet({ stake: 150 }), 'k-f', 'BET.STAKE_INVALID', 'stake'],
    ['a stake of zero', bet({ stake: 0 }), 'k-g', 'BET.STAKE_INVALID', 'stake'],
    ['a stake above the balance', bet({ stake: CASH + 100 }), 'k-h', 'BET.INSUFFICIENT_BALANCE', 'stake'],
    ['a closed race', bet({ raceId: CLOSED_RACE, combination: '1-2-3' }), 'k-i', 'BET.RACE_CLOSED', 'raceId'],
    ['an empty idempotency key', bet(), '', 'GATEWAY.IDEMPOTENCY_KEY_INVALID', 'idempotencyKey'],
    ['a key longer than 128 characters', bet(), 'k'.repeat(129), 'GATEWAY.IDEMPOTENCY_KEY_INVALID', 'idempotencyKey'],
    ['a key that already placed a different bet', bet({ combination: '5-1-3' }), 'key-1', 'GATEWAY.IDEMPOTENCY_KEY_REUSED', 'idempotencyKey'],
  ];

  it.each(refusals)('refuses %s with its code and leaves the balances and tickets as they were', async (_what, input, key, code, field) => {
    const before = await holdings('alice');
    const r = await place('alice', input, key);
    expect(r.body.errors?.[0]?.extensions).toEqual(field === undefined ? { code } : { code, field });
    expect(r.body.data ?? null).toBeNull();
    expect(await holdings('alice')).toEqual(before);
  });

  it('an input naming a user is not valid GraphQL: the caller comes from the token only', async () => {
    const before = await holdings('bob');
    const r = await post(world.gateway, 'mutation { placeBet(input: {raceId: "race-open", betType: "trifecta", combination: "1-2-3", stake: 100, userId: "bob"}, idempotencyKey: "x") { ticket { ticketId } } }', {}, await tokenFor('alice'));
    expect(r.body.errors?.[0]?.message).toMatch(/userId/);
    expect(await holdings('bob')).toEqual(before);
  });
});
