// The `redis` intake with a real redis-server (emulators/redis.ts): the pipeline's bus wrapped by
// createRedisNotificationsBus publishes notifications to Redis, and two gateway instances'
// intakes both receive every one, on one channel or on user-sharded channels; other topics stay
// on the wrapped bus.
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBus, createRealClock } from '../../backends/memory/index.ts';
import { TOPICS } from '../../core/topology.ts';
import { ensureRedis, type RedisHandle } from '../../emulators/redis.ts';
import { connectRedisNotificationsBus, createRedisIntake, createRedisNotificationsBus, readRedisDeadLetters, redisChannelOf, redisChannels } from './redis.ts';
import { collecting, eventually, notificationMessages } from './_fixtures/messages.ts';

let redis: RedisHandle;
let publisher: ReturnType<typeof createClient>;

beforeAll(async () => {
  redis = await ensureRedis();
  publisher = createClient({ url: redis.url });
  await publisher.connect();
}, 60_000);

afterAll(async () => {
  await publisher?.close();
  await redis?.stop();
});

describe('redis intake', () => {
  for (const shards of [0, 4]) {
    it(`two instances both receive every notification published through the decorator (${shards === 0 ? 'one channel' : `${shards} channels`})`, async () => {
      const inner = createMemoryBus({ clock: createRealClock() });
      const bus = createRedisNotificationsBus(inner, publisher, { shards });
      const [a, b] = [createRedisIntake({ url: redis.url, shards }), createRedisIntake({ url: redis.url, shards })];
      const [gotA, gotB] = [await collecting(a), await collecting(b)];
      const messages = notificationMessages(50, `s${shards}r`);
      await bus.publish(TOPICS.notifications, messages);
      const want = messages.map((m) => JSON.parse(m.data).notificationId);
      await eventually('both instances', () => gotA.ids.length >= 50 && gotB.ids.length >= 50);
      // Every one, once, to each instance; per channel in publish order.
      expect(gotA.ids.slice().sort()).toEqual(want.slice().sort());
      expect(gotB.ids.slice().sort()).toEqual(want.slice().sort());
      if (shards === 0) expect(gotA.ids).toEqual(want);
      expect(gotA.messages.every((m) => typeof m.body.seq === 'number')).toBe(true);
      expect(bus.redisPublished()).toBe(50);
      expect(a.pending()).toBe(0);
      // Nothing went to the wrapped bus's notifications topic.
      expect(inner.stats().subscriptions.find((s) => s.topic === TOPICS.notifications)?.published ?? 0).toBe(0);
      await Promise.all([a.close(), b.close()]);
      await inner.close();
    });
  }

  it('spreads users over the sharded channels stably, and keeps other topics on the wrapped bus', async () => {
    expect(redisChannels({ shards: 3 })).toEqual(['notifications:0', 'notifications:1', 'notifications:2']);
    expect(redisChannels()).toEqual(['notifications']);
    const users = Array.from({ length: 40 }, (_, i) => `user${i}`);
    expect(new Set(users.map((u) => redisChannelOf(u, { shards: 4 }))).size).toBe(4);
    expect(redisChannelOf('user7', { shards: 4 })).toBe(redisChannelOf('user7', { shards: 4 }));
    const inner = createMemoryBus({ clock: createRealClock() });
    const seen: string[] = [];
    inner.subscribe('settled-notify', async (d) => {
      seen.push(d.data);
      d.ack();
    }, { maxInFlight: 1, ackDeadlineMs: 10_000 });
    const bus = createRedisNotificationsBus(inner, publisher);
    await bus.publish(TOPICS.settled, [{ data: 'x' }]);
    await eventually('the settled message on the wrapped bus', () => seen.length === 1);
    expect(bus.redisPublished()).toBe(0);
    await inner.close();
    expect(() => redisChannels({ shards: -1 })).toThrow(/shards/);
  });

  it('connectRedisNotificationsBus: the pipeline side opens its own connection; with keepOnBus the bus gets them too', async () => {
    const inner = createMemoryBus({ clock: createRealClock() });
    const onBus: string[] = [];
    inner.subscribe('notifications-gateway', async (d) => {
      onBus.push(d.data);
      d.ack();
    }, { maxInFlight: 10, ackDeadlineMs: 10_000 });
    const { bus, close } = await connectRedisNotificationsBus(inner, redis.url, { keepOnBus: true });
    const intake = createRedisIntake({ url: redis.url });
    const got = await collecting(intake);
    await bus.publish(TOPICS.notifications, notificationMessages(5, 'k'));
    await eventually('on Redis and on the bus', () => got.ids.length === 5 && onBus.length === 5);
    await intake.close();
    await close();
    await inner.close();
  });

  it('counts a message on the channel that is not a valid notification and keeps it in the dead-letter list with its reason', async () => {
    const list = `dead-letters-${Date.now()}`;
    const intake = createRedisIntake({ url: redis.url, deadLetterList: list });
    const got = await collecting(intake);
    await publisher.publish('notifications', '{"schemaVersion":1}');
    await publisher.publish('notifications', notificationMessages(1, 'bad')[0]?.data as string);
    await publisher.publish('notifications', 'not json at all');
    // The valid one is handed over behind the dead letters' writes (the intake keeps Redis's order).
    await eventually('every message', () => intake.stats().received === 3 && got.ids.length === 1);
    expect(intake.stats().invalid).toBe(2);
    expect(got.ids).toHaveLength(1);
    await intake.close(); // waits for the dead letters' writes
    const letters = await readRedisDeadLetters(redis.url, list);
    expect(letters.map((l) => [l.channel, l.data])).toEqual([
      ['notifications', 'not json at all'],
      ['notifications', '{"schemaVersion":1}'],
    ]);
    for (const l of letters) expect(l.reason).toMatch(/^[A-Z_]+\.[A-Z_]+: ./);
    expect(intake.stats().invalidReasons).toEqual(expect.arrayContaining(letters.map((l) => l.reason)));
  });
});
