// One `raceday gateway` process for the chaos runs, attached to a provisioned emulator project
// (--intake pubsub with a fixed instance id, a fixed port), started and stopped by signal. The
// token secret travels in the environment, never on the command line; the child's stdin is a pipe
// from this process (RACEDAY_GATEWAY_PARENT_PIPE), so it closes itself should this process die.
import type { EmulatorHandle } from '../emulators/index.ts';
import { spawnRaceday, stopChild } from './child.ts';

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
  const args = ['gateway', '--backend', 'emulators', '--strategy', 'external', '--project', o.projectId, '--spanner-shards', String(o.spannerShards), '--intake', 'pubsub', '--instance-id', o.instanceId, '--port', String(o.port)];
  const env = { ...process.env, ...o.emulators.env, RACEDAY_GATEWAY_SECRET: o.secret, RACEDAY_GATEWAY_PARENT_PIPE: '1' };
  const t0 = performance.now();
  const child = spawnRaceday({ args, env, label: 'gateway', isReady: (line) => typeof line['wsUrl'] === 'string', readyTimeoutMs: START_TIMEOUT_MS, log: (l) => o.log?.(l) });
  const started = await child.ready.catch(async (e: unknown) => {
    await stopChild(child, 'SIGKILL', 0);
    throw new Error(`CHAOS.GATEWAY_START: ${(e as Error).message}`);
  });
  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid,
    wsUrl: started['wsUrl'] as string,
    startMs: Math.round(performance.now() - t0),
    stop(signal) {
      stopping ??= stopChild(child, signal, STOP_GRACE_MS).then(() => undefined);
      return stopping;
    },
  };
}
