// `raceday gateway` as a child process for the GraphQL abuse fuzzer: started with small limits so
// every limit is reached in seconds, asked after each abuse class whether it is still alive and
// answering /healthz, and stopped with SIGTERM (SIGKILL after a grace period).
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RACEDAY_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'raceday.mjs');
const START_MS_MAX = 120_000;
const STOP_GRACE_MS = 5_000;

/** The limits the child runs with: small, so the abuse reaches each of them quickly. */
export const FUZZ_GATEWAY_LIMITS = {
  maxConnections: 48,
  maxFrameBytes: 16 * 1024,
  maxBodyBytes: 16 * 1024,
  maxDepth: 6,
  maxCost: 2_000,
  connectionInitTimeoutMs: 600,
  maxSubscriptionsPerConnection: 8,
  headersTimeoutMs: 1_500,
} as const;

export const FUZZ_DEMO_USERS = 20;

export interface GatewayProcess {
  readonly url: string;
  readonly wsUrl: string;
  readonly healthUrl: string;
  readonly raceId: string;
  readonly secret: string;
  readonly pid: number;
  /** Publishes a notification into the gateway's intake (set when it takes notifications from a Redis of the fuzzer's). */
  notify?: (userId: string) => Promise<string>;
  /** The process has not exited. */
  alive(): boolean;
  /** How it exited, if it did (code or signal). */
  exit(): string | undefined;
  /** Last lines of its stderr, for a crash report. */
  stderrTail(): string;
  stop(): Promise<void>;
}

export async function startGatewayProcess(o: { backend: 'memory' | 'emulators'; secret: string; redisUrl?: string; log?: (line: string) => void }): Promise<GatewayProcess> {
  const L = FUZZ_GATEWAY_LIMITS;
  const args = [
    RACEDAY_BIN, 'gateway',
    ...(o.redisUrl === undefined ? [] : ['--intake', 'redis', '--redis-url', o.redisUrl]), '--backend', o.backend, '--secret', o.secret, '--demo-users', String(FUZZ_DEMO_USERS),
    '--max-connections', String(L.maxConnections), '--max-frame-bytes', String(L.maxFrameBytes), '--max-body-bytes', String(L.maxBodyBytes),
    '--max-depth', String(L.maxDepth), '--max-cost', String(L.maxCost), '--init-timeout-ms', String(L.connectionInitTimeoutMs),
    '--max-subscriptions', String(L.maxSubscriptionsPerConnection), '--headers-timeout-ms', String(L.headersTimeoutMs),
  ];
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  let exited: string | undefined;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4_000);
  });
  const exitedPromise = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      exited = signal === null ? `exit code ${code}` : `signal ${signal}`;
      resolve();
    }),
  );
  const info = await new Promise<{ url: string; wsUrl: string; healthUrl: string; demo: { raceId: string } }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`raceday gateway did not print its URLs within ${START_MS_MAX} ms`)), START_MS_MAX);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl === -1) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.slice(0, nl)));
      } catch (e) {
        reject(new Error(`raceday gateway printed ${out.slice(0, 200)} (${(e as Error).message})`));
      }
    });
    void exitedPromise.then(() => {
      clearTimeout(timer);
      reject(new Error(`raceday gateway exited (${exited}) before it was ready: ${stderr.slice(-500)}`));
    });
  });
  o.log?.(`fuzz graphql: raceday gateway (pid ${child.pid}) on ${info.url}`);
  return {
    url: info.url,
    wsUrl: info.wsUrl,
    healthUrl: info.healthUrl,
    raceId: info.demo.raceId,
    secret: o.secret,
    pid: child.pid as number,
    alive: () => exited === undefined,
    exit: () => exited,
    stderrTail: () => stderr.slice(-1_000),
    async stop() {
      if (exited !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}

/** The process is alive and /healthz answers 200 within `timeoutMs`; else why not. */
export async function healthy(g: GatewayProcess, timeoutMs = 5_000): Promise<string | undefined> {
  if (!g.alive()) return `the gateway process exited (${g.exit()}): ${g.stderrTail()}`;
  try {
    const res = await fetch(g.healthUrl, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200) return `/healthz answered ${res.status}`;
    await res.text();
    return undefined;
  } catch (e) {
    return `/healthz did not answer within ${timeoutMs} ms: ${(e as Error).message}`;
  }
}
