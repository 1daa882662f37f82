// The seams of the chaos runs. A fleet runs the pipeline's stages as OS processes on a provisioned
// emulator project (fleet.ts), Toxiproxy sits between those processes and each emulator, and
// between clients and the gateway (emulators/toxiproxy.ts, network.ts), a seeded schedule decides
// which fault happens when (schedule.ts), and the chaos run checks the final state and records
// what each fault cost (run.ts). Every figure is plain JSON for the run record.

/** The roles a worker process can take (`raceday worker --role R`), plus the gateway. */
export const WORKER_ROLES = ['ingest', 'fanout', 'settle', 'post-settle', 'notify', 'dead-letters'] as const;
export type WorkerRole = (typeof WORKER_ROLES)[number];
export type FleetRole = WorkerRole | 'gateway';

export interface FleetMember {
  readonly role: FleetRole;
  /** Stable within a fleet: `settle-2`. A restarted member keeps its id and gets a new pid. */
  readonly id: string;
  readonly pid: number;
  readonly startedAtMs: number;
  readonly restarts: number;
  /** The heap the member's process kept after its last major collection, from its status line (chaos/heap-after-gc.ts). */
  readonly heapAfterGc?: { readonly mb: number; readonly externalMb: number; readonly committedMb: number; readonly rssMb: number; readonly atMs: number; readonly count: number };
}

export interface Fleet {
  members(): readonly FleetMember[];
  /** SIGKILL one member (no cleanup runs in it) and start its replacement after `restartAfterMs`. */
  kill(id: string, restartAfterMs: number): Promise<void>;
  /** SIGTERM then restart each member of a role, one at a time, waiting until each is ready. */
  rollingRestart(role: FleetRole): Promise<void>;
  /** Stops every member (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
}

/** The network faults Toxiproxy injects; `half-open` stops forwarding without closing the socket. */
export const NETWORK_FAULTS = ['latency', 'bandwidth', 'timeout', 'reset', 'half-open'] as const;
export type NetworkFaultKind = (typeof NETWORK_FAULTS)[number];

export type FaultKind = 'kill' | 'rolling-restart' | 'gateway-restart' | NetworkFaultKind;

/** One fault the schedule decided, and what became of it. */
export interface FaultEvent {
  readonly kind: FaultKind;
  /** What it hit: a member id, a proxy name (`spanner`, `pubsub`, `gateway`), or a role. */
  readonly target: string;
  /** The pipeline's moment when it struck: `fanout`, `settle`, `barrier`, `notify`, `idle`. */
  readonly phase: string;
  readonly atMs: number;
  readonly durationMs: number;
  /** Fault end -> the affected stage's progress resumed (backlog falling again), ms. */
  readonly recoveredAfterMs: number | null;
}

export interface Redriven {
  readonly fanouts: number;
  readonly races: number;
  readonly users: number;
}

/** What a chaos run reports and records (the run record's reliability section). */
export interface ReliabilityFigures {
  readonly seed: number;
  readonly scenario: string;
  readonly faultsByKind: Readonly<Record<string, number>>;
  readonly faults: readonly FaultEvent[];
  readonly tickets: number;
  readonly users: number;
  readonly settledExactlyOnce: number;
  readonly lost: number;
  readonly doubled: number;
  readonly deadLettered: Readonly<Record<string, number>>;
  readonly notificationsLostAfterRecovery: number;
  readonly notificationsDuplicatedAfterRecovery: number;
  /**
   * What the reconciler re-published for races whose progress had stopped (pipeline/reconcile.ts):
   * fan-outs, and races and users re-driven through settle requests. Nonzero means the bus lost
   * track of messages and the store's record brought them back; absent where no reconciler ran.
   */
  readonly redriven?: Redriven;
  readonly recoveryMs: { readonly p50: number; readonly max: number };
  readonly ok: boolean;
  readonly violations: readonly string[];
}
