// Every refusal of an operation carries a stable code, graphql's own errors included: a document
// that does not parse or validate is GATEWAY.QUERY_INVALID, variables of the wrong type, missing
// or unknown are INPUT.INVALID (before, these came back with no code at all), over HTTP and over
// WebSocket, where the connection stays open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPEN_RACE, post, rawSocket, startWorld, tokenFor, type World } from './_fixtures/world.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

const PLACE = 'mutation($input: BetInput!, $key: String!) { placeBet(input: $input, idempotencyKey: $key) { ticket { ticketId } } }';
const valid = { raceId: OPEN_RACE, betType: 'trifecta', combination: '1-2-3', stake: 100 };

describe('codes of graphql errors', () => {
  const cases: readonly [string, string, Record<string, unknown>, string][] = [
    ['a syntax error', '{ balances { cash ', {}, 'GATEWAY.QUERY_INVALID'],
    ['an unknown field', '{ balances { gold } }', {}, 'GATEWAY.QUERY_INVALID'],
    ['two anonymous operations', '{ balances { cash } } { balances { medals } }', {}, 'GATEWAY.QUERY_INVALID'],
    ['a fractional stake', PLACE, { input: { ...valid, stake: 100.5 }, key: 'k' }, 'INPUT.INVALID'],
    ['a stake as text', PLACE, { input: { ...valid, stake: '100' }, key: 'k' }, 'INPUT.INVALID'],
    ['a missing stake', PLACE, { input: { raceId: OPEN_RACE, betType: 'trifecta', combination: '1-2-3' }, key: 'k' }, 'INPUT.INVALID'],
    ['an unknown input field', PLACE, { input: { ...valid, userId: 'bob' }, key: 'k' }, 'INPUT.INVALID'],
    ['an unknown currency', PLACE, { input: { ...valid, currency: 'gold' }, key: 'k' }, 'INPUT.INVALID'],
    ['a missing idempotency key', PLACE, { input: valid }, 'INPUT.INVALID'],
  ];
  it.each(cases)('over HTTP: %s', async (_what, query, variables, code) => {
    const r = await post(world.gateway, query, variables, await tokenFor('alice'));
    expect(r.body.errors?.map((e) => e.extensions?.code)).toEqual(expect.arrayContaining([code]));
    for (const e of r.body.errors ?? []) expect(e.extensions?.code).toMatch(/^[A-Z]+\.[A-Z_]+$/);
    expect(r.body.data ?? null).toBeNull();
  });

  it('over WebSocket: an error message with the code, the connection staying open', async () => {
    const s = rawSocket(world.gateway);
    await s.opened;
    s.ws.send(JSON.stringify({ type: 'connection_init', payload: { token: await tokenFor('alice') } }));
    for (let i = 0; i < 50 && !s.messages.some((m) => (m as { type: string }).type === 'connection_ack'); i++) await new Promise((r) => setTimeout(r, 20));
    s.ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription($a: Int) { notifications(afterSeq: $a) { seq } }', variables: { a: 'x' } } }));
    await new Promise((r) => setTimeout(r, 300));
    const error = s.messages.find((m) => (m as { type: string }).type === 'error') as { payload: { extensions?: { code?: string } }[] } | undefined;
    expect(error?.payload[0]?.extensions?.code).toBe('INPUT.INVALID');
    expect(s.ws.readyState).toBe(s.ws.OPEN);
    s.ws.close();
  });
});
