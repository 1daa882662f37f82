// `raceday run --gateway --intake redis`: the seed architecture inside a run. The run takes a
// redis-server (the one `raceday redis start` left running under RACEDAY_STATE_DIR, else one of
// its own, stopped when the run ends), and the bus the day runs on publishes every `notifications`
// message to Redis as well as to the bus (keepOnBus: the run's own checkers read them there). The
// gateway, in this process or as its own process, takes its notifications from Redis, so a
// notification reaches a socket only if it went through Redis.
import { ensureRedis, type RedisHandle } from '../emulators/redis.ts';
import type { MessageBus } from '../core/ports.ts';
import { connectRedisNotificationsBus } from '../gateway/intake/redis.ts';
import { UsageError } from './args.ts';

export const RUN_INTAKES = ['bus', 'pubsub', 'redis'] as const;
export type RunIntake = (typeof RUN_INTAKES)[number];

/** `--intake`: bus on memory, pubsub on the emulators by default; redis on either. */
export function parseRunIntake(value: unknown, backend: string): RunIntake {
  if (value === undefined) return backend === 'memory' ? 'bus' : 'pubsub';
  const v = String(value);
  if (v === 'redis') return 'redis';
  if (backend === 'memory' && v === 'bus') return 'bus';
  if (backend !== 'memory' && v === 'pubsub') return 'pubsub';
  throw new UsageError(`--intake must be ${backend === 'memory' ? 'bus or redis on the memory backend' : 'pubsub or redis on the emulators'}, got "${v}"`);
}

export interface RunRedis {
  readonly url: string;
  /** The bus to run the day on: `bus` with its notifications published to Redis too. */
  wrap<B extends MessageBus>(bus: B): B;
  /** Notifications published to Redis so far. */
  published(): number;
  /** Closes the publishing connection and stops the redis-server if this run started it. */
  close(): Promise<void>;
}

/** Takes a redis-server and opens the publishing side; the bus to wrap is known only when the day starts. */
export async function openRunRedis(log: (line: string) => void): Promise<RunRedis> {
  const server: RedisHandle = await ensureRedis();
  log(`redis-server ${server.reused ? 'reused' : 'started'} at ${server.url}`);
  // connectRedisNotificationsBus wraps a bus given now; the day's bus comes later, so the
  // wrapped bus forwards to whichever bus wrap() was given.
  let target: MessageBus | undefined;
  const day = (): MessageBus => {
    if (target === undefined) throw new Error('the run published before its bus was wrapped');
    return target;
  };
  let opened: Awaited<ReturnType<typeof connectRedisNotificationsBus>>;
  try {
    const late: MessageBus = { publish: (t, m) => day().publish(t, m), subscribe: (s, h, o) => day().subscribe(s, h, o), close: () => day().close() };
    opened = await connectRedisNotificationsBus(late, server.url, { keepOnBus: true });
  } catch (e) {
    await server.stop();
    throw e;
  }
  let closed = false;
  return {
    url: server.url,
    wrap<B extends MessageBus>(bus: B): B {
      target = bus;
      // A proxy, not the wrapper itself: the backend's bus keeps whatever else it offers (its stats).
      return new Proxy(bus, {
        get(t, prop, receiver) {
          if (prop === 'publish') return opened.bus.publish;
          const v: unknown = Reflect.get(t, prop, receiver);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
        },
      });
    },
    published: () => opened.bus.redisPublished(),
    async close() {
      if (closed) return;
      closed = true;
      await opened.close().catch(() => undefined);
      await server.stop();
    },
  };
}
