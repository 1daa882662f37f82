// One `raceday gateway` process for the chaos runs, attached to a provisioned emulator project
// (--intake pubsub with a fixed instance id, a fixed port), started and stopped by signal. The
// token secret travels in the environment, never on the command line; the child's stdin is a pipe
// from this process (RACEDAY_GATEWAY_PARENT_PIPE), so it closes itself should this process die.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { EmulatorHandle } from '../emulators/index.ts';
import { onInterrupt } from './interrupt.ts';

const BIN = fileURLToPath(new URL('../bin/raceday.mjs', import.meta.url));
const START_TIMEOUT_MS = 60_000;
/** After SIGTERM, a gateway that has not exited by then is killed. */
const STOP_GRACE_MS = 15_000;

export interface GatewayProcessOptions {
  readonly emulators: EmulatorHandle;
  readonly projectId: string;
  readonly spannerShards: number;
  readonly port: number;
  readonly secret: string;
  readonly instanceId: string;
  readonly log?: (line: string) => void;
}

export interface GatewayProcess {
  readonly pid: number;
  readonly wsUrl: string;
  /** Time from spawn to the startup line, ms. */
  readonly startMs: number;
  /** SIGKILL: no cleanup runs in it; SIGTERM: it closes its clients, intake and backend first. Resolves once it exited. */
  stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<void>;
}

export async function startGatewayProcess(o: GatewayProcessOptions): Promise<GatewayProcess> {
  const args = [BIN, 'gateway', '--backend', 'emulators', '--strategy', 'external', '--project', o.projectId, '--spanner-shards', String(o.spannerShards), '--intake', 'pubsub', '--instance-id', o.instanceId, '--port', String(o.port)];
  const env = { ...process.env, ...o.emulators.env, RACEDAY_GATEWAY_SECRET: o.secret, RACEDAY_GATEWAY_PARENT_PIPE: '1' };
  const t0 = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  const exited = once(child, 'exit').then(() => undefined);
  createInterface({ input: child.stderr! }).on('line', (l) => o.log?.(`[gateway ${child.pid}] ${l}`));
  const lines = createInterface({ input: child.stdout! });
  const started = await new Promise<{ wsUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`CHAOS.GATEWAY_START: raceday gateway printed no startup line within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    lines.once('line', (l) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(l) as { wsUrl: string });
      } catch {
        reject(new Error(`CHAOS.GATEWAY_START: raceday gateway printed ${JSON.stringify(l.slice(0, 200))}, not its startup JSON`));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`CHAOS.GATEWAY_START: raceday gateway exited with code ${child.exitCode} before it started`));
    });
  }).catch(async (e: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw e;
  });
  let stopping: Promise<void> | undefined;
  const gateway: GatewayProcess = {
    pid: child.pid as number,
    wsUrl: started.wsUrl,
    startMs: Math.round(performance.now() - t0),
    stop(signal) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill(signal);
        const killer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(killer);
      })();
      return stopping;
    },
  };
  // A signal to the parent stops the gateway too (chaos/interrupt.ts), until it exits by itself.
  void exited.then(onInterrupt(() => gateway.stop('SIGTERM')));
  return gateway;
}
