// The fault schedule of a chaos run: which faults `--faults` asks for, and a seeded draw of when
// and where each strikes. Faults are aimed at the pipeline's phases rather than at clock times,
// because a day on the emulators takes as long as it takes: a kill "during the fan-out" must land
// while the fan-out runs, whatever the machine's speed. Each planned fault names the phase that
// arms it and a short delay after the phase begins; the run (run.ts) arms them as the phases
// arrive. The same seed and fleet shape always give the same schedule.
import { createRng, type SeededRng } from '../core/rng.ts';
import type { Result } from '../core/result.ts';
import { NETWORK_FAULTS, type FaultKind, type FleetRole, type NetworkFaultKind } from './contracts.ts';

/** What `--faults` accepts, one per comma; `all` is every one of them, `network` every network fault. */
export const FAULT_CHOICES = ['kill', ...NETWORK_FAULTS.map((k) => `network:${k}` as const), 'rolling', 'gateway-restart'] as const;
export type FaultChoice = (typeof FAULT_CHOICES)[number];

/** The pipeline's moments a fault can be aimed at (FaultEvent.phase). */
export const SCHEDULE_PHASES = ['fanout', 'settle', 'barrier', 'notify'] as const;
export type SchedulePhase = (typeof SCHEDULE_PHASES)[number];

/** The Toxiproxy proxies a network fault can hit: workers to each emulator, clients to the gateway. */
export const PROXIES = ['spanner', 'pubsub', 'gateway'] as const;
export type ProxyName = (typeof PROXIES)[number];

export interface PlannedFault {
  readonly kind: FaultKind;
  /** A member id (`settle-2`) for a kill, a proxy for a network fault, a role for a rolling restart, `gateway` for its restart. */
  readonly target: string;
  /** The phase whose start arms the fault. */
  readonly phase: SchedulePhase;
  /** Delay after the phase begins, ms. */
  readonly delayMs: number;
  /** How long the fault lasts: a network toxic's life, a killed member's time down before its restart. */
  readonly durationMs: number;
}

/** How many members of each role the fleet runs (the ids are `role-1` .. `role-N`). */
export type FleetShape = Readonly<Partial<Record<FleetRole, number>>>;

/** Parses `kill,network:latency,rolling` / `all` / `network`; refuses unknown and repeated names. */
export function parseFaults(spec: string): Result<readonly FaultChoice[], { code: 'CHAOS.BAD_FAULTS'; message: string }> {
  const bad = (message: string) => ({ ok: false as const, error: { code: 'CHAOS.BAD_FAULTS' as const, message } });
  const parts = spec.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) return bad(`--faults has an empty name in "${spec}" (names are separated by single commas)`);
  const out: FaultChoice[] = [];
  for (const p of parts) {
    const expanded: readonly string[] = p === 'all' ? FAULT_CHOICES : p === 'network' ? FAULT_CHOICES.filter((c) => c.startsWith('network:')) : [p];
    for (const e of expanded) {
      if (!(FAULT_CHOICES as readonly string[]).includes(e)) return bad(`--faults: unknown fault "${e}"; the faults are ${FAULT_CHOICES.join(', ')}, or all, or network`);
      if (out.includes(e as FaultChoice)) {
        if (p === 'all' || p === 'network' || parts.includes('all') || parts.includes('network')) continue;
        return bad(`--faults names "${e}" twice`);
      }
      out.push(e as FaultChoice);
    }
  }
  return { ok: true, value: out };
}

/** Which role a kill in a phase hits: the stage doing that phase's work. */
const KILL_ROLE: Readonly<Record<SchedulePhase, FleetRole>> = {
  fanout: 'fanout',
  // Settlement transactions are in flight in the settle workers.
  settle: 'settle',
  // The barrier: post-settle workers finishing users and claiming the ranking.
  barrier: 'post-settle',
  notify: 'notify',
};

/** Which proxies each phase's network faults aim at: the emulator the phase leans on, the gateway while notifying. */
const PHASE_PROXIES: Readonly<Record<SchedulePhase, readonly ProxyName[]>> = {
  fanout: ['pubsub', 'spanner'],
  settle: ['spanner', 'pubsub'],
  barrier: ['spanner', 'pubsub'],
  notify: ['gateway', 'pubsub'],
};

export interface ScheduleOptions {
  readonly seed: number;
  readonly faults: readonly FaultChoice[];
  readonly fleet: FleetShape;
  /** Kills drawn per run (default 3: one in the fan-out, one in settlement, one at the barrier, then random phases). */
  readonly kills?: number;
  /** Faults drawn per network kind (default 1). */
  readonly perNetworkKind?: number;
  /** The longest delay after a phase begins, ms (default 400: phases of a small day are short). */
  readonly maxDelayMs?: number;
}

const pick = <T>(rng: SeededRng, xs: readonly T[]): T => xs[rng.int(0, xs.length - 1)] as T;

function memberIds(fleet: FleetShape, role: FleetRole): string[] {
  const n = fleet[role] ?? 0;
  return Array.from({ length: n }, (_, i) => `${role}-${i + 1}`);
}

function drawKills(rng: SeededRng, o: ScheduleOptions, maxDelayMs: number): PlannedFault[] {
  const out: PlannedFault[] = [];
  const count = o.kills ?? 3;
  // The first three kills go where the issue asks for them: fan-out, settlement, barrier.
  const fixed: readonly SchedulePhase[] = ['fanout', 'settle', 'barrier'];
  for (let i = 0; i < count; i++) {
    const phase = i < fixed.length ? (fixed[i] as SchedulePhase) : pick(rng, SCHEDULE_PHASES);
    const ids = memberIds(o.fleet, KILL_ROLE[phase]);
    if (ids.length === 0) continue;
    out.push({ kind: 'kill', target: pick(rng, ids), phase, delayMs: rng.int(0, maxDelayMs), durationMs: rng.int(100, 1_500) });
  }
  return out;
}

/** Lengths per network kind: long enough to hurt, short enough for a small day to survive in seconds. */
const NETWORK_DURATION_MS: Readonly<Record<NetworkFaultKind, readonly [number, number]>> = {
  latency: [1_000, 3_000],
  bandwidth: [1_000, 3_000],
  timeout: [500, 2_000],
  reset: [300, 1_500],
  'half-open': [500, 2_000],
};

function drawNetwork(rng: SeededRng, kind: NetworkFaultKind, o: ScheduleOptions, maxDelayMs: number): PlannedFault[] {
  const out: PlannedFault[] = [];
  const hasGateway = (o.fleet.gateway ?? 0) > 0;
  for (let i = 0; i < (o.perNetworkKind ?? 1); i++) {
    const phase = pick(rng, SCHEDULE_PHASES);
    const proxies = PHASE_PROXIES[phase].filter((p) => p !== 'gateway' || hasGateway);
    const [lo, hi] = NETWORK_DURATION_MS[kind];
    out.push({ kind, target: pick(rng, proxies), phase, delayMs: rng.int(0, maxDelayMs), durationMs: rng.int(lo, hi) });
  }
  return out;
}

/**
 * The seeded schedule: kills aimed at the fan-out, settlement and the barrier; each requested
 * network fault on a proxy the phase leans on; a rolling restart of every role (one instance at
 * a time; run.ts runs them in turn) from the settle phase; the gateway restarted while notifying.
 * Sorted by phase order then delay, so reading it top to bottom is reading the run.
 */
export function drawSchedule(o: ScheduleOptions): PlannedFault[] {
  const rng = createRng(`chaos-schedule/${o.seed}`);
  const maxDelayMs = o.maxDelayMs ?? 400;
  const out: PlannedFault[] = [];
  // Each choice draws from its own stream, so adding a fault kind does not move the others.
  if (o.faults.includes('kill')) out.push(...drawKills(rng.fork('kill'), o, maxDelayMs));
  for (const kind of NETWORK_FAULTS) {
    if (o.faults.includes(`network:${kind}`)) out.push(...drawNetwork(rng.fork(kind), kind, o, maxDelayMs));
  }
  if (o.faults.includes('rolling')) {
    const r = rng.fork('rolling');
    const roles = (Object.keys(o.fleet) as FleetRole[]).filter((role) => role !== 'gateway' && (o.fleet[role] ?? 0) > 0);
    for (const role of roles) out.push({ kind: 'rolling-restart', target: role, phase: 'settle', delayMs: r.int(0, maxDelayMs), durationMs: 0 });
  }
  if (o.faults.includes('gateway-restart') && (o.fleet.gateway ?? 0) > 0) {
    out.push({ kind: 'gateway-restart', target: 'gateway', phase: 'notify', delayMs: rng.fork('gateway').int(0, maxDelayMs), durationMs: 0 });
  }
  const order = (p: SchedulePhase): number => SCHEDULE_PHASES.indexOf(p);
  return out.sort((a, b) => order(a.phase) - order(b.phase) || a.delayMs - b.delayMs || a.target.localeCompare(b.target));
}

/** Faults per kind in a schedule or a list of events. */
export function countByKind(faults: readonly { readonly kind: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of faults) out[f.kind] = (out[f.kind] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
