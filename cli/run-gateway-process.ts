// `raceday run --gateway --backend emulators`: the gateway in its own process (`raceday gateway
// --backend emulators`), attached to the run's project and consuming the notifications topic
// through a Pub/Sub subscription of its own. Its share of the latency comes from its /metrics (the
// delivery-latency histogram, entering the gateway -> the socket's send finished, at the
// histogram's bucket resolution); the pipeline's share (published -> entering the gateway) is not
// visible from outside that process. The report is the in-process one's (run-gateway.ts).
import { randomBytes } from 'node:crypto';
import { spawnRaceday, stopChild, type RacedayChild } from '../chaos/child.ts';
import { signToken } from '../gateway/auth.ts';
import { DEFAULT_POLICY_SPEC, parsePolicy } from '../gateway/policies/index.ts';
import { startSwarm, type Swarm } from '../loadtests/swarm.ts';
import type { Percentiles } from '../reports/latency.ts';
import { UsageError } from './args.ts';
import { openRunRedis, type RunRedis } from './run-gateway-redis.ts';
import { DRAIN_WAIT_MS_MAX, logLength, RECEIPT_GRACE_MS, reportOf, THREADS_USERS_MAX, TOKEN_TTL_SECONDS, waitUntilAsync, type RunGateway, type RunGatewayOptions } from './run-gateway.ts';

const GATEWAY_START_MS_MAX = 120_000;
/** After SIGTERM (it closes its clients, intake and backend), a gateway still running is killed. */
const GATEWAY_STOP_GRACE_MS = 20_000;

export interface RunGatewayProcessOptions extends Omit<RunGatewayOptions, 'store' | 'intake'> {
  readonly projectId: string;
  readonly spannerShards: number;
  /** The gateway's intake: a Pub/Sub subscription of its own (default), or Redis channels the run's bus publishes to. */
  readonly intake?: 'pubsub' | 'redis';
}

/**
 * Starts `raceday gateway` attached to the run's project (chaos/child.ts: on this Node, in its own
 * process group, its stdin a pipe from this process so it closes should the run die, stopped with
 * the run on SIGTERM/SIGINT); resolves once it printed its URLs.
 */
async function spawnGateway(o: RunGatewayProcessOptions, spec: string, secretHex: string, redis: RunRedis | undefined): Promise<{ child: RacedayChild; info: { wsUrl: string; metricsUrl: string } }> {
  const intake = redis === undefined ? ['--intake', 'pubsub'] : ['--intake', 'redis', '--redis-url', redis.url];
  const args = ['gateway', '--backend', 'emulators', '--project', o.projectId, '--spanner-shards', String(o.spannerShards), ...intake, '--policy', spec];
  // The token secret travels in the environment, never on the command line.
  const env = { ...process.env, RACEDAY_GATEWAY_SECRET: secretHex, RACEDAY_GATEWAY_PARENT_PIPE: '1' };
  const child = spawnRaceday({ args, env, label: 'gateway process', isReady: (l) => typeof l['wsUrl'] === 'string' && typeof l['metricsUrl'] === 'string', readyTimeoutMs: GATEWAY_START_MS_MAX, log: o.log });
  const info = await child.ready.catch(async (e: unknown) => {
    await stopChild(child, 'SIGKILL', 0);
    throw new Error(`raceday gateway did not start: ${(e as Error).message}`);
  });
  return { child, info: { wsUrl: info['wsUrl'] as string, metricsUrl: info['metricsUrl'] as string } };
}

/** Percentiles from a Prometheus histogram's cumulative buckets: each is the bound of the bucket it falls in (ms). */
export function bucketPercentiles(metrics: string, name: string, labels: string): (Percentiles & { readonly resolution: 'buckets' }) | null {
  const buckets: [number, number][] = [];
  const re = new RegExp(`^${name}_bucket\\{([^}]*)\\} (\\d+)$`, 'gm');
  for (const m of metrics.matchAll(re)) {
    const attrs = m[1] as string;
    if (!attrs.includes(labels)) continue;
    const le = /le="([^"]+)"/.exec(attrs)?.[1];
    if (le !== undefined) buckets.push([le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le) * 1000, Number(m[2])]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const count = buckets[buckets.length - 1]?.[1] ?? 0;
  if (count === 0) return null;
  const at = (q: number): number => {
    const rank = Math.ceil(q * count);
    const b = buckets.find(([, c]) => c >= rank) as [number, number];
    return b[0];
  };
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), 'p99.9': at(0.999), max: at(1), count, resolution: 'buckets' };
}

async function metricsOf(url: string): Promise<string> {
  const res = await fetch(url);
  return res.ok ? res.text() : '';
}

/** The gateway as its own process on the emulators: same report, delivery from its /metrics, settlement not measured. */
export async function startRunGatewayProcess(o: RunGatewayProcessOptions): Promise<RunGateway> {
  const spec = o.policy ?? DEFAULT_POLICY_SPEC;
  const parsed = parsePolicy(spec);
  if (!parsed.ok) throw new UsageError(`--policy: ${parsed.error.message}`);
  const secretHex = randomBytes(32).toString('hex');
  const users = o.subscribers === 'all' ? o.day.users : o.day.users.slice(0, o.subscribers);
  const redis = o.intake === 'redis' ? await openRunRedis(o.log) : undefined;
  let spawned: Awaited<ReturnType<typeof spawnGateway>>;
  try {
    spawned = await spawnGateway(o, spec, secretHex, redis);
  } catch (e) {
    await redis?.close();
    throw e;
  }
  const { child, info } = spawned;
  // Stops the gateway process, then the run's Redis (after the gateway let go of it).
  const stopGateway = async (): Promise<void> => {
    await stopChild(child, 'SIGTERM', GATEWAY_STOP_GRACE_MS);
    await redis?.close();
  };
  let swarm: Swarm;
  try {
    const tokens = await Promise.all(users.map(async (u) => ({ userId: u.userId, token: await signToken(u.userId, secretHex, TOKEN_TTL_SECONDS) })));
    o.log(`gateway process on ${info.wsUrl} (${spec}); connecting ${tokens.length} subscribers`);
    swarm = startSwarm({ wsUrl: info.wsUrl, users: tokens, cohorts: { healthy: tokens.length, slow: 0, stalled: 0, flapping: 0 }, isolation: tokens.length > THREADS_USERS_MAX ? 'process' : 'thread' });
    const ready = await swarm.ready;
    o.log(`${ready.connected} subscribers connected and subscribed`);
  } catch (e) {
    await stopGateway();
    throw e;
  }
  const s = swarm;
  return {
    bus: (bus) => (redis === undefined ? bus : redis.wrap(bus)),
    async finish(store) {
      const ready = await s.ready;
      const perUser: Record<string, number> = {};
      let expected = 0;
      for (const u of users) {
        perUser[u.userId] = await logLength(store, u.userId);
        expected += perUser[u.userId] as number;
      }
      const written = async () => Number(/raceday_gateway_delivery_latency_seconds_count\{kind="notification"\} (\d+)/.exec(await metricsOf(info.metricsUrl))?.[1] ?? 0);
      const drained = await waitUntilAsync(async () => (await written()) >= expected, DRAIN_WAIT_MS_MAX);
      if (!drained) o.log(`gateway process: ${await written()} of ${expected} notifications written to their sockets after ${DRAIN_WAIT_MS_MAX} ms`);
      await new Promise((r) => setTimeout(r, RECEIPT_GRACE_MS));
      const { report } = await s.stop({ perUser, default: 0 });
      const deliveryMs = bucketPercentiles(await metricsOf(info.metricsUrl), 'raceday_gateway_delivery_latency_seconds', 'kind="notification"');
      await stopGateway();
      const base = reportOf(spec, users.length, ready.connected, expected, report, new Map(), new Map());
      const raceIds = o.day.races.map((r) => r.raceId);
      const healthy = report.cohorts.healthy;
      return {
        ...base,
        races: raceIds.map((raceId) => ({ raceId, notifications: expected, endToEndMs: raceIds.length === 1 ? (healthy?.notificationLatencyMs ?? null) : null, settlementMs: null, deliveryMs })),
      };
    },
    async close() {
      await s.stop({ default: 0 }).catch(() => undefined);
      await stopGateway();
    },
  };
}
