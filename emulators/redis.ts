// A real redis-server for the gateway's Redis intake (the seed architecture: the notify stage
// publishes to Redis channels, every gateway instance subscribes), started and stopped by raceday
// like the emulators: a free port on 127.0.0.1, no persistence (no RDB snapshots, no AOF), ready
// when it answers PING, its state and log under RACEDAY_STATE_DIR (`redis/`).
//
// `raceday redis start` leaves one running in the background and records it (state.json), so
// tests and runs reuse it; `ensureRedis` reuses that one or starts its own, owned by the calling
// process (a watchdog stops it if that process dies) and stopped by the handle's `stop()`.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EMULATOR_LIMITS } from './limits.ts';
import { freePort, isOurs, logTail, spawnLogged, startWatchdog, stopProcesses, type StartedProcess } from './processes.ts';
import { waitUntilReady } from './readiness.ts';

export interface RedisHandle {
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** True when this handle reuses a background redis-server (`raceday redis start`); its stop() then leaves it running. */
  readonly reused: boolean;
  stop(): Promise<void>;
}

interface RedisState {
  readonly version: 1;
  readonly port: number;
  readonly process: StartedProcess;
  readonly startedAt: string;
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Directory of the background redis-server's state and log: RACEDAY_STATE_DIR/redis, else `.raceday/redis`. */
export function redisDir(override?: string): string {
  const base = override ?? process.env.RACEDAY_STATE_DIR;
  return base !== undefined && base !== '' ? join(base, 'redis') : join(repoRoot, '.raceday', 'redis');
}

/** The redis-server binary: REDIS_SERVER, else the first `redis-server` on PATH (Debian: /usr/bin). */
export function findRedisServer(): string {
  const explicit = process.env.REDIS_SERVER;
  if (explicit !== undefined && explicit !== '') {
    if (!existsSync(explicit)) throw new Error(`REDIS_SERVER=${explicit}: no such file`);
    return explicit;
  }
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/local/bin'])) {
    const candidate = join(dir, 'redis-server');
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  throw new Error('redis-server not found: install it (Debian: apt-get install redis-server; CI: .ci/install-tools) or set REDIS_SERVER to its path');
}

/** One PING over a raw socket: true when the server answers +PONG. */
export function pingRedis(port: number, timeoutMs: number = EMULATOR_LIMITS.probeTimeoutMs): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.on('error', () => finish(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) finish(answer.startsWith('+PONG'));
    });
  });
}

/** Starts a redis-server on a free port (retrying when the port was taken in between); not recorded anywhere. */
async function spawnRedis(logDir: string): Promise<{ port: number; process: StartedProcess }> {
  const binary = findRedisServer();
  let lastError: unknown;
  for (let attempt = 1; attempt <= EMULATOR_LIMITS.startAttempts; attempt++) {
    const port = await freePort();
    // redis-server rewrites its process title to "redis-server 127.0.0.1:PORT" once it runs, so
    // the marker is the port, which the command line has both before and after.
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--dir', logDir, '--loglevel', 'warning'];
    const started = spawnLogged('redis', binary, args, join(logDir, `redis-${port}.log`), String(port));
    try {
      await waitUntilReady(() => pingRedis(port), { what: `redis-server on 127.0.0.1:${port}`, stillRunning: () => isOurs(started) });
      return { port, process: started };
    } catch (e) {
      lastError = new Error(`${(e as Error).message}\n${logTail(started.logFile)}`);
      await stopProcesses([started]);
    }
  }
  throw lastError as Error;
}

function readRedisState(dir: string): RedisState | undefined {
  const file = join(dir, 'state.json');
  if (!existsSync(file)) return undefined;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<RedisState>;
    return v.version === 1 && typeof v.port === 'number' && typeof v.process === 'object' ? (v as RedisState) : undefined;
  } catch {
    return undefined;
  }
}

function writeRedisState(dir: string, state: RedisState): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'state.json');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}

/** The background redis-server recorded in `dir`, if it still runs and answers PING. */
export async function runningRedis(dir: string = redisDir()): Promise<RedisState | undefined> {
  const state = readRedisState(dir);
  if (state === undefined || !isOurs(state.process)) return undefined;
  return (await pingRedis(state.port)) ? state : undefined;
}

/** `raceday redis start`: starts a background redis-server and records it (or reports the running one). */
export async function startBackgroundRedis(dir: string = redisDir()): Promise<{ port: number; url: string; reused: boolean }> {
  const running = await runningRedis(dir);
  if (running !== undefined) return { port: running.port, url: `redis://127.0.0.1:${running.port}`, reused: true };
  mkdirSync(dir, { recursive: true });
  const { port, process: started } = await spawnRedis(dir);
  writeRedisState(dir, { version: 1, port, process: started, startedAt: new Date().toISOString() });
  return { port, url: `redis://127.0.0.1:${port}`, reused: false };
}

/** `raceday redis stop`: stops the recorded redis-server (only if it is still ours); true when one was stopped. */
export async function stopBackgroundRedis(dir: string = redisDir()): Promise<boolean> {
  const state = readRedisState(dir);
  if (state === undefined) return false;
  const stopped = await stopProcesses([state.process]);
  rmSync(join(dir, 'state.json'), { force: true });
  rmSync(state.process.logFile, { force: true });
  return stopped.length > 0;
}

/**
 * A redis-server to use now: the background one when `raceday redis start` left one running
 * (stop() leaves it), else a new one owned by this process (stop() stops it; a watchdog stops
 * it if this process dies first).
 */
export async function ensureRedis(dir: string = redisDir()): Promise<RedisHandle> {
  const running = await runningRedis(dir);
  if (running !== undefined) return { url: `redis://127.0.0.1:${running.port}`, port: running.port, reused: true, stop: async () => undefined };
  const { port, process: started } = await spawnRedis(dir);
  startWatchdog([started]);
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    reused: false,
    async stop() {
      if (stopped) return;
      stopped = true;
      // The watchdog exits by itself once the group it guards is gone.
      await stopProcesses([started]);
      // A clean stop leaves nothing behind (a failed start keeps its log for the error message).
      rmSync(started.logFile, { force: true });
    },
  };
}
