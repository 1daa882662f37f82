// Emulators for the google backend: reuse running ones (state file), or start them with a strategy
// (`local` processes, `containers`, or `external` endpoints from the environment); `auto` tries them
// in order and says which one worked, or throws one message listing every attempt and its fix.
import { startContainers, stopContainers } from './containers.ts';
import { DEFAULT_PROJECT_ID, DEFAULT_SPANNER_INSTANCE, SPANNER_EMULATOR_CLIENT_ENV } from './limits.ts';
import { findLocalInstall, startLocal } from './local.ts';
import { isOurs, killProcessesNow, stopProcesses, type StartedProcess } from './processes.ts';
import { probePubSub, probeSpanner, waitUntilReady } from './readiness.ts';
import { emulatorDir, readState, removeState, writeState, type EmulatorState, type StrategyName } from './state.ts';

export type { StrategyName } from './state.ts';
export type StrategyChoice = StrategyName | 'auto';
export const STRATEGIES: readonly StrategyChoice[] = ['auto', 'local', 'containers', 'external'];

export interface EmulatorHandle {
  readonly strategy: StrategyName;
  readonly projectId: string;
  readonly spannerInstance: string;
  /** `host:port` of the Pub/Sub emulator, when asked for. */
  readonly pubsubHost?: string;
  readonly spannerHost?: string;
  /** Environment for clients: emulator hosts, project, and the Spanner session switches. */
  readonly env: Readonly<Record<string, string>>;
  /** Pids of the local emulator processes behind this handle (started or reused); empty otherwise. */
  readonly pids: readonly number[];
  /** True when these emulators were already running (state file) and this handle reuses them. */
  readonly reused: boolean;
  /** Time from spawn to first answered request, per emulator (absent when reused or external). */
  readonly startupMs: { readonly pubsub?: number; readonly spanner?: number };
  /** Stops what this handle started; a no-op for reused and external emulators. */
  stop(): Promise<void>;
}

export interface EnsureEmulatorsOptions {
  readonly strategy?: StrategyChoice;
  readonly pubsub?: boolean;
  readonly spanner?: boolean;
  readonly projectId?: string;
  readonly spannerInstance?: string;
  /** Reuse emulators recorded in the state file when they are alive (default true). */
  readonly reuse?: boolean;
  /** Leave them running after this process exits and record them in the state file (`raceday emulators start`). */
  readonly background?: boolean;
  /** Base directory for state and logs (default RACEDAY_STATE_DIR or `.raceday`). */
  readonly stateDir?: string;
  /** Progress lines (which strategy was tried, which worked). */
  readonly log?: (line: string) => void;
}

/** How to fix each strategy, for the message when none works. */
const FIXES: Readonly<Record<StrategyName, string>> = {
  external: 'start emulators yourself and export PUBSUB_EMULATOR_HOST=host:port and SPANNER_EMULATOR_HOST=host:port',
  local:
    'install the official emulators and Java 11+ (Debian: apt-get install google-cloud-cli-pubsub-emulator google-cloud-cli-spanner-emulator default-jre-headless; ' +
    'or: gcloud components install pubsub-emulator cloud-spanner-emulator), or point RACEDAY_GCLOUD_SDK_ROOT, RACEDAY_PUBSUB_EMULATOR_JAR or RACEDAY_SPANNER_EMULATOR_BIN at them',
  containers: 'start a Docker engine (or set DOCKER_HOST) so testcontainers can run the pinned emulator images',
};

export class EmulatorsUnavailableError extends Error {
  override readonly name = 'EmulatorsUnavailableError';
}

/** Client environment for emulators at these hosts (what `raceday emulators env` prints). */
export function emulatorEnv(projectId: string, pubsubHost?: string, spannerHost?: string): Record<string, string> {
  // METADATA_SERVER_DETECTION=none: emulator clients need no credentials, so the auth library must
  // not probe the GCE metadata server (traffic stays on 127.0.0.1).
  const env: Record<string, string> = { GOOGLE_CLOUD_PROJECT: projectId, METADATA_SERVER_DETECTION: 'none' };
  if (pubsubHost !== undefined) Object.assign(env, { PUBSUB_EMULATOR_HOST: pubsubHost, PUBSUB_PROJECT_ID: projectId });
  if (spannerHost !== undefined) Object.assign(env, { SPANNER_EMULATOR_HOST: spannerHost }, SPANNER_EMULATOR_CLIENT_ENV);
  return env;
}

interface Want {
  readonly pubsub: boolean;
  readonly spanner: boolean;
}

function handleOf(base: Omit<EmulatorHandle, 'env'>): EmulatorHandle {
  return { ...base, env: emulatorEnv(base.projectId, base.pubsubHost, base.spannerHost) };
}

/** True when the recorded emulators still run (our pids) and answer. */
export async function stateIsLive(state: EmulatorState): Promise<boolean> {
  if (!state.processes.every(isOurs)) return false;
  const checks: Promise<boolean>[] = [];
  if (state.pubsubHost !== undefined) checks.push(probePubSub(state.pubsubHost, state.projectId));
  if (state.spannerHost !== undefined) checks.push(probeSpanner(state.spannerHost, state.projectId));
  return (await Promise.all(checks)).every(Boolean);
}

async function reuseFromState(dir: string, want: Want, projectId: string, spannerInstance: string): Promise<EmulatorHandle | undefined> {
  const state = readState(dir);
  if (state === undefined) return undefined;
  if ((want.pubsub && state.pubsubHost === undefined) || (want.spanner && state.spannerHost === undefined)) return undefined;
  if (!(await stateIsLive(state))) return undefined;
  // The emulators accept any project and instance name, so a caller may pick its own for isolation.
  return handleOf({ strategy: state.strategy, projectId, spannerInstance, pubsubHost: state.pubsubHost, spannerHost: state.spannerHost, pids: state.processes.map((p) => p.pid), reused: true, startupMs: {}, stop: async () => undefined });
}

async function startExternal(want: Want): Promise<{ pubsubHost?: string; spannerHost?: string }> {
  const pubsubHost = process.env.PUBSUB_EMULATOR_HOST || undefined;
  const spannerHost = process.env.SPANNER_EMULATOR_HOST || undefined;
  const missing = [want.pubsub && pubsubHost === undefined ? 'PUBSUB_EMULATOR_HOST' : '', want.spanner && spannerHost === undefined ? 'SPANNER_EMULATOR_HOST' : ''].filter((s) => s !== '');
  if (missing.length > 0) throw new Error(`${missing.join(' and ')} not set`);
  const timeoutMs = 5_000; // the user says they run: a short wait is enough to tell
  if (want.pubsub) await waitUntilReady(() => probePubSub(pubsubHost as string, DEFAULT_PROJECT_ID), { what: `Pub/Sub emulator at PUBSUB_EMULATOR_HOST=${pubsubHost}`, timeoutMs });
  if (want.spanner) await waitUntilReady(() => probeSpanner(spannerHost as string, DEFAULT_PROJECT_ID), { what: `Spanner emulator at SPANNER_EMULATOR_HOST=${spannerHost}`, timeoutMs });
  return { pubsubHost: want.pubsub ? pubsubHost : undefined, spannerHost: want.spanner ? spannerHost : undefined };
}

interface Ctx {
  readonly want: Want;
  readonly projectId: string;
  readonly spannerInstance: string;
  readonly background: boolean;
  readonly dir: string;
}

/**
 * Emulators we own die with this process. Their watchdogs (started with them) cover crashes and
 * SIGKILL; the exit hook covers a normal exit at once. SIGINT and SIGTERM need a handler of their
 * own because @google-cloud/spanner 8.x installs listeners for both that do not exit, so without
 * this a Ctrl-C would leave the process (and its emulators) running.
 */
function guardOrphans(processes: readonly StartedProcess[]): () => void {
  const onExit = () => killProcessesNow(processes);
  const onSignal = (signal: NodeJS.Signals) => {
    killProcessesNow(processes);
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  };
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** Background emulators must outlive us: their startup watchdogs go once they are ready. */
function releaseWatchdogs(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone: it exits by itself when its emulator is gone.
    }
  }
}

async function startWith(strategy: StrategyName, ctx: Ctx): Promise<EmulatorHandle> {
  const common = { strategy, projectId: ctx.projectId, spannerInstance: ctx.spannerInstance, reused: false };
  let record: Omit<EmulatorState, 'version' | 'strategy' | 'projectId' | 'spannerInstance' | 'startedAt'>;
  let handle: EmulatorHandle;
  if (strategy === 'external') {
    const hosts = await startExternal(ctx.want);
    record = { ...hosts, processes: [], containerIds: [] };
    handle = handleOf({ ...common, ...hosts, pids: [], startupMs: {}, stop: async () => undefined });
  } else if (strategy === 'local') {
    const s = await startLocal(ctx.want, ctx.projectId, ctx.dir);
    if (ctx.background) releaseWatchdogs(s.watchdogPids);
    const unguard = ctx.background ? () => undefined : guardOrphans(s.processes);
    record = { pubsubHost: s.pubsubHost, spannerHost: s.spannerHost, processes: s.processes, containerIds: [] };
    const stop = async () => {
      unguard();
      await stopProcesses(s.processes);
    };
    handle = handleOf({ ...common, pubsubHost: s.pubsubHost, spannerHost: s.spannerHost, pids: s.processes.map((p) => p.pid), startupMs: s.startupMs, stop });
  } else {
    const s = await startContainers(ctx.want, ctx.projectId, ctx.background);
    record = { pubsubHost: s.pubsubHost, spannerHost: s.spannerHost, processes: [], containerIds: s.containerIds };
    handle = handleOf({ ...common, pubsubHost: s.pubsubHost, spannerHost: s.spannerHost, pids: [], startupMs: s.startupMs, stop: s.stop });
  }
  if (ctx.background) {
    writeState(ctx.dir, { version: 1, strategy, projectId: ctx.projectId, spannerInstance: ctx.spannerInstance, startedAt: new Date().toISOString(), ...record });
    // Background emulators are stopped through the state file (`stopRecorded`), not by this handle.
    return { ...handle, stop: async () => undefined };
  }
  return handle;
}

/** Order `auto` tries: endpoints the user gave, then our installed emulators, then Docker. */
function autoOrder(): StrategyName[] {
  const given = Boolean(process.env.PUBSUB_EMULATOR_HOST) || Boolean(process.env.SPANNER_EMULATOR_HOST);
  return given ? ['external', 'local', 'containers'] : ['local', 'containers', 'external'];
}

/** Reuses running emulators or starts them; see EnsureEmulatorsOptions. */
export async function ensureEmulators(options: EnsureEmulatorsOptions = {}): Promise<EmulatorHandle> {
  const want: Want = { pubsub: options.pubsub ?? true, spanner: options.spanner ?? true };
  if (!want.pubsub && !want.spanner) throw new Error('ensureEmulators: ask for pubsub, spanner or both');
  const log = options.log ?? (() => undefined);
  const ctx: Ctx = {
    want,
    projectId: options.projectId ?? DEFAULT_PROJECT_ID,
    spannerInstance: options.spannerInstance ?? DEFAULT_SPANNER_INSTANCE,
    background: options.background ?? false,
    dir: emulatorDir(options.stateDir),
  };
  const choice = options.strategy ?? 'auto';
  if (!STRATEGIES.includes(choice)) throw new Error(`unknown emulator strategy "${choice}" (one of ${STRATEGIES.join(', ')})`);
  if (options.reuse ?? true) {
    const reused = await reuseFromState(ctx.dir, want, ctx.projectId, ctx.spannerInstance);
    if (reused !== undefined && (choice === 'auto' || choice === reused.strategy)) {
      log(`emulators: reusing running ${reused.strategy} emulators (${[reused.pubsubHost, reused.spannerHost].filter(Boolean).join(', ')})`);
      return reused;
    }
  }
  const order = choice === 'auto' ? autoOrder() : [choice];
  const failures: string[] = [];
  for (const strategy of order) {
    const startedMs = Date.now();
    try {
      const handle = await startWith(strategy, ctx);
      log(`emulators: using ${strategy} (${[handle.pubsubHost, handle.spannerHost].filter(Boolean).join(', ')}) after ${Date.now() - startedMs} ms`);
      return handle;
    } catch (e) {
      const reason = (e as Error).message;
      log(`emulators: ${strategy} did not work: ${reason.split('\n')[0]}`);
      failures.push(`- ${strategy}: ${reason}\n  fix: ${FIXES[strategy]}`);
    }
  }
  throw new EmulatorsUnavailableError(`no emulators available (tried ${order.join(', ')}):\n${failures.join('\n')}`);
}

/**
 * `base`'s emulators with a Spanner emulator of their own, started now from the local install:
 * the Pub/Sub emulator stays the one `base` names, and `stop()` stops only the new Spanner. The
 * Spanner emulator's reads slow with every transaction it has served in its life
 * (docs/capacity-model.md, "The emulator pair's age"), so runs that must be compared (a calibration and the runs it
 * predicts) each take one, and every run meets an emulator of the same age. It starts in tens of
 * milliseconds, so a run pays almost nothing for it.
 */
export async function withOwnSpanner(base: EmulatorHandle, o: { readonly stateDir?: string } = {}): Promise<EmulatorHandle> {
  if (base.spannerHost === undefined) throw new Error('withOwnSpanner: the emulators given run no Spanner emulator, so there is nothing to replace');
  let s;
  try {
    s = await startLocal({ pubsub: false, spanner: true }, base.projectId, emulatorDir(o.stateDir));
  } catch (e) {
    throw new EmulatorsUnavailableError(`a Spanner emulator of the run's own could not start: ${(e as Error).message}\n  fix: ${FIXES.local}`);
  }
  // Its watchdog stays: it dies with this process, crash or not.
  const unguard = guardOrphans(s.processes);
  const stop = async (): Promise<void> => {
    unguard();
    await stopProcesses(s.processes);
  };
  return handleOf({ strategy: 'local', projectId: base.projectId, spannerInstance: base.spannerInstance, pubsubHost: base.pubsubHost, spannerHost: s.spannerHost, pids: [...base.pids, ...s.processes.map((p) => p.pid)], reused: false, startupMs: { spanner: s.startupMs.spanner }, stop });
}

/** True when a Spanner emulator can be started here for a run of its own (withOwnSpanner). */
export function canStartOwnSpanner(): boolean {
  return findLocalInstall().spannerBin !== undefined;
}

/** Stops the background emulators recorded in the state file; returns what was stopped. */
export async function stopRecorded(stateDir?: string): Promise<string[]> {
  const dir = emulatorDir(stateDir);
  const state = readState(dir);
  if (state === undefined) return [];
  const stopped = await stopProcesses(state.processes);
  if (state.containerIds.length > 0) {
    await stopContainers(state.containerIds);
    stopped.push(...state.containerIds.map((id) => `container ${id.slice(0, 12)}`));
  }
  removeState(dir);
  return stopped;
}

export { emulatorDir, readState } from './state.ts';
export { provisionPubSub, provisionSpanner } from './provision.ts';
