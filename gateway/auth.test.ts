// Authentication against a real gateway: no token, a token signed with another key, an expired
// token, on HTTP (401 with the code) and on graphql-transport-ws (closed 4401 with the code as
// reason); a valid token of another user sees that user's data, never the first user's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, signToken, verifyToken } from './auth.ts';
import { OPEN_RACE, post, rawSocket, SECRET, startWorld, take, tokenFor, wsClient, type World } from './_fixtures/world.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

const OTHER_SECRET = 'another-secret-that-is-also-32-bytes-long';
const badTokens = async (): Promise<readonly [string, string | undefined, string][]> => [
  ['no token', undefined, 'GATEWAY.UNAUTHENTICATED'],
  ['a token signed with another key', await signToken('alice', OTHER_SECRET, 600), 'GATEWAY.TOKEN_INVALID'],
  ['an expired token', await signToken('alice', SECRET, -60), 'GATEWAY.TOKEN_EXPIRED'],
  ['a malformed token', 'not.a.jwt', 'GATEWAY.TOKEN_INVALID'],
];

describe('verifyToken', () => {
  it('round-trips the user id and refuses a tampered payload', async () => {
    const token = await tokenFor('alice');
    expect(await verifyToken(token, SECRET)).toEqual({ ok: true, value: { userId: 'alice' } });
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'bob', exp: 9_999_999_999 })).toString('base64url')}.${s}`;
    const r = await verifyToken(forged, SECRET);
    expect(r.ok ? 'accepted' : r.error.code).toBe('GATEWAY.TOKEN_INVALID');
  });

  it('refuses a secret shorter than 32 bytes', async () => {
    await expect(signToken('alice', 'short', 60)).rejects.toThrow(/at least 32 bytes/);
  });
});

describe('createTokenVerifier', () => {
  it('answers a token it verified until the token expires, then refuses it as expired', async () => {
    const verify = createTokenVerifier(SECRET);
    const token = await signToken('alice', SECRET, 1);
    expect(await verify(token)).toEqual({ ok: true, value: { userId: 'alice' } });
    expect(await verify(token)).toEqual({ ok: true, value: { userId: 'alice' } });
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { exp: number };
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50));
    const r = await verify(token);
    expect(r.ok ? 'accepted' : r.error.code).toBe('GATEWAY.TOKEN_EXPIRED');
  });

  it('a token of another key is refused every time, and is not remembered by a verifier of its own key', async () => {
    const other = await signToken('alice', OTHER_SECRET, 600);
    const verify = createTokenVerifier(SECRET);
    for (let i = 0; i < 2; i++) {
      const r = await verify(other);
      expect(r.ok ? 'accepted' : r.error.code).toBe('GATEWAY.TOKEN_INVALID');
    }
    expect((await createTokenVerifier(OTHER_SECRET)(other)).ok).toBe(true);
  });
});

describe('HTTP authentication', () => {
  it.each([0, 1, 2, 3])('case %i is answered 401 with its code, nothing executed', async (i) => {
    const [, token, code] = (await badTokens())[i] as [string, string | undefined, string];
    const before = await world.store.readback?.balances('alice');
    const r = await post(world.gateway, 'mutation { placeBet(input: {raceId: "race-open", betType: "trifecta", combination: "1-2-3", stake: 100}, idempotencyKey: "a1") { ticket { ticketId } } }', {}, token);
    expect(r.status).toBe(401);
    expect(r.body.errors?.[0]?.extensions?.code).toBe(code);
    expect(await world.store.readback?.balances('alice')).toEqual(before);
  });

  it("a valid token of another user reads that user's balances, not alice's", async () => {
    await post(world.gateway, 'mutation { placeBet(input: {raceId: "race-open", betType: "trifecta", combination: "1-2-3", stake: 300}, idempotencyKey: "alice-1") { ticket { ticketId } } }', {}, await tokenFor('alice'));
    const bob = await post(world.gateway, '{ balances { userId cash } tickets(raceId: "race-open") { ticketId } }', {}, await tokenFor('bob'));
    expect(bob.body.data).toEqual({ balances: { userId: 'bob', cash: 10_000 }, tickets: [] });
    const alice = await post(world.gateway, '{ balances { userId cash } tickets(raceId: "race-open") { stake } }', {}, await tokenFor('alice'));
    expect(alice.body.data).toEqual({ balances: { userId: 'alice', cash: 9_700 }, tickets: [{ stake: 300 }] });
  });
});

describe('WebSocket authentication', () => {
  it.each([0, 1, 2, 3])('case %i closes the connection 4401 with its code as the reason', async (i) => {
    const [, token, code] = (await badTokens())[i] as [string, string | undefined, string];
    let closed: { code: number; reason: string } | undefined;
    const client = wsClient(world.gateway, token, (c, reason) => (closed = { code: c, reason }));
    const r = await take(client, 'subscription { notifications { seq } }', {}, 1);
    await client.dispose();
    expect(r.results).toEqual([]);
    expect(closed).toEqual({ code: 4401, reason: code });
  });

  it('a subscribe before connection_init is refused 4401 by the protocol', async () => {
    const s = rawSocket(world.gateway);
    await s.opened;
    s.ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: 'subscription { notifications { seq } }' } }));
    expect((await s.closed).code).toBe(4401);
  });

  it("a subscription with bob's token gets bob's notifications only", async () => {
    const client = wsClient(world.gateway, await tokenFor('bob'));
    const got = take<{ notifications: { seq: number; raceId: string } }>(client, 'subscription { notifications { seq raceId } }', {}, 1, 1_500);
    await new Promise((r) => setTimeout(r, 200));
    const body = (userId: string, seq: number) => ({ userId, raceId: OPEN_RACE, kind: 'settled' as const, payload: { kind: 'settled' as const, raceId: OPEN_RACE, settlementId: `s-${userId}`, cash: 0, medals: 0, hits: 0 }, publishedAt: Date.now(), notificationId: `n-${userId}`, seq });
    await world.gateway.deliver(body('alice', 7), Date.now());
    await world.gateway.deliver(body('bob', 3), Date.now());
    const r = await got;
    await client.dispose();
    expect(r.results).toEqual([{ notifications: { seq: 3, raceId: OPEN_RACE } }]);
  });
});
