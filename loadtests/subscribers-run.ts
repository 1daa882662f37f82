// `raceday load subscribers` on an embedded gateway: a memory Store, the real gateway (startGateway)
// with the chosen delivery policy, and the swarm. The driver publishes rounds of per-user
// notifications (appended to the Store's log first, so a reconnecting client's `afterSeq` is served
// from the Store) and streams a race's odds at a fixed rate and size; afterwards the swarm's counts
// are cut against what the Store says each user should have had.
import { readFileSync } from 'node:fs';
import type { NotificationBody, SettledPayload } from '../core/notification.ts';
import { settledNotificationId } from '../core/notification.ts';
import { NOTIFICATIONS_PAGE_MAX } from '../core/ports.ts';
import { createMemoryStore } from '../backends/memory/index.ts';
import { signToken } from '../gateway/auth.ts';
import type { PolicyStats } from '../gateway/contracts.ts';
import { startGateway, type GatewayStats } from '../gateway/server.ts';
import { parseCohorts } from './swarm/cohorts.ts';
import type { CohortBehaviour } from './swarm/cohorts.ts';
import { probeStall, type StallProbeResult } from './stall-probe.ts';
import { probeGatewayStall, type GatewayStallProbeResult } from './stall-probe-gateway.ts';
import { startSwarm, type SwarmReport, type SwarmUser } from './swarm.ts';

export interface SubscribersRunOptions {
  readonly users: number;
  /** e.g. `slow=5%,stalled=1%,flapping=1%` (the rest healthy). */
  readonly cohorts: string;
  readonly policy: string;
  readonly notificationsPerUser: number;
  /** Pause between notification rounds (ms). */
  readonly roundIntervalMs: number;
  readonly oddsPerSecond: number;
  readonly oddsBytes: number;
  /** How long the swarm listens after the last round, for stragglers and reconnects (ms). */
  readonly drainMs: number;
  readonly workers?: number;
  readonly isolation: 'thread' | 'process';
  readonly behaviour: Partial<CohortBehaviour>;
  readonly log: (line: string) => void;
}

export interface SubscribersRunReport {
  readonly gateway: { readonly policy: string; readonly policyStats: PolicyStats; readonly stats: GatewayStats };
  readonly published: { readonly notifications: number; readonly oddsFrames: number; readonly oddsBytes: number };
  /** Expected counts came from the Store's notification log (per user). */
  readonly expectedFrom: 'store';
  readonly swarm: SwarmReport;
  /** Bytes a stalled client absorbs before backpressure: bare ws, and through the gateway (see stall-probe*.ts). */
  readonly stallProbe: StallProbeResult;
  readonly gatewayStallProbe: GatewayStallProbeResult;
  readonly elapsedMs: number;
}

const SECRET = 'raceday-load-subscribers-secret-32-bytes!';
/** File descriptors a process needs besides its sockets (files, pipes, epoll, the workers). */
const FD_MARGIN = 1_000;

/** This process's soft limit on open files (Linux: /proc/self/limits), or undefined where unknown. */
export function openFilesLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m === null || m[1] === 'unlimited' ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * Worker threads share this process's open-file limit with the embedded gateway: with the
 * gateway's end and the client's end of every connection here, `sockets` sockets must fit under
 * it, or the kernel refuses accepts (the clients see ECONNRESET). Past that the swarm runs in
 * child processes, each with a limit of its own.
 */
export function isolationFor(asked: 'thread' | 'process', sockets: number, log: (line: string) => void): 'thread' | 'process' {
  const limit = openFilesLimit();
  if (asked === 'process' || limit === undefined || sockets + FD_MARGIN <= limit) return asked;
  log(`swarm: ${sockets} sockets would not fit under this process's open-file limit (${limit}) with worker threads; using child processes`);
  return 'process';
}
const RACE_ID = 'load-race';
/** How long the swarm's subscriptions may take to register before the first round. */
const SUBSCRIBE_WAIT_MS = 30_000;

/** An odds payload of about `bytes` serialised: trifecta combinations with decimal odds text. */
function oddsPayload(bytes: number): Record<string, Record<string, string>> {
  const trifecta: Record<string, string> = {};
  let size = 16;
  for (let a = 1; a <= 9 && size < bytes; a++) for (let b = 1; b <= 9 && size < bytes; b++) for (let c = 1; c <= 9 && size < bytes; c++) {
    if (a === b || b === c || a === c) continue;
    const key = `${a}-${b}-${c}`;
    trifecta[key] = `${(10 + ((a * 31 + b * 7 + c) % 900) / 10).toFixed(1)}`;
    size += key.length + 12;
  }
  return { trifecta };
}

async function expectedFromStore(store: ReturnType<typeof createMemoryStore>, users: readonly SwarmUser[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const u of users) {
    let n = 0;
    for (let page = await store.notificationsAfter(u.userId, 0, NOTIFICATIONS_PAGE_MAX); page.length > 0; page = await store.notificationsAfter(u.userId, n, NOTIFICATIONS_PAGE_MAX)) n += page.length;
    out[u.userId] = n;
  }
  return out;
}

export async function runSubscribers(o: SubscribersRunOptions): Promise<SubscribersRunReport> {
  const started = performance.now();
  const stallProbe = await probeStall();
  const gatewayStallProbe = await probeGatewayStall();
  o.log(`stall probe: a stalled client absorbs ${gatewayStallProbe.bytesAbsorbed} bytes through the gateway (${stallProbe.bytesAbsorbed} on a bare ws burst) before backpressure (tcp_rmem ${stallProbe.tcpRmem}, tcp_wmem ${stallProbe.tcpWmem})`);
  const store = createMemoryStore();
  const counts = parseCohorts(o.cohorts, o.users);
  const ids = Array.from({ length: o.users }, (_, i) => `lu${String(i).padStart(6, '0')}`);
  await store.putUsers(ids.map((userId) => ({ userId, cash: 0, medals: 0 })));
  // The gateway serves odds only for a race it knows.
  await store.putRace({ raceId: RACE_ID, sport: 'keirin', riders: 9, closeAtMs: Date.now() + 3_600_000, postAtMs: Date.now() + 3_900_000 });
  const users: SwarmUser[] = await Promise.all(ids.map(async (userId) => ({ userId, token: await signToken(userId, SECRET, 3_600) })));
  const gw = await startGateway({ store, secret: SECRET, policy: o.policy, log: (l) => o.log(`gateway: ${l}`) });
  let oddsTimer: NodeJS.Timeout | undefined;
  let swarm: ReturnType<typeof startSwarm> | undefined;
  let stopped = false;
  try {
    // Both ends of every connection live in this process when the swarm runs in threads.
    const isolation = isolationFor(o.isolation, 2 * o.users, o.log);
    swarm = startSwarm({ wsUrl: gw.wsUrl, users, cohorts: counts, watchRaceId: RACE_ID, isolation, behaviour: o.behaviour, ...(o.workers === undefined ? {} : { workers: o.workers }) });
    const ready = await swarm.ready;
    // Publish only once every subscription is registered: a round sent earlier would test the
    // handshake, not delivery (a late subscriber gets it only through recovery from the Store).
    // Flapping clients come and go by design: only the others are waited for.
    const wanted = Math.max(0, ready.connected - counts.flapping) * 2;
    for (let waited = 0; gw.stats().subscriptions < wanted && waited < SUBSCRIBE_WAIT_MS; waited += 50) await new Promise((r) => setTimeout(r, 50));
    o.log(`swarm: ${ready.connected} connected, ${gw.stats().subscriptions} of ${wanted} subscriptions registered`);
    o.log(`swarm: ${ready.connected} connected, ${ready.failed} failed${ready.firstError === undefined ? '' : ` (${ready.firstError})`} (${JSON.stringify(counts)})`);
    const odds = oddsPayload(o.oddsBytes);
    const oddsBytes = JSON.stringify({ raceId: RACE_ID, sentAt: Date.now(), odds }).length;
    let oddsFrames = 0;
    if (o.oddsPerSecond > 0) {
      oddsTimer = setInterval(() => {
        gw.publishOdds(RACE_ID, { raceId: RACE_ID, sentAt: Date.now(), odds }, oddsBytes);
        oddsFrames++;
      }, 1000 / o.oddsPerSecond);
    }
    let notifications = 0;
    for (let k = 1; k <= o.notificationsPerUser; k++) {
      const publishedAt = Date.now();
      const bodies: NotificationBody[] = ids.map((userId) => {
        const settlementId = `load-${RACE_ID}-${userId}-${k}`;
        const payload: SettledPayload = { kind: 'settled', raceId: RACE_ID, settlementId, cash: 100 * k, medals: 0, hits: 1 };
        return { userId, raceId: RACE_ID, kind: 'settled', payload, publishedAt, notificationId: settledNotificationId(settlementId) };
      });
      const seqs = await store.appendNotifications(bodies);
      for (let i = 0; i < bodies.length; i++) {
        const pending = gw.deliver({ ...(bodies[i] as NotificationBody), seq: seqs[i] as number }, Date.now());
        if (pending !== undefined) await pending;
      }
      notifications += bodies.length;
      o.log(`round ${k}/${o.notificationsPerUser}: ${bodies.length} notifications delivered to the gateway`);
      await new Promise((r) => setTimeout(r, o.roundIntervalMs));
    }
    await new Promise((r) => setTimeout(r, o.drainMs));
    if (oddsTimer !== undefined) clearInterval(oddsTimer);
    const { report } = await swarm.stop({ perUser: await expectedFromStore(store, users), default: 0 });
    stopped = true;
    return {
      gateway: { policy: gw.policy.name, policyStats: gw.policy.stats(), stats: gw.stats() },
      published: { notifications, oddsFrames, oddsBytes },
      expectedFrom: 'store',
      swarm: report,
      stallProbe,
      gatewayStallProbe,
      elapsedMs: Math.round(performance.now() - started),
    };
  } finally {
    if (oddsTimer !== undefined) clearInterval(oddsTimer);
    // A run that failed midway must not leave the swarm's workers running.
    if (!stopped) swarm?.abort();
    await gw.close();
  }
}

export interface ExternalSubscribersOptions {
  /** A running gateway's WebSocket URL (e.g. from `raceday gateway --demo-users N`). */
  readonly wsUrl: string;
  /** Several instances of one gateway (`raceday gateway --instances N`): users go round robin over them. */
  readonly wsUrls?: readonly string[];
  /** The gateway's token secret. */
  readonly secret: string;
  readonly users: number;
  /** User ids: `u000001`.. as `raceday gateway --demo-users` makes them. */
  readonly userIdOf: (i: number) => string;
  readonly cohorts: string;
  /** The race whose odds every subscriber watches (none: notifications only). */
  readonly raceId?: string;
  readonly listenMs: number;
  /** Notifications each user should receive while listening (the caller's count). */
  readonly expectPerUser: number;
  readonly workers?: number;
  readonly isolation: 'thread' | 'process';
  readonly behaviour: Partial<CohortBehaviour>;
  readonly log: (line: string) => void;
}

export interface ExternalSubscribersReport {
  readonly wsUrl: string;
  readonly wsUrls?: readonly string[];
  readonly expectedFrom: 'caller';
  readonly swarm: SwarmReport;
  readonly elapsedMs: number;
}

/** The swarm against a gateway running elsewhere: it listens for `listenMs` while something else publishes. */
export async function runSubscribersExternal(o: ExternalSubscribersOptions): Promise<ExternalSubscribersReport> {
  const started = performance.now();
  const users: SwarmUser[] = await Promise.all(Array.from({ length: o.users }, async (_, i) => {
    const userId = o.userIdOf(i + 1);
    return { userId, token: await signToken(userId, o.secret, 3_600) };
  }));
  const swarm = startSwarm({
    wsUrl: o.wsUrl, ...(o.wsUrls === undefined ? {} : { wsUrls: o.wsUrls }), users, cohorts: parseCohorts(o.cohorts, o.users), isolation: isolationFor(o.isolation, o.users, o.log), behaviour: o.behaviour,
    ...(o.raceId === undefined ? {} : { watchRaceId: o.raceId }), ...(o.workers === undefined ? {} : { workers: o.workers }),
  });
  let report: SwarmReport;
  try {
    const ready = await swarm.ready;
    o.log(`swarm: ${ready.connected} connected, ${ready.failed} failed${ready.firstError === undefined ? '' : ` (${ready.firstError})`}; listening ${o.listenMs} ms`);
    await new Promise((r) => setTimeout(r, o.listenMs));
    report = (await swarm.stop({ default: o.expectPerUser })).report;
  } catch (e) {
    swarm.abort();
    throw e;
  }
  return { wsUrl: o.wsUrl, ...(o.wsUrls === undefined ? {} : { wsUrls: o.wsUrls }), expectedFrom: 'caller', swarm: report, elapsedMs: Math.round(performance.now() - started) };
}
