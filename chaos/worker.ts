// One worker process (`raceday worker --role R`): one stage of the pipeline on an emulator project
// that is already provisioned (a run's or a fleet's; it never provisions one), so a fault can hit
// a real process. The emulator endpoints come from PUBSUB_EMULATOR_HOST and SPANNER_EMULATOR_HOST
// (so a proxy can sit in between), else from the running emulators raceday recorded.
//
// Lines on stdout, one JSON object each, for the fleet that started it:
//   {"ready":true,"role","pid",...}    once subscribed (ingest: once listening, with its "url")
//   {"status":{...}}                    every statusIntervalMs when something changed: deliveries,
//                                       acks, handlers running, the pipeline's counters, errors
//   {"stopped":true,...}                after a graceful stop, with the final status
// SIGTERM / SIGINT (or the parent's pipe closing) is a graceful stop: no new work is handed out,
// the handlers running finish and their acks are sent, the clients close, exit 0. SIGKILL needs
// nothing: every stage is idempotent, and what the process held comes back after its ack deadline.
import { watchHeapAfterGc, type HeapWatch } from './heap-after-gc.ts';
import { createPubSubBus, type PubSubBus } from '../backends/google/pubsub-bus.ts';
import { openSpannerStore } from '../backends/google/spanner-open.ts';
import type { SpannerStore } from '../backends/google/spanner-store.ts';
import { createRealClock } from '../backends/memory/index.ts';
import { UsageError } from '../cmdline/args.ts';
import { DEAD_LETTER_INTAKE, SUBSCRIPTIONS, TOPICS } from '../core/topology.ts';
import { DEFAULT_SPANNER_INSTANCE } from '../emulators/limits.ts';
import { emulatorPubSub } from '../emulators/provision.ts';
import { emulatorDir, readState } from '../emulators/state.ts';
import { PROBE_POINTS, type Probe, type ProbePoint } from '../pipeline/probe.ts';
import { startPipeline, type RunningPipeline, type Stage } from '../pipeline/runner.ts';
import { createReconciler, RECONCILE_DEFAULTS, type Reconciler } from '../pipeline/reconcile.ts';
import { DEFAULT_VARIANTS, type PipelineVariants } from '../pipeline/settings.ts';
import { BACKEND_LIMITS } from '../sim/open-backend.ts';
import { createInterface } from 'node:readline';
import type { WorkerRole } from './contracts.ts';
import { drainableBus, type DrainableBus } from './drain.ts';
import { startIngestEndpoint, type IngestEndpoint } from './ingest-endpoint.ts';

/** The pipeline stage each role runs; ingest runs none (it answers POST /results). */
export const STAGE_OF: Readonly<Record<WorkerRole, Stage | undefined>> = {
  ingest: undefined,
  fanout: 'fanout',
  settle: 'settle',
  'post-settle': 'postSettle',
  notify: 'notify',
  'dead-letters': 'deadLetters',
};

/** Set by a parent that holds this process's stdin: its end closing means the parent is gone. */
export const WORKER_PARENT_PIPE_ENV = 'RACEDAY_WORKER_PARENT_PIPE';

export const WORKER_DEFAULTS = {
  workers: 1,
  maxInFlight: 16,
  /**
   * How soon a killed process's messages come back (Pub/Sub's floor is 10 s). A live process renews
   * the lease of what it holds, so a long fan-out is not redelivered meanwhile; a short deadline
   * only costs renewals, and makes a SIGKILL cost seconds rather than the topology's minute.
   */
  ackDeadlineMs: 10_000,
  /** A graceful stop waits this long for running handlers, then closes anyway (their messages come back). */
  drainTimeoutMs: 20_000,
  statusIntervalMs: 500,
} as const;

export interface WorkerOptions {
  readonly role: WorkerRole;
  readonly projectId: string;
  readonly spannerShards: number;
  readonly spannerInstance?: string;
  readonly workers?: number;
  readonly maxInFlight?: number;
  readonly ackDeadlineMs?: number;
  readonly drainTimeoutMs?: number;
  readonly statusIntervalMs?: number;
  /** ingest: the port of POST /results (default 0: any free port, printed in the ready line). */
  readonly port?: number;
  /**
   * How the worker pulls from Pub/Sub (default `unary`: a killed process's messages come back
   * after their deadline on the emulator, which StreamingPull does not promise; pubsub-pull.ts).
   */
  readonly pull?: 'streaming' | 'unary';
  /** ingest: the reconciler's stall (pipeline/reconcile.ts); 0 turns it off. */
  readonly reconcileStallMs?: number;
  readonly variants?: PipelineVariants;
  readonly settlementsPerCommitMax?: number;
  /** One JSON object per line (default: stdout). */
  readonly emit?: (line: string) => void;
  readonly log?: (line: string) => void;
}

/** Where the emulators are: the environment first (a proxy may stand in), else the recorded running pair. */
export function emulatorHosts(): { pubsubHost: string; spannerHost: string } {
  const env = { pubsubHost: process.env.PUBSUB_EMULATOR_HOST || undefined, spannerHost: process.env.SPANNER_EMULATOR_HOST || undefined };
  const state = env.pubsubHost !== undefined && env.spannerHost !== undefined ? undefined : readState(emulatorDir());
  const pubsubHost = env.pubsubHost ?? state?.pubsubHost;
  const spannerHost = env.spannerHost ?? state?.spannerHost;
  if (pubsubHost === undefined || spannerHost === undefined) {
    throw new UsageError('no emulators to attach to: set PUBSUB_EMULATOR_HOST and SPANNER_EMULATOR_HOST, or start a pair with: raceday emulators start');
  }
  return { pubsubHost, spannerHost };
}

/** What a stage reads: its subscriptions (ingest: the topic it publishes to). */
const NEEDS: Readonly<Record<WorkerRole, { readonly subscriptions: readonly string[]; readonly topics: readonly string[] }>> = {
  ingest: { subscriptions: [], topics: [TOPICS.raceResults] },
  fanout: { subscriptions: [SUBSCRIPTIONS.fanOut.name], topics: [] },
  settle: { subscriptions: [SUBSCRIPTIONS.settle.name], topics: [] },
  'post-settle': { subscriptions: [SUBSCRIPTIONS.postSettle.name], topics: [] },
  notify: { subscriptions: [SUBSCRIPTIONS.notify.name], topics: [] },
  'dead-letters': { subscriptions: [DEAD_LETTER_INTAKE.settleRequests.name, DEAD_LETTER_INTAKE.settled.name], topics: [] },
};

/**
 * A worker attached to a project nobody provisioned would subscribe to nothing and wait forever:
 * refuse it at once, naming what is missing.
 */
async function assertProvisioned(o: WorkerOptions, pubsubHost: string, store: SpannerStore): Promise<void> {
  const pubsub = emulatorPubSub(o.projectId, pubsubHost);
  try {
    const need = NEEDS[o.role];
    const missing: string[] = [];
    for (const name of need.subscriptions) if (!(await pubsub.subscription(name).exists())[0]) missing.push(`subscription ${name}`);
    for (const name of need.topics) if (!(await pubsub.topic(name).exists())[0]) missing.push(`topic ${name}`);
    try {
      await store.getRace('raceday-worker-probe');
    } catch (e) {
      missing.push(`Spanner database (${(e as Error).message.split('\n')[0]})`);
    }
    if (missing.length > 0) throw new UsageError(`project ${o.projectId} is not provisioned on these emulators (${missing.join('; ')}): start the worker on a project a run or a fleet provisioned`);
  } finally {
    await pubsub.close();
  }
}

interface Opened {
  readonly store: SpannerStore;
  readonly raw: PubSubBus;
  readonly bus: DrainableBus;
}

async function openAttached(o: WorkerOptions): Promise<Opened> {
  // No credentials are needed on the emulators; without this the auth library probes the metadata server.
  process.env.METADATA_SERVER_DETECTION = 'none';
  const { pubsubHost, spannerHost } = emulatorHosts();
  const target = { projectId: o.projectId, instanceId: o.spannerInstance ?? DEFAULT_SPANNER_INSTANCE, emulator: true, emulatorHost: spannerHost };
  // provision: false: a worker attaches to a project a run provisioned; a missing database is an error.
  const store = await openSpannerStore({ target, databaseBase: BACKEND_LIMITS.databaseBase, shards: o.spannerShards, provision: false, ...(o.settlementsPerCommitMax === undefined ? {} : { settlementsPerCommitMax: o.settlementsPerCommitMax }) });
  try {
    await assertProvisioned(o, pubsubHost, store);
  } catch (e) {
    await store.close();
    throw e;
  }
  const raw = createPubSubBus({ projectId: o.projectId, emulatorHost: pubsubHost, pull: o.pull ?? 'unary', onError: (s, e) => o.log?.(`worker ${o.role}: subscription ${s}: ${e.message}`) });
  return { store, raw, bus: drainableBus(raw) };
}

/** What a status line carries: this process's view of its subscriptions and the pipeline's counters. */
function statusOf(o: WorkerOptions, opened: Opened, pipeline: RunningPipeline, endpoint: IngestEndpoint | undefined, reconciler: Reconciler | undefined, heap: HeapWatch): Record<string, unknown> {
  const subs = opened.raw.stats().subscriptions;
  const sum = (k: 'delivered' | 'acked' | 'nacked' | 'redelivered' | 'expired' | 'waiting') => subs.reduce((n, s) => n + s[k], 0);
  return {
    role: o.role,
    pid: process.pid,
    delivered: sum('delivered'),
    acked: sum('acked'),
    nacked: sum('nacked'),
    redelivered: sum('redelivered'),
    expired: sum('expired'),
    waiting: sum('waiting'),
    inFlight: opened.bus.inFlight(),
    held: opened.bus.held(),
    published: opened.raw.stats().publishedByTopic,
    counters: pipeline.counters,
    errors: pipeline.errors,
    ...(endpoint === undefined ? {} : { ingest: endpoint.counts() }),
    ...(reconciler === undefined ? {} : { redrives: reconciler.redrives }),
    ...(heap.latest() === undefined ? {} : { heapAfterGc: heap.latest() }),
  };
}

/**
 * Death at a pipeline point, armed through the parent's pipe: the line {"dieAt":"settle.afterCommit",
 * "hits":N} makes the process SIGKILL itself the N-th time (default 1) a handler passes that point
 * (pipeline/probe.ts), so a fault lands exactly inside a settlement, between a commit and its
 * publish, or at the ranking barrier, instead of wherever a timer happens to fall.
 */
export interface DeathArm {
  readonly point: ProbePoint;
  hitsLeft: number;
}

export function parseDeathArm(line: string): DeathArm | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  const o = (typeof v === 'object' && v !== null ? v : {}) as { dieAt?: unknown; hits?: unknown };
  if (typeof o.dieAt !== 'string' || !(PROBE_POINTS as readonly string[]).includes(o.dieAt)) return `dieAt must be one of ${PROBE_POINTS.join(', ')}`;
  const hits = o.hits ?? 1;
  if (typeof hits !== 'number' || !Number.isSafeInteger(hits) || hits < 1) return 'hits must be a positive integer';
  return { point: o.dieAt as ProbePoint, hitsLeft: hits };
}

function deathProbe(emit: (line: string) => void, status: () => Record<string, unknown> | undefined): { probe: Probe; arm: (a: DeathArm) => void } {
  let armed: DeathArm | undefined;
  return {
    arm: (a) => void (armed = a),
    probe: (point, item) => {
      if (armed === undefined || armed.point !== point || --armed.hitsLeft > 0) return;
      // stdout is a pipe: written synchronously on Linux, so the parent reads this (and the counts
      // up to now) before the death.
      emit(JSON.stringify({ dying: true, point, item, pid: process.pid, status: status() }));
      process.kill(process.pid, 'SIGKILL');
    },
  };
}

/** Resolves on SIGTERM, SIGINT, or the parent's pipe closing; lines on that pipe arm a death. */
function untilStopped(onLine: (line: string) => void): Promise<string> {
  return new Promise((resolve) => {
    const on = (why: string): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(why);
    };
    const onInt = (): void => on('SIGINT');
    const onTerm = (): void => on('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    if (process.env[WORKER_PARENT_PIPE_ENV] === '1') {
      createInterface({ input: process.stdin }).on('line', onLine);
      process.stdin.on('end', () => on('parent gone'));
    }
  });
}

/** Runs one worker until told to stop; resolves to the exit code (0 after a graceful stop). */
export async function runWorker(o: WorkerOptions): Promise<number> {
  const emit = o.emit ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const log = o.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  let statusNow: () => Record<string, unknown> | undefined = () => undefined;
  const death = deathProbe(emit, () => statusNow());
  const onLine = (line: string): void => {
    const a = parseDeathArm(line);
    if (typeof a === 'string') log(`raceday worker ${o.role}: ignored a line from the parent (${a})`);
    else death.arm(a);
  };
  const stopped = untilStopped(onLine); // installed first: a SIGTERM while opening still stops cleanly
  const opened = await openAttached(o);
  const stage = STAGE_OF[o.role];
  const options = { workers: o.workers ?? WORKER_DEFAULTS.workers, maxInFlight: o.maxInFlight ?? (stage === 'fanout' ? 1 : WORKER_DEFAULTS.maxInFlight), ackDeadlineMs: o.ackDeadlineMs ?? WORKER_DEFAULTS.ackDeadlineMs };
  const pipeline = startPipeline({
    store: opened.store,
    bus: opened.bus,
    clock: createRealClock(),
    probe: death.probe,
    ...(o.variants === undefined ? {} : { variants: o.variants }),
    only: stage === undefined ? [] : [stage],
    ...(stage === undefined ? {} : { stages: { [stage]: options } }),
  });
  const endpoint = o.role === 'ingest' ? await startIngestEndpoint(pipeline.ingest, o.port ?? 0) : undefined;
  // The ingest process also watches every race with a result until its ranking is out (one per fleet).
  const stallMs = o.reconcileStallMs ?? RECONCILE_DEFAULTS.stallMs;
  const reconciler =
    o.role === 'ingest' && stallMs > 0
      ? createReconciler({ store: opened.store, bus: opened.bus, clock: createRealClock(), counters: pipeline.counters, fanout: (o.variants ?? DEFAULT_VARIANTS).fanout, log: (l) => log(`raceday worker ingest: ${l}`) }, { stallMs })
      : undefined;
  reconciler?.start();
  const heap = watchHeapAfterGc();
  statusNow = () => statusOf(o, opened, pipeline, endpoint, reconciler, heap);
  emit(JSON.stringify({ ready: true, role: o.role, pid: process.pid, projectId: o.projectId, ...(stage === undefined ? {} : { stage, ...options }), ...(endpoint === undefined ? {} : { url: endpoint.url }) }));
  let last = '';
  const report = (): void => {
    const line = JSON.stringify({ status: statusOf(o, opened, pipeline, endpoint, reconciler, heap) });
    if (line !== last) emit((last = line));
  };
  const ticker = setInterval(report, o.statusIntervalMs ?? WORKER_DEFAULTS.statusIntervalMs);
  const why = await stopped;
  log(`raceday worker ${o.role} (pid ${process.pid}): ${why}, draining`);
  const drained = await opened.bus.drain(o.drainTimeoutMs ?? WORKER_DEFAULTS.drainTimeoutMs);
  clearInterval(ticker);
  await reconciler?.stop();
  await endpoint?.close();
  await pipeline.stop();
  await opened.raw.close();
  await opened.store.close();
  emit(JSON.stringify({ stopped: true, drained, status: statusOf(o, opened, pipeline, endpoint, reconciler, heap) }));
  heap.stop();
  return 0;
}
