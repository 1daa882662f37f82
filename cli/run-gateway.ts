// `raceday run --gateway [--subscribers N|all]`: the race day of `raceday run` with the
// notification gateway and a subscriber swarm on it. It reports, per race, how long a user waits
// from the race result's publication to the notification on the user's own socket, p50..max over
// every connected user, split into settlement (published -> the notification entering the
// gateway) and delivery (entering the gateway -> handed to the user's socket), and checks that
// every connected user received each of its notifications exactly once.
//
// On the memory backend the gateway runs in this process and takes every notification the notify
// stage publishes as it is published (a tap on the bus's `notifications` topic, as a
// subscription of its own would), so the checkers' client keeps its own subscription. The swarm
// runs in worker threads (child processes past a few thousand users).
import { randomBytes } from 'node:crypto';
import { parseNotification } from '../core/messages.ts';
import type { NotificationBody } from '../core/notification.ts';
import { NOTIFICATIONS_PAGE_MAX, type BusMessage, type MessageBus, type Store } from '../core/ports.ts';
import { TOPICS } from '../core/topology.ts';
import { RANKING_BROADCAST_USER } from '../pipeline/ranking.ts';
import type { DeliveryPolicy, Outbound, SubscriberQueue } from '../gateway/contracts.ts';
import { signToken } from '../gateway/auth.ts';
import { DEFAULT_POLICY_SPEC, parsePolicy } from '../gateway/policies/index.ts';
import { startGateway, type GatewayHandle } from '../gateway/server.ts';
import { startSwarm, type Swarm, type SwarmReport } from '../loadtests/swarm.ts';
import { createLatencyHistogram, percentilesOf, type Percentiles } from '../reports/latency.ts';
import type { RaceDay } from '../scenarios/model.ts';
import { UsageError } from './args.ts';
import { openRunRedis, type RunRedis } from './run-gateway-redis.ts';
import { createRedisIntake } from '../gateway/intake/redis.ts';
import type { NotificationIntake } from '../gateway/contracts.ts';

type Histogram = ReturnType<typeof createLatencyHistogram>;

export interface RunGatewayOptions {
  readonly day: RaceDay;
  /** The backend's store: the gateway reads notification logs (recovery), balances and races from it. */
  readonly store: Store;
  /** Connected users: the first N of the day's users, or every one. */
  readonly subscribers: number | 'all';
  readonly policy?: string;
  /** Where the gateway takes notifications from: a tap on the bus (default), or Redis channels the run's bus publishes to. */
  readonly intake?: 'bus' | 'redis';
  readonly log: (line: string) => void;
}

export interface RaceFanout {
  readonly raceId: string;
  readonly notifications: number;
  /** Result published -> received on the user's socket (the swarm's clients), every connected user. */
  readonly endToEndMs: Percentiles | null;
  /** Result published -> the notification entering the gateway: the pipeline's share. */
  readonly settlementMs: Percentiles | null;
  /**
   * Entering the gateway -> handed to the user's socket: the gateway's share, for the frames
   * delivered live (a frame the gateway filled from the store after a gap is timed end to end only).
   */
  readonly deliveryMs: Percentiles | null;
}

export interface GatewayRunReport {
  readonly policy: string;
  readonly subscribers: number;
  readonly connected: number;
  readonly races: readonly RaceFanout[];
  /** Notifications each connected user should have got (its log in the store), and what arrived. */
  readonly delivery: SwarmReport['delivery'];
  readonly closesByCode: Readonly<Record<string, number>>;
  readonly swarmLoopDelayMs: SwarmReport['driverLoopDelayMs'];
  /** Every connected user got every notification of its log once, none twice, none unknown. */
  readonly exactlyOnce: boolean;
  readonly ok: boolean;
  /** --intake redis: notifications the run's bus published to Redis, and those the gateway's intake received. */
  readonly redis?: { readonly published: number; readonly received: number };
}

export interface RunGateway {
  /** The bus to run the day on: the backend's, with the gateway tapping its notifications. */
  readonly bus: <B extends MessageBus>(bus: B) => B;
  /** Waits for the last notifications to reach their sockets, stops everything, reports. */
  finish(store: Store): Promise<GatewayRunReport>;
  close(): Promise<void>;
}

export const TOKEN_TTL_SECONDS = 3_600;
/** Past this many users the swarm's clients run in child processes, off this process's CPU share. */
export const THREADS_USERS_MAX = 2_000;
/** Waiting for the last notifications to be handed to their sockets is bounded. */
export const DRAIN_WAIT_MS_MAX = 30_000;
/** After the last frame is handed to its socket, how long the clients get to read it. */
export const RECEIPT_GRACE_MS = 500;

export function parseSubscribers(value: unknown): number | 'all' {
  if (value === undefined || value === 'all') return 'all';
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || n < 1 || n > 200_000) throw new UsageError(`--subscribers must be a whole number in 1..200000 or "all", got "${String(value)}"`);
  return n;
}

/** The policy with each frame's hand-over to its socket timed (graphql-ws takes a frame when it sends it). */
function timedPolicy(policy: DeliveryPolicy, onHanded: (out: Outbound) => void): DeliveryPolicy {
  const timedQueue = (q: SubscriberQueue): SubscriberQueue => ({
    offer: (out) => q.offer(out),
    depth: () => q.depth(),
    close: () => q.close(),
    [Symbol.asyncIterator]() {
      const it = q[Symbol.asyncIterator]();
      return {
        next: () =>
          it.next().then((r) => {
            if (r.done !== true) onHanded(r.value);
            return r;
          }),
        return: (v?: unknown) => (it.return === undefined ? Promise.resolve({ done: true as const, value: undefined }) : it.return(v)),
      };
    },
  });
  // Spread: keeps what a policy adds to the interface (shared-blocking's intake-drop counter).
  return { ...policy, queueFor: (sub) => timedQueue(policy.queueFor(sub)) };
}

function recordIn(byRace: Map<string, Histogram>, raceId: string, ms: number): void {
  let h = byRace.get(raceId);
  if (h === undefined) {
    h = createLatencyHistogram();
    byRace.set(raceId, h);
  }
  h.recordValue(Math.max(0, Math.round(ms * 1000)));
}

export async function waitUntilAsync(done: () => Promise<boolean>, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  while (!(await done())) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Frames queued in every subscription of the gateway now (its /metrics gauge); unknown: not yet empty. */
async function queuedTotal(g: GatewayHandle): Promise<number> {
  const m = /raceday_gateway_queue_depth_messages\{stat="total"\} (\d+)/.exec(await g.metricsText());
  return m === null ? Number.POSITIVE_INFINITY : Number(m[1]);
}

/** How many notifications the user's log holds (what the user must receive once). */
export async function logLength(store: Store, userId: string): Promise<number> {
  let n = 0;
  for (;;) {
    const page = await store.notificationsAfter(userId, n, NOTIFICATIONS_PAGE_MAX);
    n += page.length;
    if (page.length < NOTIFICATIONS_PAGE_MAX) return n;
  }
}

/** Starts the gateway and the swarm (every client connected and subscribed) before the day runs. */
export async function startRunGateway(o: RunGatewayOptions): Promise<RunGateway> {
  const spec = o.policy ?? DEFAULT_POLICY_SPEC;
  const parsed = parsePolicy(spec);
  if (!parsed.ok) throw new UsageError(`--policy: ${parsed.error.message}`);
  const settlement = new Map<string, Histogram>();
  const delivery = new Map<string, Histogram>();
  // Notifications entered and not yet handed to a socket, by `user:seq`: named when the drain times out.
  const owed = new Map<string, string>();
  const policy = timedPolicy(parsed.value, (out) => {
    if (out.kind !== 'notification') return;
    owed.delete(`${out.userId}:${out.seq}`);
    recordIn(delivery, out.raceId, Date.now() - out.enteredAtMs);
  });
  const secret = randomBytes(32);
  const users = o.subscribers === 'all' ? o.day.users : o.day.users.slice(0, o.subscribers);
  let gateway: GatewayHandle | undefined;
  let swarm: Swarm | undefined;
  // Deliveries run one after another, as an intake hands them over; the pipeline never waits for them.
  let intake: Promise<void> = Promise.resolve();
  let entered = 0;
  const enterOne = async (body: NotificationBody & { seq: number }, at: number): Promise<void> => {
    recordIn(settlement, body.raceId, at - body.publishedAt);
    entered++;
    owed.set(`${body.userId}:${body.seq}`, body.kind);
    const p = (gateway as GatewayHandle).deliver(body, at);
    if (p !== undefined) await p;
  };
  const enter = (bodies: readonly (NotificationBody & { seq: number })[]): void => {
    intake = intake.then(async () => {
      for (const body of bodies) await enterOne(body, Date.now());
    });
  };
  // --intake redis: the gateway takes only what came through Redis (every message, counted, so
  // finish() can wait for the last ones still on their way).
  let redis: RunRedis | undefined;
  let redisIntake: NotificationIntake | undefined;
  let fromRedis = 0;
  const tap = (messages: readonly BusMessage[]): void => {
    const bodies: (NotificationBody & { seq: number })[] = [];
    for (const m of messages) {
      const n = parseNotification(JSON.parse(m.data));
      // The race-level ranking broadcast has no user log; each user's own ranking notification does.
      if (!n.ok || n.value.seq === undefined || n.value.userId === RANKING_BROADCAST_USER) continue;
      const { schemaVersion: _version, ...body } = n.value;
      bodies.push({ ...body, seq: n.value.seq });
    }
    if (bodies.length > 0) enter(bodies);
  };
  try {
    gateway = await startGateway({ store: o.store, secret, policy, port: 0, log: (line) => o.log(`gateway: ${line}`) });
    if (o.intake === 'redis') {
      redis = await openRunRedis(o.log);
      redisIntake = createRedisIntake({ url: redis.url });
      // Subscribed before the day starts: Redis keeps nothing for a subscriber that is not there yet.
      await redisIntake.start(async (m) => {
        fromRedis++;
        if (m.body.seq === undefined || m.body.userId === RANKING_BROADCAST_USER) return;
        await enterOne({ ...m.body, seq: m.body.seq }, m.receivedAtMs);
      });
    }
    const tokens = await Promise.all(users.map(async (u) => ({ userId: u.userId, token: await signToken(u.userId, secret, TOKEN_TTL_SECONDS) })));
    o.log(`gateway on ${gateway.wsUrl} (${spec}); connecting ${tokens.length} subscribers`);
    swarm = startSwarm({ wsUrl: gateway.wsUrl, users: tokens, cohorts: { healthy: tokens.length, slow: 0, stalled: 0, flapping: 0 }, isolation: tokens.length > THREADS_USERS_MAX ? 'process' : 'thread' });
    const ready = await swarm.ready;
    if (ready.connected < tokens.length) o.log(`gateway: ${tokens.length - ready.connected} subscribers failed to connect (${ready.firstError ?? 'no error given'})`);
    o.log(`${ready.connected} subscribers connected and subscribed`);
  } catch (e) {
    await swarm?.stop({ default: 0 }).catch(() => undefined);
    await redisIntake?.close().catch(() => undefined);
    await redis?.close();
    await gateway?.close();
    throw e;
  }
  const g = gateway;
  const s = swarm;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await redisIntake?.close().catch(() => undefined);
    await redis?.close();
    await g.close();
  };
  const viaRedis = redis;
  return {
    bus: <B extends MessageBus>(bus: B): B =>
      viaRedis !== undefined
        ? viaRedis.wrap(bus)
        : new Proxy(bus, {
        get(target, prop, receiver) {
          if (prop === 'publish') {
            return async (topic: string, messages: readonly BusMessage[]) => {
              await target.publish(topic, messages);
              if (topic === TOPICS.notifications) tap(messages);
            };
          }
          const v: unknown = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      }),
    async finish(store) {
      const ready = await s.ready;
      await intake;
      if (viaRedis !== undefined && !(await waitUntilAsync(async () => fromRedis >= viaRedis.published(), DRAIN_WAIT_MS_MAX))) {
        o.log(`gateway: ${fromRedis} of the ${viaRedis.published()} notifications published to Redis arrived after ${DRAIN_WAIT_MS_MAX} ms`);
      }
      const perUser: Record<string, number> = {};
      let expected = 0;
      for (const u of users) {
        perUser[u.userId] = await logLength(store, u.userId);
        expected += perUser[u.userId] as number;
      }
      // Done when every live frame was handed to its socket, or when every queue is empty: a frame
      // the recovery sequencer filled from the store (a gap: seq 2 arrived before seq 1) reaches
      // its socket without the queue, and the late live copy is dropped as a duplicate.
      const drained = await waitUntilAsync(async () => owed.size === 0 || (await queuedTotal(g)) === 0, DRAIN_WAIT_MS_MAX);
      if (!drained) {
        const some = [...owed].slice(0, 5).map(([k, kind]) => `${k} (${kind})`);
        o.log(`gateway: ${owed.size} notifications still queued after ${DRAIN_WAIT_MS_MAX} ms (user:seq): ${some.join(', ')}${owed.size > 5 ? ', ...' : ''}`);
      }
      await new Promise((r) => setTimeout(r, RECEIPT_GRACE_MS));
      const { report } = await s.stop({ perUser, default: 0 });
      await close();
      const base = reportOf(spec, users.length, ready.connected, entered, report, settlement, delivery);
      return viaRedis === undefined ? base : { ...base, redis: { published: viaRedis.published(), received: fromRedis } };
    },
    async close() {
      await s.stop({ default: 0 }).catch(() => undefined);
      await close();
    },
  };
}

export function reportOf(policy: string, subscribers: number, connected: number, entered: number, report: SwarmReport, settlement: Map<string, Histogram>, delivery: Map<string, Histogram>): GatewayRunReport {
  const healthy = report.cohorts.healthy;
  const raceIds = [...new Set([...settlement.keys(), ...delivery.keys()])].sort();
  // The swarm's clients time notifications per cohort, not per race: with one race they are the race's.
  const races = raceIds.map((raceId) => ({
    raceId,
    notifications: settlement.get(raceId)?.totalCount ?? 0,
    endToEndMs: raceIds.length === 1 ? (healthy?.notificationLatencyMs ?? null) : null,
    settlementMs: percentilesOrNull(settlement.get(raceId)),
    deliveryMs: percentilesOrNull(delivery.get(raceId)),
  }));
  const closes: Record<string, number> = { ...(healthy?.closesByCode ?? {}) };
  const d = report.delivery;
  const exactlyOnce = d.lost === 0 && d.duplicates === 0 && d.unexpected === 0 && d.received === d.expected && connected === subscribers;
  return { policy, subscribers, connected, races, delivery: d, closesByCode: closes, swarmLoopDelayMs: report.driverLoopDelayMs, exactlyOnce, ok: exactlyOnce && entered > 0 };
}

function percentilesOrNull(h: Histogram | undefined): Percentiles | null {
  return h === undefined || h.totalCount === 0 ? null : percentilesOf(h);
}

const fmt = (p: Percentiles | null): string => (p === null ? 'n/a' : `p50 ${p.p50}  p90 ${p.p90}  p99 ${p.p99}  p99.9 ${p['p99.9']}  max ${p.max}`);

export function renderGatewayLines(r: GatewayRunReport): string[] {
  return [
    `  gateway (${r.policy}): ${r.connected}/${r.subscribers} subscribers connected; notifications expected ${r.delivery.expected}, received ${r.delivery.received}, lost ${r.delivery.lost}, duplicated ${r.delivery.duplicates}: ${r.exactlyOnce ? 'exactly once' : 'NOT exactly once'}`,
    ...(r.redis === undefined ? [] : [`  intake redis: ${r.redis.published} notifications published to Redis, ${r.redis.received} received by the gateway`]),
    ...r.races.flatMap((race) => [
      `  race ${race.raceId}: ${race.notifications} notifications, ms from the result's publication`,
      `    published -> socket     ${fmt(race.endToEndMs)}`,
      `    settlement (-> gateway) ${fmt(race.settlementMs)}`,
      `    delivery (gateway -> socket) ${fmt(race.deliveryMs)}`,
    ]),
  ];
}
