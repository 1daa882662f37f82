// A chaos run: a race day on a fleet of worker processes that reach the emulators only through
// Toxiproxy, with a seeded schedule of faults struck as the pipeline's phases arrive (kills,
// network faults on the Pub/Sub and Spanner proxies, rolling restarts of every role), and, when
// asked, a gateway restarted under subscribed clients alongside. Afterwards the day's checkers
// judge Spanner's final state and the notifications; the figures say what every fault cost.
import { ensureEmulators, type EmulatorHandle } from '../emulators/index.ts';
import { onInterrupt } from './interrupt.ts';
import { startToxiproxy, type Toxiproxy } from '../emulators/toxiproxy.ts';
import type { FaultEvent, FleetRole, NetworkFaultKind, ReliabilityFigures } from './contracts.ts';
import { createFaultExecutor, type ExecutedFault, type FaultActions } from './executor.ts';
import { recoveryAfter, recoverySummary, redrivenOf, totalFigures, type ProgressPoint } from './figures.ts';
import { FLEET_DAY_COUNTS, FLEET_DAY_DEFAULTS, runDayOnFleet, type DayPhase, type FleetDayResult } from './fleet-run.ts';
import type { ProcessFleet } from './fleet.ts';
import { runGatewayRestart, type GatewayRestartResult, type GatewayStep } from './gateway-restart.ts';
import { injectNetworkFault, proxyEmulators, type ProxiedEmulators } from './network.ts';
import { countByKind, drawSchedule, SCHEDULE_PHASES, type FaultChoice, type PlannedFault, type SchedulePhase } from './schedule.ts';
import type { ReliabilityTotals } from '../reports/record/reliability.ts';

export interface ChaosOptions {
  readonly scenario: string;
  readonly faults: readonly FaultChoice[];
  /** First seed; run k uses seed + k. */
  readonly seed: number;
  readonly runs: number;
  /** Users of the day (default: the fleet day's). */
  readonly users?: number;
  /** Longest a day may take before its checkers judge what it left (default 300 s). */
  readonly dayTimeoutMs?: number;
  /** The ingest process's reconciler stall (default CHAOS_RECONCILE_STALL_MS); 0 runs none. */
  readonly reconcileStallMs?: number;
  readonly log?: (line: string) => void;
  /** After each run (progress, the CLI's lines). */
  readonly onRun?: (figures: ReliabilityFigures, detail: ChaosRunDetail) => void;
}

/** What proves the faults happened, beyond the figures: for tests and --json. */
export interface ChaosRunDetail {
  readonly seed: number;
  readonly schedule: readonly PlannedFault[];
  /** Kills: the member, the pid killed, the replacement's pid. */
  readonly kills: readonly { readonly id: string; readonly pidBefore: number | undefined; readonly pidAfter: number | undefined }[];
  /** Network faults: the proxy and the toxics Toxiproxy listed on it while the fault held. */
  readonly toxics: readonly { readonly proxy: string; readonly kind: string; readonly listed: readonly string[] }[];
  /** Planned faults that never struck (their phase passed unseen and the day was over). */
  readonly notInjected: readonly PlannedFault[];
  readonly fleet: FleetDayResult['fleet'];
  readonly wallMs: number;
  readonly gateway?: Omit<GatewayRestartResult, 'faults'>;
}

export interface ChaosResult {
  readonly runs: readonly ReliabilityFigures[];
  readonly details: readonly ChaosRunDetail[];
  readonly totals: ReliabilityTotals;
}

/** The fleet a chaos day runs: the fleet day's, with a second fan-out and post-settle so a kill leaves one working. */
export const CHAOS_FLEET: Readonly<Partial<Record<FleetRole, number>>> = { ...FLEET_DAY_COUNTS, fanout: 2, 'post-settle': 2 };

/**
 * The reconciler's stall in chaos runs and the soak: three ack deadlines of the workers (10 s), so
 * a killed worker's messages, which come back after one, are not re-driven as well.
 */
export const CHAOS_RECONCILE_STALL_MS = 30_000;

/** The fleet's per-role arguments that set the ingest process's reconciler. */
export function reconcileArgs(stallMs: number | undefined): { readonly ingest: readonly string[] } {
  return { ingest: ['--reconcile-stall-ms', String(stallMs ?? CHAOS_RECONCILE_STALL_MS)] };
}

/** A day under faults on a loaded machine: longer than the fleet day's own default. */
const DAY_TIMEOUT_MS = 300_000;
/** Share of the users notified as settled from which the day is at its barrier (post-settle finishing, ranking claim). */
const BARRIER_SHARE = 0.8;

/**
 * Lost, doubled and settled-once tickets from the checkers' findings and what Spanner holds; the
 * day's own count of lost and doubled users from the settlement markers is a floor (a lost user
 * is at least one lost ticket).
 */
export function exactlyOnceOf(day: Pick<FleetDayResult, 'tickets' | 'settledTickets' | 'violations' | 'lost' | 'doubled'>): { lost: number; doubled: number; settledExactlyOnce: number } {
  const mine = day.violations.filter((v) => v.startsWith('settled-exactly-once: '));
  const lostTickets = mine.filter((v) => / stored open /.test(v) || / is missing from the store$/.test(v)).length;
  const lostUsers = mine.filter((v) => / has no settlement marker$/.test(v)).length;
  let doubled = 0;
  for (const v of mine) {
    const m = / was applied (\d+) times$/.exec(v);
    if (m !== null) doubled += Number(m[1]) - 1;
  }
  // A payout stored other than the core computes, on a settled ticket, is neither lost nor once.
  const wrong = mine.filter((v) => /: stored (won|lost|refunded|special) /.test(v)).length;
  const lost = Math.max(lostTickets, lostUsers, day.lost);
  const twice = Math.max(doubled, day.doubled);
  return { lost, doubled: twice, settledExactlyOnce: Math.max(0, day.settledTickets - wrong - twice) };
}

interface Shared {
  readonly emulators: EmulatorHandle;
  readonly toxi: Toxiproxy;
  readonly proxied: ProxiedEmulators;
}

/** The actions of a fault executor on the fleet of the day (known once the day started it) and the proxies. */
function actionsFor(fleetOf: () => ProcessFleet | undefined, shared: Shared, toxicsSeen: ChaosRunDetail['toxics'][number][]): FaultActions {
  const fleet = (): ProcessFleet => {
    const f = fleetOf();
    if (f === undefined) throw new Error('CHAOS.NO_FLEET: a fault struck before the fleet started');
    return f;
  };
  return {
    members: () => fleetOf()?.members() ?? [],
    kill: (id, downMs) => fleet().kill(id, downMs),
    rollingRestart: (role) => fleet().rollingRestart(role as FleetRole),
    async network(proxy, kind: NetworkFaultKind, durationMs) {
      const name = proxy === 'pubsub' ? shared.proxied.proxies.pubsub : proxy === 'spanner' ? shared.proxied.proxies.spanner : proxy;
      const injected = await injectNetworkFault(shared.toxi, name, kind, { durationMs });
      // What Toxiproxy itself lists on the proxy now: the proof the toxic was there.
      const listed = (await shared.toxi.proxy(name)).toxics.map((t) => t.name);
      toxicsSeen.push({ proxy, kind, listed });
      return injected;
    },
  };
}

/** Gateway-side faults of a schedule as the gateway restart's steps: restarts around the client faults. */
function gatewaySteps(faults: readonly PlannedFault[]): GatewayStep[] {
  const client = faults.filter((f) => f.target === 'gateway' && f.kind !== 'gateway-restart').map((f): GatewayStep => ({ fault: f.kind as NetworkFaultKind }));
  const restart = faults.some((f) => f.kind === 'gateway-restart');
  return restart ? [{ restart: 'SIGKILL' }, ...client, { restart: 'SIGTERM' }] : client;
}

function faultEvents(executed: readonly ExecutedFault[], t0: number, progress: readonly ProgressPoint[], idleAtMs: number | undefined): FaultEvent[] {
  return executed
    .filter((e) => e.error === undefined && e.kind !== 'gateway-restart')
    .map((e) => {
      const end = e.endMs ?? e.startMs;
      // After the day went idle there was nothing left to recover.
      const recovered = idleAtMs !== undefined && end >= idleAtMs ? null : recoveryAfter(end - t0, progress, Number.POSITIVE_INFINITY);
      return { kind: e.kind, target: e.target, phase: e.phase, atMs: Math.round(e.startMs - t0), durationMs: Math.round(end - e.startMs), recoveredAfterMs: recovered };
    });
}

/** One chaos run (one seed). */
export async function runChaosOnce(o: ChaosOptions, seed: number, shared: Shared): Promise<{ figures: ReliabilityFigures; detail: ChaosRunDetail }> {
  const log = o.log ?? (() => undefined);
  const withGateway = o.faults.includes('gateway-restart');
  const schedule = drawSchedule({ seed, faults: o.faults, fleet: { ...CHAOS_FLEET, ...(withGateway ? { gateway: 1 } : {}) } });
  const dayFaults = schedule.filter((f) => f.target !== 'gateway' && f.kind !== 'gateway-restart');
  let fleet: ProcessFleet | undefined;
  const toxics: ChaosRunDetail['toxics'][number][] = [];
  const t0 = Date.now();
  const executor = createFaultExecutor(dayFaults, actionsFor(() => fleet, shared, toxics), () => Date.now(), log);
  const progress: ProgressPoint[] = [];
  let idleAtMs: number | undefined;
  // Phases only move forward: the day's own calls and the client-count inference below may both name one.
  let reached = -1;
  const onPhase = (phase: DayPhase, f: ProcessFleet): void => {
    fleet = f;
    const at = phase === 'idle' ? SCHEDULE_PHASES.length : SCHEDULE_PHASES.indexOf(phase as SchedulePhase);
    if (at <= reached) return;
    reached = at;
    if (phase === 'idle') idleAtMs ??= Date.now();
    // A phase the polls never saw (a small day's fan-out can pass between two polls) is armed with
    // the next one; once the day is idle every remaining fault is armed to strike in its quiet.
    for (const p of SCHEDULE_PHASES.slice(0, Math.min(at, SCHEDULE_PHASES.length - 1) + 1)) executor.phase(p, phase);
  };
  const users = o.users ?? FLEET_DAY_DEFAULTS.users;
  const steps = gatewaySteps(schedule);
  const gateway = steps.length === 0 ? undefined : runGatewayRestart({ toxi: shared.toxi, emulators: shared.emulators, steps, log }).catch((e: Error) => e);
  let day: FleetDayResult;
  try {
    day = await runDayOnFleet({
      seed,
      counts: CHAOS_FLEET,
      args: reconcileArgs(o.reconcileStallMs),
      emulators: shared.emulators,
      ...(o.users === undefined ? {} : { users: o.users }),
      env: { PUBSUB_EMULATOR_HOST: shared.proxied.pubsubHost, SPANNER_EMULATOR_HOST: shared.proxied.spannerHost },
      onPhase,
      timeoutMs: o.dayTimeoutMs ?? DAY_TIMEOUT_MS,
      onPoll: (state, f) => {
        fleet = f;
        progress.push({ tMs: Date.now() - t0, done: f.activity().delivered });
        // The fleet's settle count misses what a killed worker had not reported yet, so the day
        // may never call a phase "barrier": the client's count of settled notifications does.
        if (state.rankingsShown > 0) onPhase('idle', f);
        else if (state.notificationsShown >= BARRIER_SHARE * users) onPhase('barrier', f);
      },
      log,
    });
  } finally {
    executor.cancel();
    await executor.drain();
  }
  const gw = await gateway;
  const executed = executor.executed();
  const events = faultEvents(executed, t0, progress, idleAtMs);
  const violations = [...day.violations, ...executed.filter((e) => e.error !== undefined).map((e) => `fault ${e.kind} on ${e.target} could not be injected: ${e.error}`)];
  if (gw instanceof Error) violations.push(`gateway restart: ${gw.message}`);
  else if (gw !== undefined) {
    events.push(...gw.faults);
    violations.push(...gw.violations.map((v) => `gateway: ${v}`));
  }
  const once = exactlyOnceOf(day);
  const redriven = redrivenOf(day.activity.counters, o.reconcileStallMs !== 0);
  const nLost = gw === undefined || gw instanceof Error ? 0 : gw.lost;
  const nDup = gw === undefined || gw instanceof Error ? 0 : gw.duplicated;
  const figures: ReliabilityFigures = {
    seed,
    scenario: o.scenario,
    faultsByKind: countByKind(events),
    faults: events,
    tickets: day.tickets,
    users: day.usersWithTickets,
    settledExactlyOnce: once.settledExactlyOnce,
    lost: once.lost,
    doubled: once.doubled,
    deadLettered: day.deadLettered,
    notificationsLostAfterRecovery: nLost,
    notificationsDuplicatedAfterRecovery: nDup,
    ...(redriven === undefined ? {} : { redriven }),
    recoveryMs: recoverySummary(events),
    ok: violations.length === 0 && once.lost === 0 && once.doubled === 0 && nLost === 0,
    violations,
  };
  const kills = executed.filter((e) => e.kind === 'kill').map((e) => ({ id: e.target, pidBefore: e.proof.pidBefore, pidAfter: e.proof.pidAfter }));
  const detail: ChaosRunDetail = {
    seed,
    schedule,
    kills,
    toxics,
    notInjected: executor.pending(),
    fleet: day.fleet,
    wallMs: Date.now() - t0,
    ...(gw === undefined || gw instanceof Error ? {} : { gateway: (({ faults: _f, ...rest }) => rest)(gw) }),
  };
  return { figures, detail };
}

/** `--runs K` chaos runs, seed after seed, on one Toxiproxy in front of the emulators. */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const log = o.log ?? (() => undefined);
  const emulators = await ensureEmulators({ log });
  const toxi = await startToxiproxy({ seed: o.seed });
  const unregister = onInterrupt(() => toxi.stop(), { last: true });
  const runs: ReliabilityFigures[] = [];
  const details: ChaosRunDetail[] = [];
  try {
    const proxied = await proxyEmulators(toxi, emulators);
    const shared = { emulators, toxi, proxied };
    for (let k = 0; k < o.runs; k++) {
      const { figures, detail } = await runChaosOnce(o, o.seed + k, shared);
      runs.push(figures);
      details.push(detail);
      o.onRun?.(figures, detail);
    }
    await proxied.close();
  } finally {
    unregister();
    await toxi.stop();
    await emulators.stop();
  }
  return { runs, details, totals: totalFigures(runs) };
}
