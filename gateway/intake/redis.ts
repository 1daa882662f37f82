// The `redis` intake, the seed architecture: the notify stage's `notifications` publishes go to
// Redis channels (createRedisNotificationsBus, a MessageBus decorator the pipeline's process
// wraps its bus in, so the pipeline itself stays unaware), and every gateway instance subscribes
// to every channel. Redis Pub/Sub is fire-and-forget: a message published while an instance is not
// subscribed is gone for it, and done() has nothing to settle; recovery (recovery.ts) reads
// what a client missed from the Store.
//
// Channels: `notifications` alone, or with `shards: N` the channels `notifications:0` ..
// `notifications:N-1` by a hash of the user id (what a deployment does to spread a busy channel
// over a Redis cluster's nodes); an intake subscribes to all of them either way.
import { createClient } from 'redis';
import type { BusMessage, MessageBus } from '../../core/ports.ts';
import { TOPICS } from '../../core/topology.ts';
import type { IntakeMessage } from '../contracts.ts';
import type { StatsIntake } from './bus.ts';
import { intakeCounter } from './parse.ts';

export interface RedisChannels {
  /** 0 or absent: the one channel `notifications`; N: `notifications:0` .. `notifications:N-1`. */
  readonly shards?: number;
}

const SHARDS_MAX = 1_024;

function shardsOf(c: RedisChannels): number {
  const n = c.shards ?? 0;
  if (!Number.isSafeInteger(n) || n < 0 || n > SHARDS_MAX) throw new Error(`redis channel shards must be an integer in 0..${SHARDS_MAX}, got ${n}`);
  return n;
}

/** FNV-1a of the user id: stable across processes, so publisher and subscribers agree. */
function userHash(userId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) h = Math.imul(h ^ userId.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Every channel an intake subscribes to. */
export function redisChannels(c: RedisChannels = {}): string[] {
  const n = shardsOf(c);
  return n === 0 ? [TOPICS.notifications] : Array.from({ length: n }, (_, i) => `${TOPICS.notifications}:${i}`);
}

/** The channel of one user's notifications. */
export function redisChannelOf(userId: string, c: RedisChannels = {}): string {
  const n = shardsOf(c);
  return n === 0 ? TOPICS.notifications : `${TOPICS.notifications}:${userHash(userId) % n}`;
}

const openClient = (url: string) => createClient({ url });

/** What the decorator needs of a Redis client (node-redis's `publish`). */
export interface RedisPublisher {
  publish(channel: string, message: string): Promise<number>;
}

export interface RedisNotificationsBusOptions extends RedisChannels {
  /** Also publish notifications to the wrapped bus (a run's own checks read them there). Default false. */
  readonly keepOnBus?: boolean;
}

/**
 * The bus the pipeline publishes through when the gateways take notifications from Redis:
 * `notifications` publishes become Redis PUBLISHes on their user's channel (the message's wire
 * text as it is); every other topic, and every subscription, goes to the wrapped bus.
 */
export function createRedisNotificationsBus(inner: MessageBus, redis: RedisPublisher, options: RedisNotificationsBusOptions = {}): MessageBus & { redisPublished(): number } {
  let published = 0;
  shardsOf(options);
  return {
    async publish(topic: string, messages: readonly BusMessage[]) {
      if (topic !== TOPICS.notifications) return inner.publish(topic, messages);
      await Promise.all(messages.map((m) => redis.publish(redisChannelOf(m.attributes?.['userId'] ?? userIdOf(m.data), options), m.data)));
      published += messages.length;
      if (options.keepOnBus === true) await inner.publish(topic, messages);
    },
    subscribe: (subscription, handler, subscribeOptions) => inner.subscribe(subscription, handler, subscribeOptions),
    close: () => inner.close(),
    redisPublished: () => published,
  };
}

/**
 * Opens a Redis connection for publishing and wraps `inner` with it: what the process that runs
 * the pipeline calls when its gateways take notifications from Redis (`--intake redis`). close()
 * closes the connection, not the wrapped bus.
 */
export async function connectRedisNotificationsBus(inner: MessageBus, url: string, options: RedisNotificationsBusOptions = {}): Promise<{ bus: MessageBus & { redisPublished(): number }; close(): Promise<void> }> {
  const client = openClient(url);
  client.on('error', (e: Error) => process.stderr.write(`redis notifications bus: ${e.message}\n`));
  await client.connect();
  return { bus: createRedisNotificationsBus(inner, client, options), close: () => client.close() };
}

/** The user of a notification without attributes (the pipeline always sets them; a hand-made message may not). */
function userIdOf(data: string): string {
  try {
    const v = JSON.parse(data) as { userId?: unknown };
    return typeof v.userId === 'string' ? v.userId : '';
  } catch {
    return '';
  }
}

export interface RedisIntakeOptions extends RedisChannels {
  /** `redis://127.0.0.1:PORT` (emulators/redis.ts). */
  readonly url: string;
  readonly nowMs?: () => number;
  /** The Redis list malformed messages go to (default REDIS_DEAD_LETTERS.list). */
  readonly deadLetterList?: string;
}

/**
 * Redis Pub/Sub has no dead-letter topic, so a message that is not a valid notification is kept
 * in a Redis list instead, newest first, with its reason: the same promise as the Pub/Sub intakes
 * (a malformed message is refused with a reason and nothing is lost silently). The list is capped:
 * a flood of garbage must not fill the server's memory.
 */
export const REDIS_DEAD_LETTERS = { list: `${TOPICS.notifications}:dead-letters`, keptMax: 10_000, dataCharsMax: 16_384 } as const;

/** One dead letter of the Redis intake, as kept in the list. */
export interface RedisDeadLetter {
  readonly channel: string;
  readonly reason: string;
  /** The message as received, cut to REDIS_DEAD_LETTERS.dataCharsMax characters. */
  readonly data: string;
  readonly atMs: number;
}

/** The dead letters kept in the list, newest first (an operator's or a test's read). */
export async function readRedisDeadLetters(url: string, list: string = REDIS_DEAD_LETTERS.list): Promise<RedisDeadLetter[]> {
  const c = openClient(url);
  await c.connect();
  try {
    return (await c.lRange(list, 0, -1)).map((s) => JSON.parse(s) as RedisDeadLetter);
  } finally {
    await c.close();
  }
}

/**
 * One gateway instance's Redis subscriber: its own connection (a subscribed connection can do
 * nothing else), subscribed to every notifications channel. A message that is not a valid
 * notification is counted and kept in the dead-letter list with its reason (REDIS_DEAD_LETTERS). onMessage's promise is awaited in order: Redis delivers
 * to one listener in order, and the intake keeps that order.
 */
export function createRedisIntake(options: RedisIntakeOptions): StatsIntake & { pending(): number } {
  const counter = intakeCounter();
  const now = options.nowMs ?? Date.now;
  const channels = redisChannels(options);
  let client: ReturnType<typeof openClient> | undefined;
  // A subscribed connection can do nothing else: dead letters are written through a second one.
  let writer: ReturnType<typeof openClient> | undefined;
  const deadLetterList = options.deadLetterList ?? REDIS_DEAD_LETTERS.list;
  const deadLetter = (channel: string, data: string, reason: string): void => {
    const entry: RedisDeadLetter = { channel, reason, data: data.slice(0, REDIS_DEAD_LETTERS.dataCharsMax), atMs: now() };
    const w = writer;
    if (w === undefined) return;
    chain = chain
      .then(async () => {
        await w.lPush(deadLetterList, JSON.stringify(entry));
        await w.lTrim(deadLetterList, 0, REDIS_DEAD_LETTERS.keptMax - 1);
      })
      .catch((e: unknown) => {
        process.stderr.write(`redis intake: a malformed message could not be dead-lettered (${(e as Error).message}); its reason: ${reason}\n`);
      });
  };
  let chain: Promise<void> = Promise.resolve();
  // Received and not yet taken by the gateway: Redis cannot be slowed down, so a gateway that
  // takes messages slower than they come grows this (what the incident's bounded channel capped).
  let pending = 0;
  return {
    async start(onMessage: (m: IntakeMessage) => void | Promise<void>) {
      if (client !== undefined) throw new Error('this intake is already started');
      const c = openClient(options.url);
      const w = openClient(options.url);
      for (const x of [c, w]) x.on('error', (e: Error) => process.stderr.write(`redis intake: ${e.message}\n`));
      await Promise.all([c.connect(), w.connect()]);
      client = c;
      writer = w;
      await c.subscribe(channels, (message: string, channel: string) => {
        const receivedAtMs = now();
        const body = counter.parse(message);
        if (body === undefined) return deadLetter(channel, message, counter.lastReason());
        pending++;
        chain = chain
          .then(() => {
            pending--;
            return onMessage({ body, receivedAtMs, done: () => undefined });
          })
          .catch((e: unknown) => {
            process.stderr.write(`redis intake: the gateway refused a notification: ${(e as Error).message}\n`);
          });
      });
    },
    async close() {
      const c = client;
      client = undefined;
      if (c === undefined) return;
      await c.unsubscribe(channels);
      await chain;
      await c.close();
      await writer?.close();
      writer = undefined;
    },
    stats: () => counter.stats(),
    pending: () => pending,
  };
}
