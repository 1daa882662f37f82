// The gateway restart of the chaos runs: a `raceday gateway` process on the emulators (--intake
// pubsub, a fixed instance id and port, so a restarted gateway takes over its predecessor's
// subscription and address), subscriber clients connected to it through a Toxiproxy proxy, and,
// while notifications flow, the gateway is killed (SIGKILL) or stopped (SIGTERM) and started
// again, and client-side network faults hit the proxy. Clients reconnect and recover what they
// missed by sequence number (`afterSeq`); the figures are what a client still missed or got twice
// after recovery, and how long each recovery took.
//
// Notifications come from the notify stage's own path (append to the user's log, then publish
// with the number the log gave), driven here at a steady pace, or from a caller's race (`attach`).
import { randomBytes, randomUUID } from 'node:crypto';
import type { MessageBus, Store } from '../core/ports.ts';
import { settledNotificationId } from '../core/notification.ts';
import { TOPICS } from '../core/topology.ts';
import { NOTIFICATIONS_PAGE_MAX } from '../core/ports.ts';
import type { EmulatorHandle } from '../emulators/index.ts';
import { freePort } from '../emulators/processes.ts';
import type { Toxiproxy } from '../emulators/toxiproxy.ts';
import { signToken } from '../gateway/auth.ts';
import { notificationMessage } from '../pipeline/notify.ts';
import { openBackend, type OpenedBackend } from '../sim/open-backend.ts';
import type { FaultEvent, NetworkFaultKind } from './contracts.ts';
import { startGatewayProcess, type GatewayProcess } from './gateway-process.ts';
import { injectNetworkFault } from './network.ts';
import { startSubscriber, type Subscriber } from './subscriber.ts';

export type GatewayStep = { readonly restart: 'SIGKILL' | 'SIGTERM' } | { readonly fault: NetworkFaultKind };

export interface GatewayRestartOptions {
  readonly toxi: Toxiproxy;
  /** Emulators to run on (the gateway process reaches them directly; only clients go through Toxiproxy). */
  readonly emulators: EmulatorHandle;
  /** Subscribed users when this function drives the notifications (default 30). */
  readonly users?: number;
  /** What happens, in order, while notifications flow (default: SIGKILL, latency, reset, half-open, SIGTERM). */
  readonly steps?: readonly GatewayStep[];
  /** How long each client-side fault holds, and the pause after a kill before the restart (default 3,000 / 500 ms). */
  readonly faultMs?: number;
  readonly restartAfterMs?: number;
  /** Pause between one step's recovery and the next step (default 1,000 ms). */
  readonly gapMs?: number;
  /** Clients resume after the last sequence they hold (default true; false shows the figures can fail). */
  readonly resumeAfterSeq?: boolean;
  /** Clients' own liveness check: dead after this long without a frame or pong (default 3,000 ms). */
  readonly clientDeadAfterMs?: number;
  /** A caller's race instead of the driven notifications: its project, store, users, and when it is done. */
  readonly attach?: { readonly projectId: string; readonly spannerShards?: number; readonly store: Store; readonly userIds: readonly string[]; readonly done: Promise<unknown> };
  /** Longest wait for every client to catch up after a step, and at the end (default 60,000 ms). */
  readonly recoverTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface GatewayRestartResult {
  readonly users: number;
  /** Notifications the users' logs hold at the end (what clients are owed). */
  readonly expected: number;
  readonly received: number;
  /** Owed and never received, after the final recovery. */
  readonly lost: number;
  /** Received more than once (a correct client drops the copy; the gateway should not send it). */
  readonly duplicated: number;
  /** Per step: fault end (restart done, fault cleared) -> every client connected and holding all it was owed then. */
  readonly recoveryMs: { readonly p50: number; readonly max: number };
  readonly faults: readonly FaultEvent[];
  /** Reconnections over all clients, and connections the clients' liveness check declared dead. */
  readonly reconnects: number;
  readonly deadDetected: number;
  readonly ok: boolean;
  readonly violations: readonly string[];
}

export const DEFAULT_GATEWAY_STEPS: readonly GatewayStep[] = [{ restart: 'SIGKILL' }, { fault: 'latency' }, { fault: 'reset' }, { fault: 'half-open' }, { restart: 'SIGTERM' }];

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const TOKEN_TTL_SECONDS = 6 * 3600;

/** Length of a user's notification log, read page by page. */
async function logLength(store: Store, userId: string): Promise<number> {
  let after = 0;
  for (;;) {
    const page = await store.notificationsAfter(userId, after, NOTIFICATIONS_PAGE_MAX);
    const last = page[page.length - 1];
    if (last === undefined) return after;
    after = last.seq;
  }
}

/** One user's notification the way the notify stage makes it: appended to the log first, then published with its number; answers the number. */
export async function appendAndPublish(store: Store, bus: MessageBus, userId: string, round: number): Promise<number> {
  const settlementId = `chaos-${userId}-${round}`;
  const body = { userId, raceId: 'chaos-race', kind: 'settled' as const, payload: { kind: 'settled' as const, raceId: 'chaos-race', settlementId, cash: 0, medals: 0, hits: 0 }, publishedAt: Date.now(), notificationId: settledNotificationId(settlementId) };
  const [seq] = await store.appendNotifications([body]);
  if (seq === undefined) throw new Error('CHAOS.NO_SEQ: the notification log gave no number');
  await bus.publish(TOPICS.notifications, [notificationMessage({ ...body, seq })]);
  return seq;
}

/** One notification per user; records the highest number each user is owed. */
async function driveRound(backend: OpenedBackend, userIds: readonly string[], round: number, owed: Map<string, number>): Promise<void> {
  await Promise.all(userIds.map(async (userId) => {
    const seq = await appendAndPublish(backend.store, backend.bus, userId, round);
    owed.set(userId, Math.max(owed.get(userId) ?? 0, seq));
  }));
}

function caughtUp(subs: readonly Subscriber[], owed: ReadonlyMap<string, number>): boolean {
  return subs.every((s) => s.connected && s.tracker.counts().contiguous >= (owed.get(s.userId) ?? 0));
}

async function waitRecovered(subs: readonly Subscriber[], owed: () => ReadonlyMap<string, number>, timeoutMs: number): Promise<number | null> {
  const t0 = Date.now();
  const target = new Map(owed());
  while (Date.now() - t0 < timeoutMs) {
    if (caughtUp(subs, target)) return Date.now() - t0;
    await sleep(25);
  }
  return null;
}

const percentile = (xs: readonly number[], q: number): number => {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number;
};

/** What the users are owed, kept current in the background: the driven notifications, or (attached) their logs. */
function startOwing(o: GatewayRestartOptions, own: OpenedBackend | undefined, userIds: readonly string[], owed: Map<string, number>): { stop(): Promise<void>; failed(): Error | undefined } {
  let on = true;
  let error: Error | undefined;
  const loop = (async () => {
    for (let round = 1; on; round++) {
      if (own !== undefined) {
        await driveRound(own, userIds, round, owed);
        await sleep(200);
      } else {
        const a = o.attach as NonNullable<GatewayRestartOptions['attach']>;
        for (const u of a.userIds) owed.set(u, await logLength(a.store, u));
        await sleep(500);
      }
    }
  })().catch((e: Error) => void (error = e));
  return {
    async stop() {
      on = false;
      await loop;
    },
    failed: () => error,
  };
}

interface StepContext {
  readonly o: GatewayRestartOptions;
  readonly proxyName: string;
  readonly subs: readonly Subscriber[];
  readonly owed: ReadonlyMap<string, number>;
  /** Restarts the gateway with the given signal (stop, pause, start). */
  restart(signal: 'SIGKILL' | 'SIGTERM'): Promise<void>;
}

/** One step: the restart or the fault, then the wait until every client caught up. */
async function runStep(ctx: StepContext, step: GatewayStep, atMs: number): Promise<FaultEvent> {
  const t = Date.now();
  if ('restart' in step) await ctx.restart(step.restart);
  else {
    const faultMs = ctx.o.faultMs ?? 3_000;
    const f = await injectNetworkFault(ctx.o.toxi, ctx.proxyName, step.fault, { durationMs: faultMs });
    await sleep(faultMs);
    await f.clear();
  }
  const durationMs = Date.now() - t;
  const recovered = await waitRecovered(ctx.subs, () => ctx.owed, ctx.o.recoverTimeoutMs ?? 60_000);
  const kind = 'restart' in step ? 'gateway-restart' : step.fault;
  ctx.o.log?.(`gateway restart: ${kind}${'restart' in step ? ` (${step.restart})` : ''} at ${atMs} ms for ${durationMs} ms, recovered after ${recovered ?? 'never'} ms`);
  return { kind, target: 'restart' in step ? `gateway(${step.restart})` : 'gateway', phase: 'notify', atMs, durationMs, recoveredAfterMs: recovered };
}

async function connectClients(o: GatewayRestartOptions, url: string, userIds: readonly string[], secret: string, subs: Subscriber[]): Promise<void> {
  for (const userId of userIds) subs.push(startSubscriber({ url, userId, token: await signToken(userId, secret, TOKEN_TTL_SECONDS), resumeAfterSeq: o.resumeAfterSeq ?? true, deadAfterMs: o.clientDeadAfterMs ?? 3_000 }));
  const first = await waitRecovered(subs, () => new Map(), o.recoverTimeoutMs ?? 60_000);
  if (first === null) throw new Error(`CHAOS.CLIENTS_NOT_CONNECTED: ${subs.filter((s) => !s.connected).length} of ${subs.length} clients could not connect through ${url} (${subs.find((s) => s.lastError !== undefined)?.lastError ?? 'no error'})`);
}

export async function runGatewayRestart(o: GatewayRestartOptions): Promise<GatewayRestartResult> {
  const log = o.log ?? (() => undefined);
  const own = o.attach === undefined ? await openBackend('emulators', { emulators: o.emulators, log }) : undefined;
  const store = o.attach?.store ?? (own as OpenedBackend).store;
  const projectId = o.attach?.projectId ?? String((own as OpenedBackend).where['projectId']);
  const userIds = o.attach?.userIds ?? Array.from({ length: o.users ?? 30 }, (_, i) => `u-chaos-${String(i + 1).padStart(4, '0')}`);
  const secret = randomBytes(32).toString('hex');
  const port = await freePort();
  const proxyName = `gateway-${randomUUID().slice(0, 6)}`;
  const gatewayOptions = { emulators: o.emulators, projectId, spannerShards: o.attach?.spannerShards ?? 1, port, secret, instanceId: `chaos-${randomUUID().slice(0, 6)}`, log };
  let gateway: GatewayProcess | undefined;
  const subs: Subscriber[] = [];
  const owed = new Map<string, number>();
  let owing: ReturnType<typeof startOwing> | undefined;
  try {
    gateway = await startGatewayProcess(gatewayOptions);
    const proxy = await o.toxi.createProxy(proxyName, `127.0.0.1:${port}`);
    await connectClients(o, `ws://${proxy.listen}/graphql`, userIds, secret, subs);
    log(`gateway restart: ${subs.length} clients connected through ${proxy.listen} -> 127.0.0.1:${port}`);
    owing = startOwing(o, own, userIds, owed);
    const restart = async (signal: 'SIGKILL' | 'SIGTERM'): Promise<void> => {
      await gateway?.stop(signal);
      await sleep(o.restartAfterMs ?? 500);
      gateway = await startGatewayProcess(gatewayOptions);
    };
    const t0 = Date.now();
    const faults: FaultEvent[] = [];
    for (const step of o.steps ?? DEFAULT_GATEWAY_STEPS) {
      await sleep(o.gapMs ?? 1_000);
      const failed = owing.failed();
      if (failed !== undefined) throw failed;
      faults.push(await runStep({ o, proxyName, subs, owed, restart }, step, Date.now() - t0));
    }
    await owing.stop();
    const failed = owing.failed();
    if (failed !== undefined) throw failed;
    if (o.attach !== undefined) await o.attach.done;
    for (const u of userIds) owed.set(u, await logLength(store, u));
    await waitRecovered(subs, () => owed, o.recoverTimeoutMs ?? 60_000);
    return tally(subs, owed, faults);
  } finally {
    await owing?.stop();
    for (const s of subs) s.stop();
    await gateway?.stop('SIGTERM');
    await o.toxi.deleteProxy(proxyName).catch(() => undefined);
    await own?.close();
  }
}

function tally(subs: readonly Subscriber[], owed: ReadonlyMap<string, number>, faults: readonly FaultEvent[]): GatewayRestartResult {
  const recoveries = faults.flatMap((f) => (f.recoveredAfterMs === null ? [] : [f.recoveredAfterMs]));
  let expected = 0;
  let received = 0;
  let lost = 0;
  let duplicated = 0;
  for (const s of subs) {
    const n = owed.get(s.userId) ?? 0;
    expected += n;
    received += s.tracker.counts().distinct;
    lost += s.tracker.lostOf(n);
    duplicated += s.tracker.counts().duplicates;
  }
  const violations: string[] = [];
  if (lost > 0) violations.push(`${lost} notifications lost after recovery`);
  if (duplicated > 0) violations.push(`${duplicated} notifications duplicated after recovery`);
  const unrecovered = faults.filter((f) => f.recoveredAfterMs === null);
  if (unrecovered.length > 0) violations.push(`no recovery after ${unrecovered.map((f) => `${f.kind}@${f.atMs}ms`).join(', ')}`);
  return {
    users: subs.length,
    expected,
    received,
    lost,
    duplicated,
    recoveryMs: { p50: percentile(recoveries, 0.5), max: recoveries.length === 0 ? 0 : Math.max(...recoveries) },
    faults,
    reconnects: subs.reduce((n, s) => n + Math.max(0, s.connects - 1), 0),
    deadDetected: subs.reduce((n, s) => n + s.deadDetected, 0),
    ok: violations.length === 0,
    violations,
  };
}
