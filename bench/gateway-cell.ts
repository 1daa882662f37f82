// One cell of the gateway bench: a fresh gateway (in this process) with one delivery policy, a
// swarm of subscribers (in child processes, so this process's RSS is the gateway's) of which a
// share is slow or stalled, the odds of the next race streaming to every one of them, then one
// race settling all of them: its notifications enter the gateway as fast as the gateway takes
// them, each stamped with the moment it enters, so the latency the swarm records (receipt -
// publishedAt) is the gateway's delivery latency. Evicted clients reconnect and recover what
// they missed by sequence number, so what is still missing at the end is lost after recovery.
import { createMemoryStore } from '../backends/memory/index.ts';
import type { NotificationBody } from '../core/notification.ts';
import type { PolicyStats } from '../gateway/contracts.ts';
import { signToken } from '../gateway/auth.ts';
import { createOddsBroadcaster } from '../gateway/odds-broadcaster.ts';
import { startGateway } from '../gateway/server.ts';
import type { CohortCounts, SwarmReport } from '../loadtests/swarm.ts';
import { startSplitSwarm, type SplitSwarm } from './gateway-swarms.ts';
import type { Percentiles } from '../reports/latency.ts';
import { loadWorld, ODDS_RACE_ID, settlementNotifications, userIdOf, type BenchUser } from './gateway-world.ts';

export interface CellSettings {
  readonly subscribers: number;
  /** Interval between two odds frames (the race is in its deadline rush throughout). 0: no odds. */
  readonly oddsIntervalMs: number;
  readonly oddsCombinations: number;
  /** Odds stream at least this long before the race settles, so slow and stalled clients are behind by then. */
  readonly warmupMs: number;
  /** With slow or stalled clients, the warm-up goes on until the gateway feels them, at most this long. */
  readonly warmupMaxMs: number;
  /** After the last notification entered the gateway, how long the clients get to receive (and recover). */
  readonly drainMs: number;
  /** Notifications not handed to the gateway this long after the settlement began are given up (the stall). */
  readonly burstDeadlineMs: number;
  /** Bytes a second a slow client reads. */
  readonly slowReadBytesPerSecond: number;
  /** Percent of the healthy subscribers that watch the odds (every slow and stalled one does). */
  readonly healthyWatchersPercent: number;
  readonly workers?: number;
  readonly log: (line: string) => void;
}

export interface CellSpec {
  readonly policy: string;
  /** Percent of the subscribers that are slow or stalled (half each). */
  readonly slowOrStalledPercent: number;
  /** Notifications per user in the burst (default: the settling race's 2); more only for the throughput cell. */
  readonly notificationsPerUser?: number;
}

export interface CellResult {
  readonly policy: string;
  readonly slowOrStalledPercent: number;
  readonly subscribers: number;
  readonly cohorts: CohortCounts;
  readonly connected: number;
  /** Gateway delivery latency of healthy clients: a notification entering the gateway -> received on its socket. */
  readonly healthyDeliveryMs: Percentiles | null;
  readonly healthyOddsMs: Percentiles | null;
  readonly expected: number;
  /** Distinct notifications received, every cohort. */
  readonly delivered: number;
  /** Missing at the end among clients that reconnect (healthy, slow): what recovery did not bring back. */
  readonly lostAfterRecovery: number;
  /** Missing at the end among stalled clients, which never read again (and never reconnect). */
  readonly lostStalled: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  /** Notifications the gateway had not taken when the burst deadline passed (the intake was held up). */
  readonly notTakenByDeadline: number;
  readonly drops: number;
  /** Lines the gateway logged with the incident's message "channel is full". */
  readonly channelIsFullLines: number;
  readonly evictions: number;
  readonly timeToEvictMs: { readonly p50: number; readonly max: number } | null;
  readonly maxQueueMessages: number;
  readonly maxQueueBytes: number;
  /** Peak RSS of this process over the cell: the gateway, its store and the bench driver (clients run in child processes). */
  readonly gatewayPeakRssMb: number;
  readonly oddsFramesSent: number;
  readonly closesByCode: Readonly<Record<string, number>>;
  /** Healthy notifications per second: delivered / the slowest healthy delivery (the burst's makespan). */
  readonly healthyMessagesPerSecond: number;
  /** Mean bytes of a notification frame as the healthy clients received it. */
  readonly notificationFrameBytes: number | null;
  readonly burstMs: number;
  /** How long the odds streamed before the race settled, and whether the gateway felt the slow clients by then. */
  readonly warmupMs: number;
  readonly slowFeltBeforeSettling: boolean;
  /** The swarm's own event-loop delay (the worst worker's p99 and max): client lag the gateway is not to blame for. */
  readonly swarmLoopDelayMs: { readonly p99: number; readonly max: number };
  readonly cellMs: number;
}

const TOKEN_TTL_SECONDS = 3_600;
const RSS_SAMPLE_MS = 100;
const CHANNEL_IS_FULL = 'channel is full';

export async function signUsers(count: number, secret: Uint8Array): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  for (let i = 0; i < count; i++) users.push({ userId: userIdOf(i), token: await signToken(userIdOf(i), secret, TOKEN_TTL_SECONDS) });
  return users;
}

/** Bytes owed by the gateway beyond the kernels: queued in the policy's queues and in the sockets' own buffers. */
async function owedBytes(g: { metricsText(): Promise<string> }): Promise<number> {
  const text = await g.metricsText();
  // Prometheus text: `name{labels} value` or `name value`; values may be written with an exponent.
  const queued = /^raceday_gateway_queue_depth_bytes\{stat="total"\} (\S+)$/m.exec(text);
  const socket = /^raceday_gateway_socket_buffered_bytes(?:\{[^}]*\})? (\S+)$/m.exec(text);
  return (Number(queued?.[1] ?? 0) || 0) + (Number(socket?.[1] ?? 0) || 0);
}

/**
 * Odds stream for the warm-up; with slow or stalled clients it goes on (up to `warmupMaxMs`) until
 * the gateway feels them: bytes owed beyond the kernels' buffers, or a drop or eviction. Only then
 * does the race settle, so every cell measures a gateway that is already holding slow clients back.
 */
async function warmUp(g: { metricsText(): Promise<string>; policy: { stats(): PolicyStats } }, s: CellSettings, slowOnes: boolean): Promise<{ ms: number; felt: boolean }> {
  const start = Date.now();
  await new Promise((r) => setTimeout(r, s.warmupMs));
  if (!slowOnes) return { ms: Date.now() - start, felt: false };
  // Owed bytes that stay owed for a second: a healthy client's share of an odds frame leaves in milliseconds.
  let owedFor = 0;
  for (;;) {
    const st = g.policy.stats();
    if (st.drops > 0 || st.evictions > 0) return { ms: Date.now() - start, felt: true };
    owedFor = (await owedBytes(g)) > 0 ? owedFor + 1 : 0;
    if (owedFor >= 4) return { ms: Date.now() - start, felt: true };
    if (Date.now() - start > s.warmupMaxMs) return { ms: Date.now() - start, felt: false };
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Slow and stalled clients split the share: half each (the stalled get the odd one). */
export function cohortsFor(subscribers: number, percent: number): CohortCounts {
  const behind = percent <= 0 ? 0 : Math.max(1, Math.floor((subscribers * percent) / 100));
  const slow = Math.floor(behind / 2);
  return { healthy: subscribers - behind, slow, stalled: behind - slow, flapping: 0 };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);
}

/** Samples this process's RSS until stopped; the peak in MB. */
function rssSampler(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, RSS_SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      return Math.round(Math.max(peak, process.memoryUsage.rss()) / 1e5) / 10;
    },
  };
}

/** Extra notifications per user for the throughput cell: distinct ids, so the store gives each its own sequence. */
function burstBodies(users: number, perUser: number, at: number): NotificationBody[] {
  const base = settlementNotifications(users, at);
  if (perUser <= base.length / users) return base;
  const out: NotificationBody[] = [];
  for (let k = 0; k < perUser; k++) {
    for (let i = 0; i < users; i++) {
      const b = base[i * 2] as NotificationBody;
      out.push({ ...b, notificationId: `${b.notificationId}:${k}` });
    }
  }
  return out;
}

async function feed(gateway: { deliver(body: NotificationBody & { seq: number }, receivedAtMs: number): void | Promise<void> }, bodies: readonly NotificationBody[], seqs: readonly number[], deadlineMs: number): Promise<number> {
  for (let i = 0; i < bodies.length; i++) {
    if (Date.now() > deadlineMs) return bodies.length - i;
    const at = Date.now();
    // Stamped as it enters: the swarm's latency (receipt - publishedAt) is then the gateway's own.
    const p = gateway.deliver({ ...(bodies[i] as NotificationBody), publishedAt: at, seq: seqs[i] as number }, at);
    if (p !== undefined) await p;
  }
  return 0;
}

function timeToEvict(stats: PolicyStats): CellResult['timeToEvictMs'] {
  const sorted = [...stats.timeToEvictMs].sort((a, b) => a - b);
  return sorted.length === 0 ? null : { p50: percentile(sorted, 50), max: sorted[sorted.length - 1] as number };
}

/** The gateway's log: "channel is full" lines counted (not printed: thousands in a stall), the rest passed on. */
function gatewayLog(log: (line: string) => void): { line(text: string): void; channelIsFull(): number } {
  let full = 0;
  return {
    line(text) {
      if (text.includes(CHANNEL_IS_FULL)) full++;
      else log(`  gateway: ${text}`);
    },
    channelIsFull: () => full,
  };
}

function lostOf(report: SwarmReport, cohorts: readonly ('healthy' | 'slow' | 'stalled' | 'flapping')[]): number {
  return cohorts.reduce((s, c) => s + (report.cohorts[c]?.delivery.lost ?? 0), 0);
}

export async function runCell(spec: CellSpec, s: CellSettings, users: readonly BenchUser[], secret: Uint8Array): Promise<CellResult> {
  const cellStart = Date.now();
  const perUser = spec.notificationsPerUser ?? 2;
  const store = createMemoryStore({ ledgerLog: false });
  await loadWorld(store, s.subscribers, s.oddsCombinations, 3_600_000);
  const gwLog = gatewayLog(s.log);
  const rss = rssSampler();
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  let odds: ReturnType<typeof createOddsBroadcaster> | undefined;
  let swarm: SplitSwarm | undefined;
  let stopped = false;
  try {
    gateway = await startGateway({ store, policy: spec.policy, secret, port: 0, log: gwLog.line });
    const g = gateway;
    const oddsOn = s.oddsIntervalMs > 0;
    // The odds race is in its deadline rush for the whole cell: one interval throughout.
    odds = createOddsBroadcaster({ store, sink: g, watchedRaces: () => (oddsOn ? [ODDS_RACE_ID] : []), intervalMs: Math.max(s.oddsIntervalMs, 10), rushIntervalMs: Math.max(s.oddsIntervalMs, 10) });
    const cohorts = cohortsFor(s.subscribers, spec.slowOrStalledPercent);
    swarm = startSplitSwarm({
      wsUrl: g.wsUrl,
      users,
      cohorts,
      healthyWatchers: Math.round((cohorts.healthy * s.healthyWatchersPercent) / 100),
      watchRaceId: oddsOn ? ODDS_RACE_ID : undefined,
      slowReadBytesPerSecond: s.slowReadBytesPerSecond,
      ...(s.workers === undefined ? {} : { workers: s.workers }),
    });
    const ready = await swarm.ready;
    const label = `${spec.policy} @ ${spec.slowOrStalledPercent}%`;
    s.log(`  ${label}: ${ready.connected}/${users.length} connected${ready.firstError === undefined ? '' : ` (first error: ${ready.firstError})`}; odds ${oddsOn ? `every ${s.oddsIntervalMs} ms` : 'off'}, warm-up ${s.warmupMs} ms`);
    odds.start();
    const warm = await warmUp(g, s, cohorts.slow + cohorts.stalled > 0);
    s.log(`  ${label}: warm-up ${warm.ms} ms${warm.felt ? ', slow clients felt by the gateway' : cohorts.slow + cohorts.stalled > 0 ? ', slow clients NOT yet felt by the gateway' : ''}`);
    const bodies = burstBodies(s.subscribers, perUser, Date.now());
    const seqs = await store.appendNotifications(bodies);
    const burstStart = Date.now();
    const notTaken = await feed(g, bodies, seqs, burstStart + s.burstDeadlineMs);
    const burstMs = Date.now() - burstStart;
    s.log(`  ${label}: ${bodies.length - notTaken} notifications into the gateway in ${burstMs} ms${notTaken > 0 ? ` (${notTaken} not taken by the deadline)` : ''}; draining ${s.drainMs} ms`);
    await new Promise((r) => setTimeout(r, s.drainMs));
    await odds.stop();
    stopped = true;
    const report = await swarm.stop(perUser);
    const stats = g.policy.stats();
    const healthy = report.cohorts.healthy;
    const healthyDeliveryMs = healthy?.notificationLatencyMs ?? null;
    const healthyReceived = healthy?.delivery.received ?? 0;
    const closes: Record<string, number> = {};
    for (const c of Object.values(report.cohorts)) for (const [code, n] of Object.entries(c?.closesByCode ?? {})) closes[code] = (closes[code] ?? 0) + n;
    const result = {
      policy: spec.policy,
      slowOrStalledPercent: spec.slowOrStalledPercent,
      subscribers: s.subscribers,
      cohorts,
      connected: ready.connected,
      healthyDeliveryMs,
      healthyOddsMs: healthy?.oddsLatencyMs ?? null,
      expected: report.delivery.expected,
      delivered: report.delivery.received,
      lostAfterRecovery: lostOf(report, ['healthy', 'slow', 'flapping']),
      lostStalled: lostOf(report, ['stalled']),
      duplicates: report.delivery.duplicates,
      outOfOrder: report.delivery.outOfOrder,
      notTakenByDeadline: notTaken,
      drops: stats.drops,
      channelIsFullLines: gwLog.channelIsFull(),
      evictions: stats.evictions,
      timeToEvictMs: timeToEvict(stats),
      maxQueueMessages: stats.maxQueueMessages,
      maxQueueBytes: stats.maxQueueBytes,
      oddsFramesSent: odds.stats().frames,
      closesByCode: closes,
      healthyMessagesPerSecond: healthyDeliveryMs === null || healthyDeliveryMs.max <= 0 ? 0 : Math.round((healthyReceived * 1000) / healthyDeliveryMs.max),
      // Without odds every frame a healthy client got is a notification.
      notificationFrameBytes: healthy === undefined || healthy.notificationFrames === 0 || healthy.oddsFrames > 0 ? null : Math.round(healthy.bytes / healthy.notificationFrames),
      burstMs,
      warmupMs: warm.ms,
      slowFeltBeforeSettling: warm.felt,
      swarmLoopDelayMs: { p99: Math.max(0, ...report.workerLoopDelayMs.map((l) => l.p99)), max: Math.max(0, ...report.workerLoopDelayMs.map((l) => l.max)) },
    };
    return { ...result, gatewayPeakRssMb: rss.stop(), cellMs: Date.now() - cellStart };
  } finally {
    await odds?.stop();
    // A cell that failed half-way still stops its client processes.
    if (!stopped) await swarm?.stop(perUser).catch(() => undefined);
    await gateway?.close();
    rss.stop();
  }
}
