// Generated cross-user attempts against a real gateway: a caller with a valid token sends queries,
// mutations and subscriptions whose arguments name other users, their tickets, their idempotency
// keys, their notification numbers and races. Whatever the mix, the data answered never holds
// another user's ids, tickets or notifications (error messages may echo the arguments, so only
// `data` is checked; nothing else can carry another user's data).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationBody } from '../core/notification.ts';
import { ticketIdFor } from './place-bet.ts';
import { OPEN_RACE, post, startWorld, take, tokenFor, USERS, wsClient, type World } from './_fixtures/world.ts';

let world: World;
/** Everything that belongs to one user and must never reach another. */
const secrets = new Map<string, string[]>();
const keysOf = (u: string): string[] => [`${u}-key-1`, `${u}-key-2`];

const notification = (userId: string, i: number): NotificationBody & { seq: number } => ({
  userId,
  raceId: OPEN_RACE,
  kind: 'settled',
  payload: { kind: 'settled', raceId: OPEN_RACE, settlementId: `stl-${userId}-${i}`, cash: 100 * i, medals: 0, hits: 1 },
  publishedAt: Date.now(),
  notificationId: `ntf-${userId}-${i}`,
  seq: i,
});

beforeAll(async () => {
  world = await startWorld();
  for (const u of USERS) {
    const token = await tokenFor(u);
    for (const [i, key] of keysOf(u).entries()) {
      await post(world.gateway, 'mutation($k: String!, $c: String!) { placeBet(input: {raceId: "race-open", betType: "exacta", combination: $c, stake: 100}, idempotencyKey: $k) { ticket { ticketId } } }', { k: key, c: `${i + 1}-${i + 2}` }, token);
    }
    await world.store.appendNotifications([1, 2, 3].map((i) => notification(u, i)));
    secrets.set(u, [...keysOf(u).map((k) => ticketIdFor(u, k)), ...[1, 2, 3].flatMap((i) => [`ntf-${u}-${i}`, `stl-${u}-${i}`]), `"userId":"${u}"`]);
  }
});
afterAll(() => world.close());

const othersSecrets = (caller: string): string[] => USERS.filter((u) => u !== caller).flatMap((u) => secrets.get(u) ?? []);

/** Argument values an attacker would try: other users' ids, ticket ids, keys, races, odd strings. */
const argument = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...USERS),
    fc.constantFrom(...USERS.flatMap((u) => keysOf(u).map((k) => ticketIdFor(u, k)))),
    fc.constantFrom(...USERS.flatMap(keysOf)),
    fc.constantFrom(OPEN_RACE, 'race-closed', '', '*', '%', '../bob', 'bob" OR "1"="1'),
    fc.string({ maxLength: 12 }),
  );

/** A race argument: mostly the race where every user holds tickets, so a leak would show. */
const raceArgument = (): fc.Arbitrary<string> => fc.oneof({ arbitrary: fc.constant(OPEN_RACE), weight: 3 }, { arbitrary: argument(), weight: 1 });

const operation = fc.oneof(
  fc.record({ kind: fc.constant('balances' as const) }),
  fc.record({ kind: fc.constant('tickets' as const), raceId: raceArgument() }),
  fc.record({ kind: fc.constant('ticket' as const), raceId: raceArgument(), ticketId: argument() }),
  fc.record({ kind: fc.constant('missed' as const), afterSeq: fc.integer({ min: -1, max: 5 }) }),
  fc.record({ kind: fc.constant('place' as const), key: argument(), raceId: raceArgument() }),
  fc.record({ kind: fc.constant('named' as const), userId: argument() }),
);

type Op = typeof operation extends fc.Arbitrary<infer T> ? T : never;

function request(op: Op): { query: string; variables: Record<string, unknown> } {
  switch (op.kind) {
    case 'balances':
      return { query: '{ balances { userId cash medals } }', variables: {} };
    case 'tickets':
      return { query: 'query($r: ID!) { tickets(raceId: $r) { ticketId raceId stake } }', variables: { r: op.raceId } };
    case 'ticket':
      return { query: 'query($r: ID!, $t: ID!) { ticket(raceId: $r, ticketId: $t) { ticketId stake } }', variables: { r: op.raceId, t: op.ticketId } };
    case 'missed':
      return { query: 'query($a: Int!) { missedNotifications(afterSeq: $a) { seq notificationId payload } }', variables: { a: op.afterSeq } };
    case 'place':
      return { query: 'mutation($r: ID!, $k: String!) { placeBet(input: {raceId: $r, betType: "win", combination: "1", stake: 100}, idempotencyKey: $k) { ticket { ticketId } balances { userId cash } } }', variables: { r: op.raceId, k: op.key } };
    case 'named':
      // No field takes a user id: naming one is a validation error, never another user's data.
      return { query: 'query($u: ID!) { balances(userId: $u) { userId cash } }', variables: { u: op.userId } };
  }
}

describe("a caller never sees another user's data", () => {
  it('over HTTP, whatever the arguments name', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...USERS), operation, async (caller, op) => {
        const { query, variables } = request(op);
        const r = await post(world.gateway, query, variables, await tokenFor(caller));
        const data = JSON.stringify(r.body.data ?? null);
        for (const s of othersSecrets(caller)) expect(data).not.toContain(s);
        if (op.kind === 'balances') expect(r.body.data?.['balances']).toMatchObject({ userId: caller });
        if (op.kind === 'missed' && op.afterSeq >= 0) {
          const got = (r.body.data?.['missedNotifications'] as { notificationId: string }[]).map((n) => n.notificationId);
          expect(got).toEqual([1, 2, 3].filter((i) => i > op.afterSeq).map((i) => `ntf-${caller}-${i}`));
        }
      }),
      { numRuns: 150 },
    );
  });

  it("over WebSocket: notifications subscribed with any afterSeq carry only the caller's own", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...USERS), fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }), async (caller, afterSeq) => {
        const client = wsClient(world.gateway, await tokenFor(caller));
        const got = take<{ notifications: { notificationId: string; payload: unknown } }>(client, 'subscription($a: Int) { notifications(afterSeq: $a) { notificationId payload } }', afterSeq === undefined ? {} : { a: afterSeq }, 50, 400);
        await new Promise((r) => setTimeout(r, 100));
        for (const u of USERS) await world.gateway.deliver(notification(u, 10), Date.now());
        const { results } = await got;
        await client.dispose();
        const data = JSON.stringify(results);
        for (const s of [...othersSecrets(caller), ...USERS.filter((u) => u !== caller).map((u) => `ntf-${u}-10`)]) expect(data).not.toContain(s);
        expect(data).toContain(`ntf-${caller}-10`);
      }),
      { numRuns: 12 },
    );
  });
});
