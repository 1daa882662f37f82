// The gateway end to end with real clients: a notification reaches its owner's subscriptions and
// no one else's; notifications(afterSeq) replays what the Store holds after afterSeq, then live
// ones, in order, once; odds frames reach the race's watchers; /metrics and /healthz answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationBody } from '../core/notification.ts';
import { OPEN_RACE, startWorld, take, tokenFor, wsClient, type World } from './_fixtures/world.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

const settled = (userId: string, n: number): NotificationBody => ({
  userId,
  raceId: OPEN_RACE,
  kind: 'settled',
  payload: { kind: 'settled', raceId: OPEN_RACE, settlementId: `s-${userId}-${n}`, cash: n * 100, medals: 0, hits: 1 },
  publishedAt: Date.now(),
  notificationId: `n-${userId}-${n}`,
});

const settle = () => new Promise((r) => setTimeout(r, 150));

describe('notifications', () => {
  it("reach every subscription of their owner and nobody else's", async () => {
    const carol1 = wsClient(world.gateway, await tokenFor('carol'));
    const carol2 = wsClient(world.gateway, await tokenFor('carol'));
    const bob = wsClient(world.gateway, await tokenFor('bob'));
    const q = 'subscription { notifications { seq notificationId } }';
    const [a, b, c] = [take(carol1, q, {}, 1, 1_000), take(carol2, q, {}, 1, 1_000), take(bob, q, {}, 1, 1_000)];
    await settle();
    const [seq] = await world.store.appendNotifications([settled('carol', 1)]);
    await world.gateway.deliver({ ...settled('carol', 1), seq: seq as number }, Date.now());
    const expected = [{ notifications: { seq, notificationId: 'n-carol-1' } }];
    expect((await a).results).toEqual(expected);
    expect((await b).results).toEqual(expected);
    expect((await c).results).toEqual([]);
    await Promise.all([carol1.dispose(), carol2.dispose(), bob.dispose()]);
  });

  it('notifications(afterSeq) replays the Store after afterSeq, then live ones, in order, once', async () => {
    const seqs = await world.store.appendNotifications([1, 2, 3].map((n) => settled('alice', n)));
    expect(seqs).toEqual([1, 2, 3]);
    const client = wsClient(world.gateway, await tokenFor('alice'));
    const got = take<{ notifications: { seq: number; notificationId: string } }>(client, 'subscription($a: Int) { notifications(afterSeq: $a) { seq notificationId } }', { a: 1 }, 4, 800);
    await settle();
    const [four] = await world.store.appendNotifications([settled('alice', 4)]);
    // A redelivery of 3 and the live 4 twice: each is delivered once.
    await world.gateway.deliver({ ...settled('alice', 3), seq: 3 }, Date.now());
    await world.gateway.deliver({ ...settled('alice', 4), seq: four as number }, Date.now());
    await world.gateway.deliver({ ...settled('alice', 4), seq: four as number }, Date.now());
    const { results } = await got;
    await client.dispose();
    expect(results.map((r) => r.notifications)).toEqual([2, 3, 4].map((n) => ({ seq: n, notificationId: `n-alice-${n}` })));
  });

  it('a live frame after a gap brings the missing ones from the Store first', async () => {
    const client = wsClient(world.gateway, await tokenFor('alice'));
    const got = take<{ notifications: { seq: number } }>(client, 'subscription { notifications { seq } }', {}, 3, 2_000);
    await settle();
    const [five, six, seven] = await world.store.appendNotifications([5, 6, 7].map((n) => settled('alice', n)));
    await world.gateway.deliver({ ...settled('alice', 5), seq: five as number }, Date.now());
    // 6 was lost (a policy dropped it): 7 arrives, and 6 comes from the Store before it.
    await world.gateway.deliver({ ...settled('alice', 7), seq: seven as number }, Date.now());
    const { results } = await got;
    await client.dispose();
    expect(results.map((r) => r.notifications.seq)).toEqual([five, six, seven]);
  });
});

describe('odds', () => {
  it("reach the race's watchers with the fields each asked for", async () => {
    const a = wsClient(world.gateway, await tokenFor('alice'));
    const b = wsClient(world.gateway, await tokenFor('bob'));
    const ga = take(a, 'subscription { odds(raceId: "race-open") { raceId sentAt odds } }', {}, 2, 1_500);
    const gb = take(b, 'subscription { o: odds(raceId: "race-open") { sentAt ... on Odds { kind: __typename } } }', {}, 2, 1_500);
    await settle();
    expect([...world.gateway.watchedRaces()]).toEqual([OPEN_RACE]);
    const frames = [1, 2].map((i) => ({ raceId: OPEN_RACE, sentAt: 1_000 + i, odds: { trifecta: { '1-2-3': `${i}.5` } } }));
    for (const f of frames) world.gateway.publishOdds(OPEN_RACE, f, JSON.stringify(f).length);
    expect((await ga).results).toEqual(frames.map((f) => ({ odds: f })));
    expect((await gb).results).toEqual(frames.map((f) => ({ o: { sentAt: f.sentAt, kind: 'Odds' } })));
    await Promise.all([a.dispose(), b.dispose()]);
    await settle();
    expect([...world.gateway.watchedRaces()]).toEqual([]);
  });

  it('a race that does not exist is refused with RACE.UNKNOWN', async () => {
    const a = wsClient(world.gateway, await tokenFor('alice'));
    const r = await take(a, 'subscription { odds(raceId: "no-race") { sentAt } }', {}, 1, 1_000);
    await a.dispose();
    expect(r.results).toEqual([]);
    expect(r.errors[0]).toMatchObject({ extensions: { code: 'RACE.UNKNOWN', field: 'raceId' } });
  });
});

describe('/metrics and /healthz', () => {
  it('serve Prometheus text and a health answer', async () => {
    const health = await fetch(world.gateway.url.replace('/graphql', '/healthz'));
    expect(await health.json()).toEqual({ ok: true });
    const metrics = await fetch(world.gateway.url.replace('/graphql', '/metrics'));
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await metrics.text();
    expect(text).toMatch(/^raceday_gateway_connections \d+$/m);
    expect(text).toMatch(/raceday_gateway_delivery_latency_seconds_count\{kind="notification"\} [1-9]/);
  });
});

describe('close', () => {
  it('finishes within seconds with a stalled client owing megabytes, and frees its socket', async () => {
    const { stalledGraphqlClient } = await import('./policies/_fixtures/stalled-graphql-client.ts');
    const own = await startWorld({ policy: 'unbounded' });
    const stalled = await stalledGraphqlClient(own.gateway.wsUrl, await tokenFor('alice'), 'subscription { odds(raceId: "race-open") { sentAt odds } }');
    await new Promise((r) => setTimeout(r, 100));
    const odds = { trifecta: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, '12.5'])) };
    for (let i = 0; i < 2_000; i++) own.gateway.publishOdds(OPEN_RACE, { raceId: OPEN_RACE, sentAt: Date.now(), odds }, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await own.close();
    stalled.close();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(own.gateway.stats().connections).toBe(0);
  });
});

describe('a store that fails', () => {
  it('fails the subscription that needed it with GATEWAY.UNAVAILABLE and keeps the connection', async () => {
    const { startGateway } = await import('./server.ts');
    const { createMemoryStore, createRealClock } = await import('../backends/memory/index.ts');
    const store = createMemoryStore({ clock: createRealClock() });
    const broken = Object.assign(Object.create(store) as typeof store, { getRace: () => Promise.reject(new Error('store unreachable')) });
    const { SECRET } = await import('./_fixtures/world.ts');
    const gateway = await startGateway({ store: broken, secret: SECRET, log: () => undefined });
    try {
      const client = wsClient(gateway, await tokenFor('alice'));
      const odds = await take(client, 'subscription { odds(raceId: "race-open") { sentAt } }', {}, 1, 1_000);
      expect(odds.errors[0]).toMatchObject({ extensions: { code: 'GATEWAY.UNAVAILABLE' } });
      const again = take<{ notifications: { seq: number } }>(client, 'subscription { notifications { seq } }', {}, 1, 1_000);
      await new Promise((r) => setTimeout(r, 150));
      await gateway.deliver({ userId: 'alice', raceId: 'r', kind: 'settled', payload: { kind: 'settled', raceId: 'r', settlementId: 's', cash: 0, medals: 0, hits: 0 }, publishedAt: Date.now(), notificationId: 'n', seq: 1 }, Date.now());
      expect((await again).results).toEqual([{ notifications: { seq: 1 } }]);
      await client.dispose();
    } finally {
      await gateway.close();
    }
  });
});

describe('recoveryIdleCheckMs', () => {
  it('brings a notification the live path never delivered once the feed has been quiet that long', async () => {
    const { startGateway } = await import('./server.ts');
    const { createMemoryStore, createRealClock } = await import('../backends/memory/index.ts');
    const { SECRET } = await import('./_fixtures/world.ts');
    const store = createMemoryStore({ clock: createRealClock() });
    const gateway = await startGateway({ store, secret: SECRET, recoveryIdleCheckMs: 100, log: () => undefined });
    try {
      const client = wsClient(gateway, await tokenFor('dave'));
      const got = take<{ notifications: { seq: number; notificationId: string } }>(client, 'subscription { notifications(afterSeq: 0) { seq notificationId } }', {}, 1, 2_000);
      await settle();
      // Logged in the store, never delivered live (as if a policy had dropped the frame).
      await store.appendNotifications([settled('dave', 1)]);
      expect((await got).results).toEqual([{ notifications: { seq: 1, notificationId: 'n-dave-1' } }]);
      await client.dispose();
    } finally {
      await gateway.close();
    }
  });
});
