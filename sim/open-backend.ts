// Opening a backend by name for runners (`raceday run`, `raceday bench emulators`): the same
// ports (Store, MessageBus), a view of the bus for the checkers, and the counters a report adds
// (transaction aborts, redeliveries, backlog maxima), whichever backend is behind them.
// - memory: the embedded bus and store, in process.
// - emulators: starts or reuses the official emulators (emulators/), provisions a fresh project
//   (topics, subscriptions, Spanner instance and shard databases), so reruns never see old data.
// - google: real Pub/Sub and Spanner, only when asked by name and with an explicit project;
//   nothing is provisioned there (topics, subscriptions, instance and database must exist).
import { randomUUID } from 'node:crypto';
import { createMemoryBus, createMemoryStore, createRealClock } from '../backends/memory/index.ts';
import { createPubSubBus, type PubSubBus } from '../backends/google/pubsub-bus.ts';
import { watchPubSub, type PubSubWatch } from '../backends/google/pubsub-watch.ts';
import { createSpannerClient, type SpannerTarget } from '../backends/google/spanner-client.ts';
import { openSpannerStore } from '../backends/google/spanner-open.ts';
import { quietDatabase } from '../backends/google/spanner-pool-errors.ts';
import type { SpannerStore } from '../backends/google/spanner-store.ts';
import type { Clock, MessageBus, Store } from '../core/ports.ts';
import { allSubscriptions, allTopics } from '../core/topology.ts';
import { ensureEmulators, provisionPubSub, type EmulatorHandle, type StrategyChoice } from '../emulators/index.ts';
import { emulatorPubSub } from '../emulators/provision.ts';
import type { BusView } from './checkers.ts';

export const BACKENDS = ['memory', 'emulators', 'google'] as const;
export type BackendName = (typeof BACKENDS)[number];

export function isBackendName(s: string): s is BackendName {
  return (BACKENDS as readonly string[]).includes(s);
}

export interface BackendOptions {
  /** Spanner shard databases (emulators only: the emulator runs one read-write transaction per database). */
  readonly spannerShards?: number;
  /** Emulator strategy (default auto). */
  readonly strategy?: StrategyChoice;
  /** google: required; emulators: default a fresh `raceday-run-<random>` per run. */
  readonly projectId?: string;
  /** google only (default `raceday`). */
  readonly spannerInstance?: string;
  readonly spannerDatabase?: string;
  readonly log?: (line: string) => void;
  /**
   * Spanner: settlements group-committed per transaction at most (1 = one transaction per user).
   * Default per backend: 25 on emulators, 1 on google (SETTLEMENTS_PER_COMMIT_DEFAULT).
   */
  readonly settlementsPerCommitMax?: number;
  /** emulators: use these running emulators (a caller's handle) instead of ensureEmulators; they are not stopped on close. */
  readonly emulators?: EmulatorHandle;
  /** emulators: how subscribers pull (default `streaming`; `unary`: backends/google/pubsub-pull.ts). */
  readonly pull?: 'streaming' | 'unary';
}

export interface BackendStats {
  readonly transactionsCommitted: number;
  /** Transactions aborted; each was retried (a final failure would have failed the run). */
  readonly transactionsAborted: number;
  readonly redeliveries: number;
  /** Largest backlog sampled per subscription. */
  readonly backlogMax: Readonly<Record<string, number>>;
}

export interface CurrentBacklog {
  readonly subscription: string;
  readonly backlog: number;
  readonly oldestUnackedAgeMs?: number;
}

export interface OpenedBackend {
  readonly name: BackendName;
  readonly store: Store;
  readonly bus: MessageBus & { isIdle(): boolean };
  readonly view: BusView;
  readonly clock: Clock;
  /** Where it runs, for the report (emulator endpoints, project, shard databases). */
  readonly where: Readonly<Record<string, unknown>>;
  /** Records current backlogs into the maxima; runners call it on every poll. */
  sample(): void;
  stats(): BackendStats;
  /** Each subscription's backlog now (and its oldest unacked message's age where the bus knows it): a run record's timelines. */
  backlogs(): readonly CurrentBacklog[];
  /** Closes clients, drops what this run provisioned on reused emulators, stops emulators it started. */
  close(): Promise<void>;
}

export const BACKEND_LIMITS = {
  /** Base id of the run's Spanner databases (the project is fresh per run, so the name can be fixed). */
  databaseBase: 'raceday',
  /** Cleanup after a run may take this long before it is abandoned (the emulators are stopped or reused anyway). */
  cleanupTimeoutMs: 15_000,
} as const;

function openMemory(): OpenedBackend {
  const clock = createRealClock();
  const bus = createMemoryBus({ clock });
  const store = createMemoryStore({ clock });
  const maxima = new Map<string, number>();
  return {
    name: 'memory',
    store,
    bus,
    view: bus,
    clock,
    where: { backend: 'memory' },
    backlogs: () => bus.stats().subscriptions.map((s) => ({ subscription: s.subscription, backlog: s.backlog, oldestUnackedAgeMs: s.oldestUnackedAgeMs })),
    sample() {
      for (const s of bus.stats().subscriptions) if (s.backlog > (maxima.get(s.subscription) ?? 0)) maxima.set(s.subscription, s.backlog);
    },
    stats() {
      const st = store.stats();
      const redeliveries = bus.stats().subscriptions.reduce((n, s) => n + s.redelivered, 0);
      return { transactionsCommitted: st.transactionsCommitted, transactionsAborted: st.transactionsAborted, redeliveries, backlogMax: Object.fromEntries(maxima) };
    },
    async close() {
      await bus.close();
      await store.close();
    },
  };
}

const perCommit = (o: BackendOptions): { settlementsPerCommitMax?: number } => (o.settlementsPerCommitMax === undefined ? {} : { settlementsPerCommitMax: o.settlementsPerCommitMax });

function googleStats(store: SpannerStore, watch: PubSubWatch): BackendStats {
  const st = store.stats();
  return { transactionsCommitted: st.transactionsCommitted, transactionsAborted: st.transactionsAborted, redeliveries: watch.redeliveries(), backlogMax: watch.backlogMax() };
}

function withTimeout(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

/** Drops the run's databases, instance, subscriptions and topics on emulators that stay up (reused ones). */
async function dropProvisioned(handle: EmulatorHandle, target: SpannerTarget, databaseIds: readonly string[]): Promise<void> {
  const spanner = createSpannerClient(target);
  try {
    const instance = spanner.instance(target.instanceId);
    await Promise.all(databaseIds.map((id) => quietDatabase(instance.database(id)).delete().catch(() => undefined)));
    await instance.delete().catch(() => undefined);
  } finally {
    spanner.close();
  }
  if (handle.pubsubHost === undefined) return;
  const pubsub = emulatorPubSub(handle.projectId, handle.pubsubHost);
  try {
    await Promise.all(allSubscriptions().map((s) => pubsub.subscription(s.name).delete().catch(() => undefined)));
    await Promise.all(allTopics().map((t) => pubsub.topic(t).delete().catch(() => undefined)));
  } finally {
    await pubsub.close();
  }
}

async function openEmulators(options: BackendOptions): Promise<OpenedBackend> {
  // No credentials are needed; without this the auth library probes 169.254.169.254.
  process.env.METADATA_SERVER_DETECTION = 'none';
  const projectId = options.projectId ?? `raceday-run-${randomUUID().slice(0, 8)}`;
  const given = options.emulators;
  // The emulators accept any project: a fresh one per run isolates its topics, instance and databases.
  const handle: EmulatorHandle =
    given === undefined
      ? await ensureEmulators({ strategy: options.strategy ?? 'auto', pubsub: true, spanner: true, projectId, ...(options.log === undefined ? {} : { log: options.log }) })
      : { ...given, projectId, stop: async () => undefined };
  const keepsRunning = given !== undefined || handle.reused || handle.strategy === 'external';
  let store: SpannerStore | undefined;
  let bus: PubSubBus | undefined;
  try {
    if (handle.spannerHost === undefined || handle.pubsubHost === undefined) throw new Error('ensureEmulators returned no Spanner or no Pub/Sub emulator');
    const target: SpannerTarget = { projectId, instanceId: handle.spannerInstance, emulator: true, emulatorHost: handle.spannerHost };
    await provisionPubSub(handle);
    store = await openSpannerStore({ target, databaseBase: BACKEND_LIMITS.databaseBase, shards: options.spannerShards ?? 1, ...perCommit(options) });
    bus = createPubSubBus({ projectId, emulatorHost: handle.pubsubHost, ...(options.pull === undefined ? {} : { pull: options.pull }) });
    const watch = watchPubSub(bus);
    const opened = { store, bus };
    const databaseIds = store.databaseIds;
    return {
      name: 'emulators',
      store,
      bus: Object.assign(Object.create(bus) as PubSubBus, { isIdle: () => watch.isIdle() }),
      view: watch,
      clock: createRealClock(),
      where: { backend: 'emulators', strategy: handle.strategy, reused: handle.reused, projectId, pubsubHost: handle.pubsubHost, spannerHost: handle.spannerHost, databases: databaseIds, settlementsPerCommit: store.settlementsPerCommit },
      sample: () => watch.sample(),
      backlogs: () => watch.stats().subscriptions.map((b) => ({ subscription: b.subscription, backlog: b.backlog })),
      stats: () => googleStats(opened.store, watch),
      async close() {
        await watch.close();
        await opened.bus.close();
        await opened.store.close();
        if (keepsRunning) await withTimeout(dropProvisioned(handle, target, databaseIds), BACKEND_LIMITS.cleanupTimeoutMs);
        await handle.stop();
      },
    };
  } catch (e) {
    await bus?.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await handle.stop();
    throw e;
  }
}

/** A backend that cannot be reached for a reason the user fixes outside raceday (credentials, hosts). */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
}

/**
 * The client libraries look credentials up lazily, inside a gRPC stub, and a failure there is an
 * uncaught rejection with a stack trace: ask the same auth object first, so a missing login is
 * one clear error before anything is opened.
 */
async function assertGoogleCredentials(target: SpannerTarget): Promise<void> {
  const spanner = createSpannerClient(target);
  try {
    await spanner.auth.getClient();
  } catch (e) {
    throw new BackendUnavailableError(
      `no Google Cloud credentials for project ${target.projectId} (${(e as Error).message.split('.')[0]}): run "gcloud auth application-default login" or set GOOGLE_APPLICATION_CREDENTIALS to a key file`,
    );
  } finally {
    spanner.close();
  }
}

/** Real Google Cloud: never by accident (explicit name and project; emulator hosts must be unset). */
async function openGoogle(options: BackendOptions): Promise<OpenedBackend> {
  if (options.projectId === undefined || options.projectId === '') throw new Error('--backend google needs --project P (real Google Cloud is never used by default)');
  if ((options.spannerShards ?? 1) !== 1) throw new Error('--spanner-shards is an emulator-only technique; real Spanner scales one database by splits');
  const target: SpannerTarget = { projectId: options.projectId, instanceId: options.spannerInstance ?? 'raceday', emulator: false };
  for (const name of ['SPANNER_EMULATOR_HOST', 'PUBSUB_EMULATOR_HOST']) {
    if (process.env[name]) throw new BackendUnavailableError(`--backend google reaches real Google Cloud but ${name} is set: unset it (or use --backend emulators)`);
  }
  await assertGoogleCredentials(target);
  const store = await openSpannerStore({ target, databaseBase: options.spannerDatabase ?? 'raceday', shards: 1, provision: false, ...perCommit(options) });
  const bus = createPubSubBus({ projectId: options.projectId, googleCloud: true });
  const watch = watchPubSub(bus);
  return {
    name: 'google',
    store,
    bus: Object.assign(Object.create(bus) as PubSubBus, { isIdle: () => watch.isIdle() }),
    view: watch,
    clock: createRealClock(),
    where: { backend: 'google', projectId: options.projectId, instance: target.instanceId, databases: store.databaseIds, settlementsPerCommit: store.settlementsPerCommit },
    sample: () => watch.sample(),
    backlogs: () => watch.stats().subscriptions.map((b) => ({ subscription: b.subscription, backlog: b.backlog })),
    stats: () => googleStats(store, watch),
    async close() {
      await watch.close();
      await bus.close();
      await store.close();
    },
  };
}

export async function openBackend(name: BackendName, options: BackendOptions = {}): Promise<OpenedBackend> {
  if (name === 'memory') {
    if ((options.spannerShards ?? 1) !== 1) throw new Error('--spanner-shards applies to the emulators backend only');
    return openMemory();
  }
  if (name === 'emulators') return openEmulators(options);
  return openGoogle(options);
}

/**
 * Ctrl-C and SIGTERM during a run: @google-cloud/spanner installs SIGINT/SIGTERM listeners that
 * do not exit, so a runner that opened a backend installs its own: stop what was started (bounded
 * by a timeout), then exit 130 (SIGINT) or 143 (SIGTERM). Returns the uninstaller.
 */
export function exitOnInterrupt(cleanup: () => Promise<unknown>, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    const code = 128 + (signal === 'SIGINT' ? 2 : 15);
    if (stopping) process.exit(code); // a second Ctrl-C: leave at once
    stopping = true;
    log(`raceday: ${signal}, stopping what this run started`);
    void withTimeout(cleanup().catch(() => undefined), BACKEND_LIMITS.cleanupTimeoutMs).finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
