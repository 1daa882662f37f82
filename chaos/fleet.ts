// A fleet: the pipeline's stages as OS processes (`raceday worker --role R`, and `raceday gateway`
// on the emulators with a Pub/Sub intake of its own), a given count per role, on one provisioned
// emulator project. Faults act on real processes: kill() SIGKILLs a member and starts its
// replacement, rollingRestart() restarts a role one member at a time (SIGTERM, wait for the exit,
// start, wait until ready), and a member that dies on its own is restarted and counted as a crash
// (a finding). Each member keeps its id (`settle-2`) across restarts, with a new pid.
//
// The workers' status lines are kept per member, and those of the processes a member had before
// (retired) too, so a run can sum what the whole fleet did and tell when it went quiet.
import type { HeapAfterGc } from './heap-after-gc.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { WORKER_PARENT_PIPE_ENV, WORKER_DEFAULTS } from './worker.ts';
import { interrupted } from './interrupt.ts';
import { spawnRaceday, stopChild, type ChildExit, type RacedayChild } from './child.ts';
import type { ProbePoint } from '../pipeline/probe.ts';
import { WORKER_ROLES, type Fleet, type FleetMember, type FleetRole } from './contracts.ts';

/** Role order of a fleet's start and of members(): upstream first. */
export const FLEET_ROLES: readonly FleetRole[] = [...WORKER_ROLES, 'gateway'];

/** The gateway's own parent-pipe variable (cli/gateway-instances.ts sets the same for its instances). */
const GATEWAY_PARENT_PIPE_ENV = 'RACEDAY_GATEWAY_PARENT_PIPE';

export const FLEET_DEFAULTS = {
  /** Starting a member loads the TypeScript sources and the Google clients: seconds on a busy machine. */
  readyTimeoutMs: 120_000,
  /** stop() and rolling restarts: SIGKILL a member still running after this long. */
  stopGraceMs: 30_000,
  /** A crashed member is started again after this pause (a crash loop must not spin). */
  crashRestartDelayMs: 500,
} as const;

export interface FleetOptions {
  readonly projectId: string;
  readonly spannerShards: number;
  readonly counts: Partial<Record<FleetRole, number>>;
  /**
   * Environment of every member on top of this process's: PUBSUB_EMULATOR_HOST and
   * SPANNER_EMULATOR_HOST point the members at the emulators (or at proxies in front of them).
   */
  readonly env?: Readonly<Record<string, string>>;
  /** Per role, on top of `env` (a role behind a proxy of its own). */
  readonly envOf?: (role: FleetRole) => Readonly<Record<string, string>> | undefined;
  readonly log?: (line: string) => void;
  /** Subscribers per worker process (`--workers`), default 1. */
  readonly workers?: number;
  /** Handler slots per subscriber (`--max-in-flight`); fan-out keeps 1 unless set per role in `args`. */
  readonly maxInFlight?: number;
  /** `--ack-deadline-ms` of every worker: how soon a killed member's messages come back. */
  readonly ackDeadlineMs?: number;
  /** More arguments per role (`--fanout user-batch:50`, `--policy ...`). */
  readonly args?: Partial<Record<FleetRole, readonly string[]>>;
  /** The gateway members' token secret (default: random; see Fleet.gatewaySecret). */
  readonly gatewaySecret?: string;
  readonly readyTimeoutMs?: number;
  readonly stopGraceMs?: number;
}

/** A worker's status line (chaos/worker.ts statusOf); only what the fleet sums is typed. */
export interface WorkerStatus {
  readonly role: string;
  readonly delivered: number;
  readonly acked: number;
  readonly inFlight: number;
  readonly waiting: number;
  readonly counters: Readonly<Record<string, number>>;
  readonly errors: readonly string[];
  readonly heapAfterGc?: HeapAfterGc;
}

export interface FleetFigures {
  readonly members: number;
  /** SIGKILLs sent by kill(). */
  readonly kills: number;
  /** Members that died on their own (restarted): findings. */
  readonly crashes: number;
  readonly crashLog: readonly { readonly id: string; readonly pid: number; readonly code: number | null; readonly signal: string | null; readonly atMs: number }[];
  /** Graceful restarts (rolling and single). */
  readonly gracefulRestarts: number;
  /** Graceful stops whose worker reported it had to close with handlers still running. */
  readonly undrainedStops: number;
}

export interface FleetActivity {
  /** Deliveries handed to handlers, over every process the fleet ran. */
  readonly delivered: number;
  /** The same, per role. */
  readonly deliveredByRole: Readonly<Partial<Record<FleetRole, number>>>;
  /** Handlers running and deliveries waiting, over the live members' last status lines. */
  readonly busy: number;
  /** The pipeline counters summed over every process the fleet ran. */
  readonly counters: Readonly<Record<string, number>>;
  /** Handler errors (bugs) reported by any member, first few. */
  readonly errors: readonly string[];
}

export interface ProcessFleet extends Fleet {
  /**
   * Arms a death at a pipeline point (chaos/worker.ts DeathArm): the member SIGKILLs itself the
   * `hits`-th time one of its handlers passes `point`, and is started again `restartAfterMs` later.
   * Counted as a kill. Resolves true once the replacement is ready, false if the fleet stopped first
   * or the member was restarted otherwise (the arm dies with its process).
   */
  killAt(id: string, point: ProbePoint, options?: { readonly hits?: number; readonly restartAfterMs?: number }): Promise<boolean>;
  /** Stops one member gracefully (SIGTERM, wait for the exit) and starts it again; resolves once ready. */
  restart(id: string): Promise<void>;
  /** The ready line of a member's current process (ingest: `url`; gateway: `url`, `wsUrl`, ...). */
  readyLine(id: string): Readonly<Record<string, unknown>> | undefined;
  /** POST /results of a ready ingest member (the first one ready). */
  ingestUrl(): string | undefined;
  /** The gateway members' token secret (RACEDAY_GATEWAY_SECRET in their environment). */
  readonly gatewaySecret: string;
  activity(): FleetActivity;
  figures(): FleetFigures;
}

interface Slot {
  readonly role: FleetRole;
  readonly id: string;
  child: RacedayChild | undefined;
  pid: number;
  startedAtMs: number;
  restarts: number;
  /** Set while the fleet itself stops or kills this member: its exit is no crash. */
  expectingExit: boolean;
  readyLine: Record<string, unknown> | undefined;
  status: WorkerStatus | undefined;
  /** An armed death of the current process (killAt): its exit is a kill, restarted after the delay. */
  armed: { readonly child: RacedayChild; readonly restartAfterMs: number; readonly settle: (died: boolean) => void } | undefined;
  /** Last status of each process this member had before the current one. */
  readonly retired: WorkerStatus[];
}

const sumInto = (into: Record<string, number>, from: Readonly<Record<string, number>>): void => {
  for (const [k, v] of Object.entries(from)) if (typeof v === 'number') into[k] = (into[k] ?? 0) + v;
};

function argsOf(slot: Slot, o: FleetOptions, fleetId: string): string[] {
  const extra = o.args?.[slot.role] ?? [];
  const common = ['--project', o.projectId, '--spanner-shards', String(o.spannerShards)];
  if (slot.role === 'gateway') {
    const viaEnv = o.env?.['PUBSUB_EMULATOR_HOST'] !== undefined && o.env?.['SPANNER_EMULATOR_HOST'] !== undefined;
    // --strategy external: the gateway takes the hosts of its environment (a proxy) over the recorded pair.
    // The subscription is named by member, not by process: a restarted gateway takes up the one its
    // killed predecessor left (with the notifications published meanwhile).
    return ['gateway', '--backend', 'emulators', ...common, '--intake', 'pubsub', '--instance-id', `fleet-${fleetId}-${slot.id}`, ...(viaEnv ? ['--strategy', 'external'] : []), ...extra];
  }
  const tuning = [
    ...(o.workers === undefined ? [] : ['--workers', String(o.workers)]),
    ...(o.maxInFlight === undefined || slot.role === 'fanout' ? [] : ['--max-in-flight', String(o.maxInFlight)]),
    '--ack-deadline-ms',
    String(o.ackDeadlineMs ?? WORKER_DEFAULTS.ackDeadlineMs),
  ];
  return ['worker', '--role', slot.role, ...common, ...tuning, ...extra];
}

export async function startFleet(options: FleetOptions): Promise<ProcessFleet> {
  const log = options.log ?? (() => undefined);
  const readyTimeoutMs = options.readyTimeoutMs ?? FLEET_DEFAULTS.readyTimeoutMs;
  const stopGraceMs = options.stopGraceMs ?? FLEET_DEFAULTS.stopGraceMs;
  const gatewaySecret = options.gatewaySecret ?? randomBytes(32).toString('hex');
  const t0 = Date.now();
  const fleetId = randomUUID().slice(0, 8);
  const slots: Slot[] = [];
  for (const role of FLEET_ROLES) {
    const n = options.counts[role] ?? 0;
    for (let i = 1; i <= n; i++) slots.push({ role, id: `${role}-${i}`, child: undefined, pid: -1, startedAtMs: 0, restarts: 0, expectingExit: false, readyLine: undefined, status: undefined, armed: undefined, retired: [] });
  }
  if (slots.length === 0) throw new Error('startFleet: counts name no member');
  let stopping = false;
  const figures = { kills: 0, crashes: 0, gracefulRestarts: 0, undrainedStops: 0, crashLog: [] as FleetFigures['crashLog'][number][] };

  const onExit = (slot: Slot, child: RacedayChild, e: ChildExit): void => {
    if (slot.status !== undefined) slot.retired.push(slot.status);
    slot.status = undefined;
    const armed = slot.armed?.child === child ? slot.armed : undefined;
    slot.armed = undefined;
    if (armed !== undefined && slot.child === child && !slot.expectingExit && !stopping && e.signal === 'SIGKILL') {
      figures.kills++;
      log(`fleet: ${slot.id} (pid ${child.pid}) died at its armed point; restart in ${armed.restartAfterMs} ms`);
      setTimeout(() => {
        if (stopping || slot.child !== child) return armed.settle(false);
        start(slot, true).then(
          () => armed.settle(true),
          (err: unknown) => (log(`fleet: ${slot.id} did not come back: ${(err as Error).message}`), armed.settle(false)),
        );
      }, armed.restartAfterMs);
      return;
    }
    armed?.settle(false);
    if (slot.child !== child || slot.expectingExit || stopping || interrupted()) return;
    // Died on its own: a finding. Start it again so the day goes on.
    figures.crashes++;
    figures.crashLog.push({ id: slot.id, pid: child.pid, code: e.code, signal: e.signal, atMs: Date.now() - t0 });
    log(`fleet: ${slot.id} (pid ${child.pid}) died on its own (code ${e.code}, signal ${e.signal}); restarting it`);
    setTimeout(() => {
      if (!stopping && slot.child === child) void start(slot, true).catch((err: unknown) => log(`fleet: ${slot.id} did not come back: ${(err as Error).message}`));
    }, FLEET_DEFAULTS.crashRestartDelayMs);
  };

  const start = async (slot: Slot, again: boolean): Promise<void> => {
    const env = { ...process.env, ...options.env, ...options.envOf?.(slot.role), [WORKER_PARENT_PIPE_ENV]: '1', [GATEWAY_PARENT_PIPE_ENV]: '1', RACEDAY_GATEWAY_SECRET: gatewaySecret };
    const child = spawnRaceday({
      args: argsOf(slot, options, fleetId),
      env,
      label: slot.id,
      readyTimeoutMs,
      log,
      // A worker says {"ready":true}; the gateway's first line is its URLs.
      isReady: (l) => (slot.role === 'gateway' ? typeof l['url'] === 'string' : l['ready'] === true),
      onLine: (l) => {
        if (slot.child !== child) return;
        if (typeof l['status'] === 'object' && l['status'] !== null) slot.status = l['status'] as WorkerStatus;
        // The last words of a graceful stop or of an armed death carry the final counts.
        if ((l['stopped'] === true || l['dying'] === true) && typeof l['status'] === 'object' && l['status'] !== null) slot.status = l['status'] as WorkerStatus;
        if (l['stopped'] === true && l['drained'] === false) figures.undrainedStops++;
      },
    });
    slot.child = child;
    slot.pid = child.pid;
    slot.startedAtMs = Date.now();
    slot.readyLine = undefined;
    slot.expectingExit = false;
    if (again) slot.restarts++;
    void child.exited.then((e) => onExit(slot, child, e));
    slot.readyLine = await child.ready;
  };

  const slotOf = (id: string): Slot => {
    const s = slots.find((x) => x.id === id);
    if (s === undefined) throw new Error(`fleet: no member ${id} (members: ${slots.map((x) => x.id).join(', ')})`);
    return s;
  };

  const stopSlot = async (slot: Slot, signal: NodeJS.Signals): Promise<void> => {
    const child = slot.child;
    if (child === undefined) return;
    slot.expectingExit = true;
    await stopChild(child, signal, stopGraceMs);
  };

  try {
    await Promise.all(slots.map((s) => start(s, false)));
  } catch (e) {
    stopping = true;
    await Promise.all(slots.map((s) => stopSlot(s, 'SIGKILL')));
    throw e;
  }
  log(`fleet: ${slots.length} members ready in ${Date.now() - t0} ms (${slots.map((s) => s.id).join(', ')})`);

  const fleet: ProcessFleet = {
    gatewaySecret,
    members: () => slots.map((s): FleetMember => ({ role: s.role, id: s.id, pid: s.pid, startedAtMs: s.startedAtMs, restarts: s.restarts, ...(s.status?.heapAfterGc === undefined ? {} : { heapAfterGc: s.status.heapAfterGc }) })),
    async kill(id, restartAfterMs) {
      const slot = slotOf(id);
      figures.kills++;
      log(`fleet: SIGKILL ${id} (pid ${slot.pid}); restart in ${restartAfterMs} ms`);
      await stopSlot(slot, 'SIGKILL');
      await new Promise((r) => setTimeout(r, restartAfterMs));
      if (!stopping) await start(slot, true);
    },
    killAt(id, point, arm = {}) {
      const slot = slotOf(id);
      const child = slot.child;
      if (child === undefined || !child.running()) return Promise.resolve(false);
      slot.armed?.settle(false);
      return new Promise<boolean>((resolve) => {
        slot.armed = { child, restartAfterMs: arm.restartAfterMs ?? 0, settle: resolve };
        log(`fleet: ${id} (pid ${child.pid}) dies at ${point}${(arm.hits ?? 1) > 1 ? ` (hit ${arm.hits})` : ''}`);
        child.proc.stdin?.write(`${JSON.stringify({ dieAt: point, hits: arm.hits ?? 1 })}\n`);
      });
    },
    async restart(id) {
      const slot = slotOf(id);
      figures.gracefulRestarts++;
      await stopSlot(slot, 'SIGTERM');
      if (!stopping) await start(slot, true);
    },
    async rollingRestart(role) {
      for (const slot of slots.filter((s) => s.role === role)) await fleet.restart(slot.id);
    },
    async stop() {
      stopping = true;
      await Promise.all(slots.map((s) => stopSlot(s, 'SIGTERM')));
    },
    readyLine: (id) => slotOf(id).readyLine,
    ingestUrl() {
      const s = slots.find((x) => x.role === 'ingest' && x.child?.running() === true && typeof x.readyLine?.['url'] === 'string');
      return s?.readyLine?.['url'] as string | undefined;
    },
    activity() {
      const counters: Record<string, number> = {};
      const errors: string[] = [];
      let delivered = 0;
      let busy = 0;
      const deliveredByRole: Partial<Record<FleetRole, number>> = {};
      for (const s of slots) {
        for (const st of [...s.retired, ...(s.status === undefined ? [] : [s.status])]) {
          delivered += st.delivered;
          deliveredByRole[s.role] = (deliveredByRole[s.role] ?? 0) + st.delivered;
          sumInto(counters, st.counters);
          for (const e of st.errors) if (errors.length < 20) errors.push(`${s.id}: ${e}`);
        }
        if (s.status !== undefined) busy += s.status.inFlight + s.status.waiting;
      }
      return { delivered, deliveredByRole, busy, counters, errors };
    },
    figures: () => ({ members: slots.length, kills: figures.kills, crashes: figures.crashes, crashLog: [...figures.crashLog], gracefulRestarts: figures.gracefulRestarts, undrainedStops: figures.undrainedStops }),
  };
  return fleet;
}
