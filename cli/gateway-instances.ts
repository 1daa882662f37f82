// `raceday gateway --instances N` (N > 1): N gateway processes, each this very command with
// `--instances 1`, a port and an intake of its own, so a swarm can spread its clients over them.
// They must share the store (a user's bets, the notification log recovery reads), so the memory
// backend is refused: its store lives inside one process. The parent provisions the emulator
// project once (or takes --project) and starts or reuses redis-server once, hands both to every
// child, and signs nothing itself: the children share one token secret through the environment
// (never on a command line other users can read). Every instance must see every notification
// (a user may be connected to any of them): a Pub/Sub subscription per instance, or Redis
// channels every instance subscribes to; the topology's one `bus` subscription would split the
// messages between them, so it is refused.
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { spawnRaceday } from '../chaos/child.ts';
import { ensureRedis, type RedisHandle } from '../emulators/redis.ts';
import { UsageError, type ParsedFlags } from './args.ts';
import type { GatewayBackend } from './gateway-backend.ts';
import type { IntakeKind } from './gateway-intake.ts';

/** Set in every child's environment: its stdin is a pipe from the parent, closed when the parent dies. */
export const PARENT_PIPE_ENV = 'RACEDAY_GATEWAY_PARENT_PIPE';
/** Flags the parent settles for its children (they get their own values below) or keeps to itself. */
const PARENT_FLAGS = new Set(['instances', 'intake', 'port', 'instance-id', 'demo-users', 'secret', 'project', 'redis-url']);
/** A child that printed no startup line by then (provisioning included) is taken as failed. */
const START_TIMEOUT_MS = 120_000;

export interface InstancesPlan {
  readonly count: number;
  readonly intake: IntakeKind;
}

/** Refuses what N processes cannot do; answers nothing when they can. */
export function checkInstances(count: number, backendName: 'memory' | 'emulators', intake: IntakeKind): void {
  if (count <= 1) return;
  if (backendName === 'memory') throw new UsageError('--instances N>1 needs a store the processes share: --backend emulators (a memory store lives inside one process)');
  if (intake === 'bus') throw new UsageError('--instances N>1 needs an intake every instance sees in full: --intake pubsub (a subscription each) or --intake redis; the shared bus subscription would split notifications between them');
}

interface Started {
  readonly url: string;
  readonly wsUrl: string;
  readonly metricsUrl: string;
  readonly healthUrl: string;
}

interface Child {
  readonly index: number;
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
}

/** The children's command line: every flag of the parent's but the ones it settles itself. */
function childArgv(flags: ParsedFlags, index: number, extra: { intake: IntakeKind; projectId: string; instanceBase: string; redisUrl?: string }): string[] {
  const argv: string[] = [];
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined || PARENT_FLAGS.has(k)) continue;
    if (typeof v === 'boolean') {
      if (v) argv.push(`--${k}`);
    } else argv.push(`--${k}`, String(v));
  }
  argv.push('--instances', '1', '--project', extra.projectId, '--intake', extra.intake);
  argv.push('--port', String(typeof flags['port'] === 'number' && flags['port'] !== 0 ? flags['port'] + index : 0));
  if (extra.intake === 'pubsub') argv.push('--instance-id', `${extra.instanceBase}-${index + 1}`);
  if (extra.redisUrl !== undefined) argv.push('--redis-url', extra.redisUrl);
  return argv;
}

function spawnChild(index: number, argv: readonly string[], secret: string): { child: Child; started: Promise<Started> } {
  // A process group of its own (a terminal's Ctrl-C reaches only the parent, which forwards it
  // once: twice would kill an instance mid-close); every line it logs reaches the parent's stderr,
  // named by instance; its first JSON line with a url is its startup line.
  const c = spawnRaceday({
    args: ['gateway', ...argv],
    env: { ...process.env, RACEDAY_GATEWAY_SECRET: secret, [PARENT_PIPE_ENV]: '1' },
    label: `gateway ${index + 1}`,
    readyTimeoutMs: START_TIMEOUT_MS,
    isReady: (l) => typeof l['url'] === 'string',
    log: (l) => void process.stderr.write(`${l}\n`),
  });
  return { child: { index, proc: c.proc, exited: c.exited.then((e) => e.code) }, started: c.ready as unknown as Promise<Started> };
}

function untilSignalOrDeath(children: readonly Child[]): Promise<{ signal: NodeJS.Signals } | { died: Child; code: number | null }> {
  return new Promise((resolve) => {
    const off = (): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    };
    const on = (s: NodeJS.Signals): void => {
      off();
      resolve({ signal: s });
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
    for (const c of children) {
      void c.exited.then((code) => {
        off();
        resolve({ died: c, code });
      });
    }
  });
}

export interface RunInstancesOptions {
  readonly count: number;
  readonly flags: ParsedFlags;
  readonly intake: IntakeKind;
  readonly backend: GatewayBackend;
  readonly secret: string;
  readonly generatedSecret: boolean;
  readonly policy: string;
  readonly demo?: { users: number; raceId: string };
  readonly log: (line: string) => void;
}

/** Runs the N children until a signal (forwarded to all) or one child's death (the rest stopped); answers the exit code. */
export async function runInstances(o: RunInstancesOptions): Promise<number> {
  const projectId = o.backend.where['projectId'];
  if (typeof projectId !== 'string') throw new Error('the emulator backend named no project');
  let redis: RedisHandle | undefined;
  if (o.intake === 'redis' && typeof o.flags['redis-url'] !== 'string') {
    redis = await ensureRedis();
    o.log(`raceday gateway: redis-server ${redis.reused ? 'reused' : 'started'} at ${redis.url}`);
  }
  const redisUrl = typeof o.flags['redis-url'] === 'string' ? o.flags['redis-url'] : redis?.url;
  const instanceBase = typeof o.flags['instance-id'] === 'string' ? o.flags['instance-id'] : randomUUID().slice(0, 8);
  const children: Child[] = [];
  try {
    const starts: Promise<Started>[] = [];
    for (let i = 0; i < o.count; i++) {
      const { child, started } = spawnChild(i, childArgv(o.flags, i, { intake: o.intake, projectId, instanceBase, ...(redisUrl === undefined ? {} : { redisUrl }) }), o.secret);
      children.push(child);
      starts.push(started);
    }
    const instances = await Promise.all(starts);
    process.stdout.write(`${JSON.stringify({
      instances: instances.map((s, i) => ({ instance: i + 1, pid: children[i]?.proc.pid, url: s.url, wsUrl: s.wsUrl, metricsUrl: s.metricsUrl, healthUrl: s.healthUrl })),
      urls: instances.map((s) => s.url),
      wsUrls: instances.map((s) => s.wsUrl),
      policy: o.policy,
      intake: o.intake,
      backend: o.backend.where,
      ...(o.generatedSecret ? { secret: o.secret } : {}),
      ...(o.demo === undefined ? {} : { demo: o.demo }),
    })}\n`);
    const why = await untilSignalOrDeath(children);
    if ('signal' in why) {
      o.log(`raceday gateway: ${why.signal}, closing ${o.count} instances`);
      await stopAll(children, why.signal);
      return 0;
    }
    o.log(`raceday gateway: instance ${why.died.index + 1} (pid ${why.died.proc.pid}) exited with code ${why.code}; stopping the other instances`);
    await stopAll(children, 'SIGTERM');
    return 1;
  } finally {
    await stopAll(children, 'SIGTERM');
    await redis?.stop();
  }
}

/** Sends the signal to every child still running and waits for all of them (SIGKILL after 20 s). */
async function stopAll(children: readonly Child[], signal: NodeJS.Signals): Promise<void> {
  const running = children.filter((c) => c.proc.exitCode === null && c.proc.signalCode === null);
  for (const c of running) c.proc.kill(signal);
  const killer = setTimeout(() => {
    for (const c of running) if (c.proc.exitCode === null) c.proc.kill('SIGKILL');
  }, 20_000);
  await Promise.all(running.map((c) => c.exited));
  clearTimeout(killer);
}
