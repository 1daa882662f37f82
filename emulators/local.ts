// The `local` strategy: find the installed official emulators (gcloud's SDK root or env overrides)
// and run them as child processes on free ports of 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { EMULATOR_LIMITS } from './limits.ts';
import { freePort, isAlive, logTail, spawnLogged, startWatchdog, stopProcesses, type StartedProcess } from './processes.ts';
import { probePubSub, probeSpanner, waitUntilReady } from './readiness.ts';

export interface LocalInstall {
  readonly pubsubJar?: string;
  readonly spannerBin?: string;
  /** Where we looked, for the error message when something is missing. */
  readonly searched: readonly string[];
}

/**
 * The SDK root from the gcloud on PATH without running it: gcloud lives in `<root>/bin/gcloud`
 * (symlinked from /usr/bin on Debian). `gcloud info` takes seconds on a busy machine, so it is the
 * fallback for layouts where this guess finds no emulators.
 */
function sdkRootBesideGcloud(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'gcloud');
    if (dir === '' || !existsSync(candidate)) continue;
    try {
      return dirname(dirname(realpathSync(candidate)));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function hasEmulators(root: string): boolean {
  return existsSync(join(root, 'platform', 'pubsub-emulator')) || existsSync(join(root, 'bin', 'cloud_spanner_emulator'));
}

function gcloudSdkRoot(): string | undefined {
  const beside = sdkRootBesideGcloud();
  if (beside !== undefined && hasEmulators(beside)) return beside;
  try {
    const out = execFileSync('gcloud', ['info', '--format=value(installation.sdk_root)'], {
      encoding: 'utf8',
      timeout: 30_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const root = out.trim();
    return root === '' ? undefined : root;
  } catch {
    return undefined;
  }
}

function findPubSubJar(sdkRoot: string): string | undefined {
  const dir = join(sdkRoot, 'platform', 'pubsub-emulator', 'lib');
  if (!existsSync(dir)) return undefined;
  const jar = readdirSync(dir)
    .filter((f) => /^cloud-pubsub-emulator-.*-all\.jar$/.test(f))
    .sort()
    .at(-1);
  return jar === undefined ? undefined : join(dir, jar);
}

const installCache = new Map<string, LocalInstall>();

/** Locates the emulators (once per setting of the overrides): env overrides first, then gcloud's install root. */
export function findLocalInstall(): LocalInstall {
  const key = JSON.stringify([process.env.RACEDAY_PUBSUB_EMULATOR_JAR, process.env.RACEDAY_SPANNER_EMULATOR_BIN, process.env.RACEDAY_GCLOUD_SDK_ROOT]);
  const cached = installCache.get(key);
  if (cached !== undefined) return cached;
  const searched: string[] = [];
  let pubsubJar = process.env.RACEDAY_PUBSUB_EMULATOR_JAR || undefined;
  let spannerBin = process.env.RACEDAY_SPANNER_EMULATOR_BIN || undefined;
  if (pubsubJar !== undefined) searched.push(`RACEDAY_PUBSUB_EMULATOR_JAR=${pubsubJar}`);
  if (spannerBin !== undefined) searched.push(`RACEDAY_SPANNER_EMULATOR_BIN=${spannerBin}`);
  if (pubsubJar === undefined || spannerBin === undefined) {
    const fromEnv = process.env.RACEDAY_GCLOUD_SDK_ROOT || undefined;
    const sdkRoot = fromEnv ?? gcloudSdkRoot();
    searched.push(fromEnv !== undefined ? `RACEDAY_GCLOUD_SDK_ROOT=${fromEnv}` : `gcloud SDK root → ${sdkRoot ?? '(gcloud not found on PATH)'}`);
    if (sdkRoot !== undefined) {
      pubsubJar ??= findPubSubJar(sdkRoot);
      const bin = join(sdkRoot, 'bin', 'cloud_spanner_emulator', 'emulator_main');
      if (spannerBin === undefined && existsSync(bin)) spannerBin = bin;
    }
  }
  if (pubsubJar !== undefined && !existsSync(pubsubJar)) pubsubJar = undefined;
  if (spannerBin !== undefined && !existsSync(spannerBin)) spannerBin = undefined;
  const install: LocalInstall = { pubsubJar, spannerBin, searched };
  installCache.set(key, install);
  return install;
}

export interface LocalStarted {
  readonly pubsubHost?: string;
  readonly spannerHost?: string;
  readonly processes: readonly StartedProcess[];
  /** One watchdog per process, started with it: a parent crashing mid-startup leaves no orphan either. */
  readonly watchdogPids: readonly number[];
  readonly startupMs: { pubsub?: number; spanner?: number };
}

interface OneEmulator {
  readonly name: 'pubsub' | 'spanner';
  readonly command: string;
  readonly args: (port: number) => string[];
  readonly marker: string;
  readonly probe: (hostPort: string) => Promise<boolean>;
}

/** Starts one emulator, retrying on another port when the first one was taken in between. */
interface OneStarted {
  readonly host: string;
  readonly process: StartedProcess;
  readonly watchdogPid: number;
  readonly readyMs: number;
}

async function startOne(e: OneEmulator, logDir: string): Promise<OneStarted> {
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= EMULATOR_LIMITS.startAttempts; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const logFile = join(logDir, `${e.name}-${port}.log`);
    const started = Date.now();
    const proc = spawnLogged(e.name, e.command, e.args(port), logFile, e.marker);
    const watchdogPid = startWatchdog([proc]);
    try {
      await waitUntilReady(() => e.probe(host), { what: `${e.name} emulator on ${host}`, stillRunning: () => isAlive(proc.pid) });
      return { host, process: proc, watchdogPid, readyMs: Date.now() - started };
    } catch (err) {
      await stopProcesses([proc]);
      lastError = new Error(`${(err as Error).message}; log ${logFile}:\n${logTail(logFile)}`);
      if (!/address already in use|bind|failed to bind/i.test(logTail(logFile, 50))) break;
    }
  }
  throw lastError ?? new Error(`${e.name} emulator did not start`);
}

/** Starts the requested emulators in parallel; on any failure stops what did start, then throws. */
export async function startLocal(want: { pubsub: boolean; spanner: boolean }, projectId: string, logDir: string): Promise<LocalStarted> {
  const install = findLocalInstall();
  const missing: string[] = [];
  if (want.pubsub && install.pubsubJar === undefined) missing.push('Pub/Sub emulator jar (platform/pubsub-emulator/lib/cloud-pubsub-emulator-*-all.jar)');
  if (want.spanner && install.spannerBin === undefined) missing.push('Spanner emulator (bin/cloud_spanner_emulator/emulator_main)');
  if (missing.length > 0) throw new Error(`not found: ${missing.join(', ')}; searched ${install.searched.join('; ')}`);
  const jobs: Promise<OneStarted>[] = [];
  if (want.pubsub) {
    const jar = install.pubsubJar as string;
    jobs.push(startOne({ name: 'pubsub', command: 'java', args: (p) => ['-jar', jar, '--host=127.0.0.1', `--port=${p}`], marker: jar, probe: (h) => probePubSub(h, projectId) }, logDir));
  }
  if (want.spanner) {
    const bin = install.spannerBin as string;
    jobs.push(startOne({ name: 'spanner', command: bin, args: (p) => [`--host_port=127.0.0.1:${p}`], marker: bin, probe: (h) => probeSpanner(h, projectId) }, logDir));
  }
  const settled = await Promise.allSettled(jobs);
  const ok = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.flatMap((s) => (s.status === 'rejected' ? [(s.reason as Error).message] : []));
  if (failed.length > 0) {
    await stopProcesses(ok.map((o) => o.process));
    throw new Error(failed.join('\n'));
  }
  const byName = (n: string) => ok.find((o) => o.process.name === n);
  return {
    pubsubHost: byName('pubsub')?.host,
    spannerHost: byName('spanner')?.host,
    processes: ok.map((o) => o.process),
    watchdogPids: ok.map((o) => o.watchdogPid),
    startupMs: { pubsub: byName('pubsub')?.readyMs, spanner: byName('spanner')?.readyMs },
  };
}
