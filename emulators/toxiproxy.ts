// Toxiproxy (v2.5.0, built by .ci/install-tools) for the chaos runs: a TCP proxy put between the
// worker processes and each emulator, and between clients and the gateway, whose "toxics" inject
// latency, bandwidth limits, stalls, resets and half-open connections on real sockets.
//
// startToxiproxy() starts a private server on 127.0.0.1 at a free port (its own process group, a
// watchdog kills it if this process dies), waits until its HTTP API answers, and drives it with
// plain fetch. stop() stops it; nothing outlives a test.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EMULATOR_LIMITS } from './limits.ts';
import { freePort, isOurs, logTail, spawnLogged, startWatchdog, stopProcesses, type StartedProcess } from './processes.ts';
import { waitUntilReady } from './readiness.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The toxic types of Toxiproxy v2.5.0 (`slicer` included for completeness). */
export const TOXIC_TYPES = ['latency', 'bandwidth', 'timeout', 'reset_peer', 'slow_close', 'limit_data', 'slicer'] as const;
export type ToxicType = (typeof TOXIC_TYPES)[number];
/** upstream: bytes from the client to the server; downstream: bytes from the server to the client. */
export type ToxicStream = 'upstream' | 'downstream';

/**
 * One toxic. Attributes per type (Toxiproxy's units): latency {latency ms, jitter ms}, bandwidth
 * {rate KB/s}, timeout {timeout ms; 0 = never close, drop every byte}, reset_peer {timeout ms, then
 * close with RST}, slow_close {delay ms before the close goes through}, limit_data {bytes, then
 * close}, slicer {average_size, size_variation, delay µs}.
 */
export interface ToxicSpec {
  readonly type: ToxicType;
  /** Unique per proxy; default `<type>_<stream>` (Toxiproxy's own default). */
  readonly name?: string;
  readonly stream?: ToxicStream;
  /** Probability in [0, 1] that a new connection gets this toxic (default 1). */
  readonly toxicity?: number;
  readonly attributes: Readonly<Record<string, number>>;
}

export interface ToxicInfo {
  readonly name: string;
  readonly type: ToxicType;
  readonly stream: ToxicStream;
  readonly toxicity: number;
  readonly attributes: Readonly<Record<string, number>>;
}

export interface ProxyInfo {
  readonly name: string;
  /** `127.0.0.1:PORT` where clients connect. */
  readonly listen: string;
  /** `host:port` it forwards to. */
  readonly upstream: string;
  readonly enabled: boolean;
  readonly toxics: readonly ToxicInfo[];
}

export interface Toxiproxy {
  /** `http://127.0.0.1:PORT` of the HTTP API. */
  readonly apiUrl: string;
  readonly pid: number;
  /** A proxy listening on a free port of 127.0.0.1 (or `listen`), forwarding to `upstream`. */
  createProxy(name: string, upstream: string, options?: { readonly listen?: string }): Promise<ProxyInfo>;
  deleteProxy(name: string): Promise<void>;
  proxy(name: string): Promise<ProxyInfo>;
  proxies(): Promise<readonly ProxyInfo[]>;
  addToxic(proxyName: string, toxic: ToxicSpec): Promise<ToxicInfo>;
  removeToxic(proxyName: string, toxicName: string): Promise<void>;
  /** Disabled: the listener closes and every open connection through it is closed. */
  setEnabled(proxyName: string, on: boolean): Promise<void>;
  /** Enables every proxy and removes every toxic. */
  reset(): Promise<void>;
  /**
   * When the proxy accepted each client connection (epoch ms, whole seconds: the server log's
   * resolution): a client that opened a new connection noticed that its old one was broken.
   */
  acceptedConnections(proxyName: string): number[];
  stop(): Promise<void>;
}

export interface StartToxiproxyOptions {
  /** The server binary; default RACEDAY_TOXIPROXY_BIN, else `<repo>/.tools/toxiproxy/server`. */
  readonly binary?: string;
  /** Seed of Toxiproxy's own randomness (toxicity, jitter), so a chaos run repeats. */
  readonly seed?: number;
  /** Directory of the server log (default the OS temp directory). */
  readonly logDir?: string;
}

export class ToxiproxyError extends Error {
  override readonly name = 'ToxiproxyError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

/** The Toxiproxy server binary: RACEDAY_TOXIPROXY_BIN, else `<repo>/.tools/toxiproxy/server`. */
export function findToxiproxy(explicit: string | undefined = process.env.RACEDAY_TOXIPROXY_BIN): string {
  if (explicit !== undefined && explicit !== '') {
    if (!existsSync(explicit)) throw new ToxiproxyError('TOXIPROXY.NOT_INSTALLED', `RACEDAY_TOXIPROXY_BIN=${explicit}: no such file; run .ci/install-tools or fix the variable`);
    return explicit;
  }
  const built = join(repoRoot, '.tools', 'toxiproxy', 'server');
  if (existsSync(built)) return built;
  throw new ToxiproxyError('TOXIPROXY.NOT_INSTALLED', `no Toxiproxy server at ${built}: run .ci/install-tools (or set RACEDAY_TOXIPROXY_BIN to the binary)`);
}

async function apiAnswers(apiUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${apiUrl}/version`, { signal: AbortSignal.timeout(EMULATOR_LIMITS.probeTimeoutMs) });
    await res.text();
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts a private Toxiproxy server on 127.0.0.1 and returns its control. */
export async function startToxiproxy(options: StartToxiproxyOptions = {}): Promise<Toxiproxy> {
  const binary = options.binary !== undefined ? findToxiproxy(options.binary) : findToxiproxy();
  const logDir = options.logDir ?? join(tmpdir(), 'raceday-toxiproxy');
  let lastError: unknown;
  for (let attempt = 1; attempt <= EMULATOR_LIMITS.startAttempts; attempt++) {
    const port = await freePort();
    const args = ['-host', '127.0.0.1', '-port', String(port), ...(options.seed === undefined ? [] : ['-seed', String(options.seed)])];
    // The port is on the command line, so /proc/<pid>/cmdline proves the pid is still this server.
    const started = spawnLogged('toxiproxy', binary, args, join(logDir, `toxiproxy-${port}-${process.pid}.log`), `-port ${port}`);
    const apiUrl = `http://127.0.0.1:${port}`;
    try {
      await waitUntilReady(() => apiAnswers(apiUrl), { what: `Toxiproxy on 127.0.0.1:${port}`, timeoutMs: 15_000, stillRunning: () => isOurs(started) });
      startWatchdog([started]);
      return control(apiUrl, started);
    } catch (e) {
      lastError = new ToxiproxyError('TOXIPROXY.START_FAILED', `${(e as Error).message}\n${logTail(started.logFile)}`);
      await stopProcesses([started]);
    }
  }
  throw lastError as Error;
}

interface RawProxy {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics?: ToxicInfo[];
}

const proxyOf = (p: RawProxy): ProxyInfo => ({ name: p.name, listen: p.listen, upstream: p.upstream, enabled: p.enabled, toxics: p.toxics ?? [] });

/** "Accepted client" lines of the server's JSON log for one proxy. */
function acceptedFromLog(logFile: string, proxyName: string): number[] {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('"Accepted client"')) continue;
    try {
      const v = JSON.parse(line) as { name?: string; proxy?: string; time?: string };
      if ((v.name ?? v.proxy) === proxyName && v.time !== undefined) out.push(Date.parse(v.time));
    } catch {
      // A line cut short by a concurrent write: the next read sees it whole.
    }
  }
  return out;
}

function control(apiUrl: string, started: StartedProcess): Toxiproxy {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) {
      const code = res.status === 404 ? 'TOXIPROXY.NOT_FOUND' : res.status === 409 ? 'TOXIPROXY.EXISTS' : 'TOXIPROXY.API';
      throw new ToxiproxyError(code, `${method} ${path} -> ${res.status} ${text.trim()}`);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
  const enc = encodeURIComponent;
  let stopped = false;
  return {
    apiUrl,
    pid: started.pid,
    async createProxy(name, upstream, options = {}) {
      // An explicit free port rather than ":0": a disabled proxy re-listens on its configured
      // address when enabled again, and clients must find it where they left it.
      const listen = options.listen ?? `127.0.0.1:${await freePort()}`;
      return proxyOf(await call<RawProxy>('POST', '/proxies', { name, listen, upstream, enabled: true }));
    },
    async deleteProxy(name) {
      await call('DELETE', `/proxies/${enc(name)}`);
    },
    async proxy(name) {
      return proxyOf(await call<RawProxy>('GET', `/proxies/${enc(name)}`));
    },
    async proxies() {
      return Object.values(await call<Record<string, RawProxy>>('GET', '/proxies')).map(proxyOf);
    },
    async addToxic(proxyName, toxic) {
      const stream = toxic.stream ?? 'downstream';
      const body = { name: toxic.name ?? `${toxic.type}_${stream}`, type: toxic.type, stream, toxicity: toxic.toxicity ?? 1, attributes: toxic.attributes };
      return call<ToxicInfo>('POST', `/proxies/${enc(proxyName)}/toxics`, body);
    },
    async removeToxic(proxyName, toxicName) {
      await call('DELETE', `/proxies/${enc(proxyName)}/toxics/${enc(toxicName)}`);
    },
    async setEnabled(proxyName, on) {
      await call('POST', `/proxies/${enc(proxyName)}`, { enabled: on });
    },
    async reset() {
      await call('POST', '/reset');
    },
    acceptedConnections(proxyName) {
      return acceptedFromLog(started.logFile, proxyName);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopProcesses([started]);
      rmSync(started.logFile, { force: true });
    },
  };
}
