// The subscriber swarm (`raceday load subscribers`): thousands of graphql-transport-ws clients
// spread over worker threads (or child processes), in cohorts (healthy, slow, stalled, flapping).
// Each worker records per-message latency in HDR histograms (receipt - the result's publication
// time, or - the odds frame's send time) and counts lost, duplicated and out-of-order
// notifications from their per-user sequence numbers; the driver merges the workers' histograms
// exactly and reports every cohort apart, with every event loop's own delay beside it so the
// driver's lag is never blamed on the gateway.
import { fork, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Percentiles } from '../reports/latency.ts';
import { assignCohorts, COHORT_BEHAVIOUR_DEFAULT, dealToWorkers, COHORTS, type Cohort, type CohortBehaviour, type CohortCounts } from './swarm/cohorts.ts';
import { createHistogramSet, histogramKey, mergeEncoded, percentilesOfSet, type HistogramSet } from './swarm/histograms.ts';
import type { CohortTotals, DriverMessage, LoopDelay, ReadyMessage, WorkerMessage, WorkerReport } from './swarm/protocol.ts';
import type { DeliveryTotals } from './swarm/sequence.ts';
import type { UserPlan } from './swarm/user.ts';

export type { Cohort, CohortCounts } from './swarm/cohorts.ts';
export { parseCohorts } from './swarm/cohorts.ts';

export interface SwarmUser {
  readonly userId: string;
  readonly token: string;
}

export interface SwarmOptions {
  /** The gateway's WebSocket URL (ws://127.0.0.1:P/graphql). */
  readonly wsUrl: string;
  /** Several gateway instances (`raceday gateway --instances N`): user i connects to wsUrls[i % N]; wsUrl is then unused. */
  readonly wsUrls?: readonly string[];
  readonly users: readonly SwarmUser[];
  /** Users per cohort; they must add up to users.length. */
  readonly cohorts: CohortCounts;
  /** The race whose odds every user also watches (none: notifications only). */
  readonly watchRaceId?: string;
  /** Workers to spread the users over (default: 1 per 2,500 users, at most 4). */
  readonly workers?: number;
  /** Worker threads in this process (default) or child processes (past one process's limits). */
  readonly isolation?: 'thread' | 'process';
  readonly behaviour?: Partial<CohortBehaviour>;
  /** Handshakes in flight at once per worker (default 100). */
  readonly connectConcurrency?: number;
  /**
   * At stop, how long at most flapping and evicted clients get to reconnect and catch up (from the
   * Store) before the count; it ends early once every client but the stalled ones holds what it
   * is owed (default 5,000 ms; 0: count at once).
   */
  readonly settleMs?: number;
}

export interface CohortReport extends CohortTotals {
  readonly notificationLatencyMs: Percentiles | null;
  readonly oddsLatencyMs: Percentiles | null;
}

export interface SwarmReport {
  readonly users: number;
  readonly workers: number;
  readonly isolation: 'thread' | 'process';
  readonly cohorts: Partial<Record<Cohort, CohortReport>>;
  /** Notification delivery over every cohort. */
  readonly delivery: DeliveryTotals;
  /** The driver thread's own event-loop delay over the run, and each worker's. */
  readonly driverLoopDelayMs: LoopDelay;
  readonly workerLoopDelayMs: readonly LoopDelay[];
  /** The settle phase before the count: how long it waited, and clients (not stalled) still owed notifications then. */
  readonly settle: { readonly waitedMs: number; readonly behindAtCount: number };
  readonly lastError?: string;
}

export interface SwarmExpectation {
  /** Notifications each user should have received (the caller's count, or the Store's). */
  readonly perUser?: Readonly<Record<string, number>>;
  /** For users not in perUser. */
  readonly default: number;
}

export interface Swarm {
  /** Every user attempted its first connection. */
  readonly ready: Promise<{ readonly connected: number; readonly failed: number; readonly firstError?: string }>;
  /** Stops every client and returns the merged report (histograms kept for exact merges elsewhere). */
  stop(expected: SwarmExpectation): Promise<{ report: SwarmReport; histograms: HistogramSet }>;
  /** Ends every worker at once, without a report (a caller that failed midway). */
  abort(): void;
}

const WORKER_URL = new URL('./swarm/worker.ts', import.meta.url);
const USERS_PER_WORKER = 2_500;
const WORKERS_DEFAULT_MAX = 4;
const SETTLE_MS_DEFAULT = 5_000;

interface WorkerLink {
  /** The users this worker runs. */
  userIds: string[];
  post(m: DriverMessage): void;
  next(): Promise<WorkerMessage>;
  kill(): void;
}

function link(isolation: 'thread' | 'process'): WorkerLink {
  const inbox: WorkerMessage[] = [];
  const waiters: { resolve: (m: WorkerMessage) => void; reject: (e: Error) => void }[] = [];
  const deliver = (m: WorkerMessage) => {
    const w = waiters.shift();
    if (w === undefined) inbox.push(m);
    else w.resolve(m);
  };
  // A worker that dies fails the waiting call, and every later one: nothing waits forever on it.
  let failed: Error | undefined;
  const fail = (e: Error) => {
    failed ??= e;
    waiters.splice(0).forEach((w) => w.reject(e));
  };
  let post: (m: DriverMessage) => void;
  let kill: () => void;
  if (isolation === 'thread') {
    const w = new Worker(WORKER_URL);
    w.on('message', deliver);
    w.on('error', fail);
    post = (m) => w.postMessage(m);
    kill = () => void w.terminate();
  } else {
    const c: ChildProcess = fork(WORKER_URL, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    c.on('message', (m) => deliver(m as WorkerMessage));
    c.on('error', fail);
    c.on('exit', (code) => {
      if (code !== 0 && code !== null) fail(new Error(`SWARM.WORKER_DIED: a swarm process exited with code ${code}`));
    });
    post = (m) => c.send(m);
    kill = () => void c.kill();
  }
  return {
    userIds: [],
    post,
    kill,
    next: () => {
      const m = inbox.shift();
      if (m !== undefined) return Promise.resolve(m);
      if (failed !== undefined) return Promise.reject(failed);
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
  };
}

export function startSwarm(options: SwarmOptions): Swarm {
  const total = options.users.length;
  const cohortOf = assignCohorts(options.cohorts);
  if (cohortOf.length !== total) throw new Error(`SWARM.COHORTS_MISMATCH: cohorts add up to ${cohortOf.length}, the swarm has ${total} users`);
  const workers = Math.max(1, Math.min(options.workers ?? Math.min(WORKERS_DEFAULT_MAX, Math.ceil(total / USERS_PER_WORKER)), total));
  const isolation = options.isolation ?? 'thread';
  const behaviour = { ...COHORT_BEHAVIOUR_DEFAULT, ...options.behaviour };
  const driverDelay = monitorEventLoopDelay({ resolution: 10 });
  driverDelay.enable();
  const links: WorkerLink[] = [];
  const dealt = dealToWorkers(cohortOf, workers);
  for (let w = 0; w < workers; w++) {
    const plans: UserPlan[] = (dealt[w] as number[]).map((i) => {
      const u = options.users[i] as SwarmUser;
      const url = options.wsUrls === undefined || options.wsUrls.length === 0 ? undefined : options.wsUrls[i % options.wsUrls.length];
      return { userId: u.userId, token: u.token, cohort: cohortOf[i] as Cohort, ...(options.watchRaceId === undefined ? {} : { watchRaceId: options.watchRaceId }), ...(url === undefined ? {} : { url }) };
    });
    const l = link(isolation);
    l.userIds = plans.map((p) => p.userId);
    l.post({ type: 'start', url: options.wsUrl, plans, behaviour, connectConcurrency: options.connectConcurrency ?? 100 });
    links.push(l);
  }
  const ready = Promise.all(links.map((l) => l.next() as Promise<ReadyMessage>)).then((rs) => {
    const firstError = rs.find((r) => r.firstError !== undefined)?.firstError;
    return { connected: rs.reduce((s, r) => s + r.connected, 0), failed: rs.reduce((s, r) => s + r.failed, 0), ...(firstError === undefined ? {} : { firstError }) };
  });
  return {
    ready,
    abort() {
      driverDelay.disable();
      for (const l of links) l.kill();
    },
    async stop(expected) {
      await ready;
      const settleMs = options.settleMs ?? SETTLE_MS_DEFAULT;
      const perUser = expected.perUser ?? {};
      const mineOf = (l: WorkerLink) => {
        // Each worker gets the expectations of its own users only.
        const mine: Record<string, number> = {};
        for (const id of l.userIds) if (perUser[id] !== undefined) mine[id] = perUser[id];
        return mine;
      };
      const settleStarted = performance.now();
      let behindAtCount = 0;
      if (settleMs > 0) {
        for (const l of links) l.post({ type: 'quiesce', expected: mineOf(l), expectedDefault: expected.default, settleMs });
        for (const l of links) {
          const m = await l.next();
          if (m.type !== 'settled') throw new Error(`SWARM.PROTOCOL: expected settled, got ${m.type}`);
          behindAtCount += m.behind;
        }
      }
      const settle = { waitedMs: Math.round(performance.now() - settleStarted), behindAtCount };
      const reports: WorkerReport[] = [];
      for (const l of links) l.post({ type: 'stop', expected: mineOf(l), expectedDefault: expected.default });
      for (const l of links) {
        const m = await l.next();
        if (m.type !== 'report') throw new Error(`SWARM.PROTOCOL: expected a report, got ${m.type}`);
        reports.push(m.report);
      }
      driverDelay.disable();
      return mergeReports(reports, { users: total, workers, isolation, driverDelay, settle });
    },
  };
}

function sumTotals(a: CohortTotals, b: CohortTotals): CohortTotals {
  const closes: Record<string, number> = { ...a.closesByCode };
  for (const [code, n] of Object.entries(b.closesByCode)) closes[code] = (closes[code] ?? 0) + n;
  const d = (k: keyof DeliveryTotals) => a.delivery[k] + b.delivery[k];
  return {
    users: a.users + b.users, connects: a.connects + b.connects, connectFailures: a.connectFailures + b.connectFailures, closesByCode: closes,
    errors: a.errors + b.errors, notificationFrames: a.notificationFrames + b.notificationFrames, oddsFrames: a.oddsFrames + b.oddsFrames,
    bytes: a.bytes + b.bytes, notificationsAfterStall: a.notificationsAfterStall + b.notificationsAfterStall,
    delivery: { expected: d('expected'), received: d('received'), lost: d('lost'), duplicates: d('duplicates'), outOfOrder: d('outOfOrder'), unexpected: d('unexpected') },
  };
}

interface MergeContext {
  readonly users: number;
  readonly workers: number;
  readonly isolation: 'thread' | 'process';
  readonly driverDelay: ReturnType<typeof monitorEventLoopDelay>;
  readonly settle: SwarmReport['settle'];
}

export function mergeReports(reports: readonly WorkerReport[], ctx: MergeContext): { report: SwarmReport; histograms: HistogramSet } {
  const histograms = createHistogramSet();
  const totals: Partial<Record<Cohort, CohortTotals>> = {};
  for (const r of reports) {
    mergeEncoded(histograms, r.histograms);
    for (const c of COHORTS) {
      const t = r.cohorts[c];
      if (t !== undefined) totals[c] = totals[c] === undefined ? t : sumTotals(totals[c], t);
    }
  }
  const pct = percentilesOfSet(histograms);
  const cohorts: Partial<Record<Cohort, CohortReport>> = {};
  let delivery: DeliveryTotals = { expected: 0, received: 0, lost: 0, duplicates: 0, outOfOrder: 0, unexpected: 0 };
  for (const c of COHORTS) {
    const t = totals[c];
    if (t === undefined) continue;
    cohorts[c] = { ...t, notificationLatencyMs: pct[histogramKey(c, 'notification')] ?? null, oddsLatencyMs: pct[histogramKey(c, 'odds')] ?? null };
    delivery = {
      expected: delivery.expected + t.delivery.expected, received: delivery.received + t.delivery.received, lost: delivery.lost + t.delivery.lost,
      duplicates: delivery.duplicates + t.delivery.duplicates, outOfOrder: delivery.outOfOrder + t.delivery.outOfOrder, unexpected: delivery.unexpected + t.delivery.unexpected,
    };
  }
  const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
  const d = ctx.driverDelay;
  const lastError = reports.map((r) => r.lastError).find((e) => e !== undefined);
  const report: SwarmReport = {
    users: ctx.users, workers: ctx.workers, isolation: ctx.isolation, cohorts, delivery, settle: ctx.settle,
    driverLoopDelayMs: { p50: ms(d.percentile(50)), p99: ms(d.percentile(99)), max: ms(d.max) },
    workerLoopDelayMs: reports.map((r) => r.loopDelayMs),
    ...(lastError === undefined ? {} : { lastError }),
  };
  return { report, histograms };
}

export type { HistogramSet };
