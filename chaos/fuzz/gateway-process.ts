// `raceday gateway` as a child process for the GraphQL abuse fuzzer: started with small limits so
// every limit is reached in seconds, asked after each abuse class whether it is still alive and
// answering /healthz, and stopped with SIGTERM (SIGKILL after a grace period).
import { spawnRaceday, stopChild } from '../child.ts';

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
    'gateway',
    ...(o.redisUrl === undefined ? [] : ['--intake', 'redis', '--redis-url', o.redisUrl]), '--backend', o.backend, '--secret', o.secret, '--demo-users', String(FUZZ_DEMO_USERS),
    '--max-connections', String(L.maxConnections), '--max-frame-bytes', String(L.maxFrameBytes), '--max-body-bytes', String(L.maxBodyBytes),
    '--max-depth', String(L.maxDepth), '--max-cost', String(L.maxCost), '--init-timeout-ms', String(L.connectionInitTimeoutMs),
    '--max-subscriptions', String(L.maxSubscriptionsPerConnection), '--headers-timeout-ms', String(L.headersTimeoutMs),
  ];
  let stderr = '';
  const child = spawnRaceday({
    args,
    // Its stdin is a pipe from this process: should the fuzzer die, the gateway closes too.
    env: { ...process.env, RACEDAY_GATEWAY_PARENT_PIPE: '1' },
    label: 'fuzz gateway',
    isReady: (line) => typeof line['wsUrl'] === 'string',
    readyTimeoutMs: START_MS_MAX,
    // The child's stderr (and any stray stdout) is kept as a tail for a crash report, not printed.
    log: (line) => {
      stderr = `${stderr}${line}\n`.slice(-4_000);
    },
  });
  let exited: string | undefined;
  void child.exited.then((e) => {
    exited = e.signal === null ? `exit code ${e.code}` : `signal ${e.signal}`;
  });
  const info = (await child.ready.catch((e: unknown) => {
    throw new Error(`${(e as Error).message}: ${stderr.slice(-500)}`);
  })) as unknown as { url: string; wsUrl: string; healthUrl: string; demo: { raceId: string } };
  o.log?.(`fuzz graphql: raceday gateway (pid ${child.pid}) on ${info.url}`);
  return {
    url: info.url,
    wsUrl: info.wsUrl,
    healthUrl: info.healthUrl,
    raceId: info.demo.raceId,
    secret: o.secret,
    pid: child.pid,
    alive: () => exited === undefined && child.running(),
    exit: () => exited,
    stderrTail: () => stderr.slice(-1_000),
    async stop() {
      await stopChild(child, 'SIGTERM', STOP_GRACE_MS);
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
