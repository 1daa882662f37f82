// One virtual-time run: a memory world on the virtual clock, the synthetic race loaded, the REAL
// pipeline (pipeline/runner.ts startPipeline) started with the configuration's workers, flow
// control, fan-out variant and group commit, over the store and bus given the cost model's
// service times (service-times.ts, service-decorators.ts); the result ingested and virtual time
// run until nothing is pending. It measures what a run record would: makespan (publication to the
// last settlement committed), notify makespan and each user's notify latency (publication to its
// notification shown by the gateway client), and each resource's busy share over the steady part
// of the run (between the 10th and the 90th percentile settlement), where a longer race spends
// nearly all its time.
import { createMemoryBus, createMemoryStore, createVirtualClock, type MemoryStore } from '../backends/memory/index.ts';
import { createRng } from '../core/rng.ts';
import { SUBSCRIPTIONS } from '../core/topology.ts';
import { startPipeline, type StageOptions } from '../pipeline/runner.ts';
import { parseFanoutVariant, type PipelineVariants } from '../pipeline/settings.ts';
import { startClient } from '../sim/world.ts';
import type { CostModel, OperationName, PlanConfiguration } from './contracts.ts';
import { timedBus, timedStore } from './service-decorators.ts';
import { createResources } from './service-times.ts';
import { loadSyntheticRace } from './synthetic-race.ts';

/**
 * The memory bus does not renew leases; Pub/Sub's client does while a handler runs. A handler
 * waiting behind a busy database must not be redelivered for it, so every stage holds its lease
 * this long (Pub/Sub's longest ack deadline) in the virtual world.
 */
const VIRTUAL_ACK_DEADLINE_MS = 600_000;
/** Timers fired at most: a guard against a configuration that never drains. */
const STEPS_MAX = 400_000_000;

export interface VirtualRun {
  readonly users: number;
  readonly tickets: number;
  readonly settledUsers: number;
  /** Virtual ms from publication, per settlement committed, ascending. */
  readonly commitsMs: readonly number[];
  /** Virtual ms from publication, per user notification shown (first showing), ascending. */
  readonly shownMs: readonly number[];
  readonly makespanMs: number;
  readonly notifyMakespanMs: number;
  /** Busy share per resource over the steady window. */
  readonly utilisation: Readonly<Record<string, number>>;
  /** Per server, its busy ms over the whole run (breaks ties between equally saturated shards). */
  readonly busyTotals: Readonly<Record<string, number>>;
  /** Per resource, the operation that took most of its busy time. */
  readonly mainOp: Readonly<Record<string, OperationName | undefined>>;
  /** Mean users per settlement commit. */
  readonly usersPerCommit: number;
  /** Rows the settled checks read (two per settled user: post-settle's and notify's), and mean rows per coalesced read. */
  readonly checkRows: number;
  readonly rowsPerCheckRead: number;
  readonly handlerErrors: readonly string[];
  readonly idle: boolean;
  readonly wallMs: number;
  readonly store: MemoryStore;
  readonly raceId: string;
}

export function variantsOf(configuration: PlanConfiguration): PipelineVariants {
  const fanout = parseFanoutVariant(configuration.fanout);
  if (!fanout.ok) throw new Error(`PLAN.INPUT_INVALID: ${fanout.error.message}`);
  return { fanout: fanout.value, notify: 'after-commit', settlePath: 'columns' };
}

function stagesOf(c: PlanConfiguration): Record<'fanout' | 'settle' | 'postSettle' | 'notify', Partial<StageOptions>> {
  const stage = (workers: number): Partial<StageOptions> => ({ workers: Math.max(1, workers), maxInFlight: Math.max(1, c.maxInFlight), ackDeadlineMs: VIRTUAL_ACK_DEADLINE_MS });
  return { fanout: { ackDeadlineMs: VIRTUAL_ACK_DEADLINE_MS }, settle: stage(c.settleWorkers), postSettle: stage(c.postSettleWorkers), notify: stage(c.notifyWorkers) };
}

/** Flow-control slots of each stage (what Little's law divides by). */
export function slotsOf(c: PlanConfiguration): Record<string, { subscription: string; slots: number }> {
  const single = variantsOf(c).fanout.kind === 'single-worker';
  const m = Math.max(1, c.maxInFlight);
  return {
    fanout: { subscription: SUBSCRIPTIONS.fanOut.name, slots: 1 },
    'settle.slots': { subscription: SUBSCRIPTIONS.settle.name, slots: (single ? 1 : Math.max(1, c.settleWorkers)) * m },
    'postSettle.slots': { subscription: SUBSCRIPTIONS.postSettle.name, slots: Math.max(1, c.postSettleWorkers) * m },
    'notify.slots': { subscription: SUBSCRIPTIONS.notify.name, slots: Math.max(1, c.notifyWorkers) * m },
  };
}

interface Snapshot {
  readonly atMs: number;
  readonly busy: Map<string, number>;
}

export async function runVirtual(model: CostModel, configuration: PlanConfiguration, users: number, tickets: number, seed: number, onSettled?: (settled: number) => void): Promise<VirtualRun> {
  const wall0 = performance.now();
  const rng = createRng(`raceday-plan/${seed}`);
  const clock = createVirtualClock();
  const store = createMemoryStore({ clock, rng: rng.fork('store'), ledgerLog: false, notificationLog: false, capacityTickets: tickets });
  const race = await loadSyntheticRace(store, users, tickets, rng.fork('race'));
  const res = createResources({ model, configuration, clock, rng: rng.fork('service') });
  const bus = timedBus(createMemoryBus({ clock, rng: rng.fork('bus') }), res, SUBSCRIPTIONS.gateway.name);
  const slots = slotsOf(configuration);
  const snapshots: Snapshot[] = [];
  const steadyAt = [Math.max(1, Math.floor(users * 0.1)), Math.max(1, Math.ceil(users * 0.9))];
  const snapshot = (): void => {
    const busy = new Map<string, number>();
    for (const s of res.servers) busy.set(s.name, s.busyMs());
    for (const [name, { subscription }] of Object.entries(slots)) busy.set(name, bus.slots.get(subscription)?.busyMs() ?? 0);
    snapshots.push({ atMs: clock.nowMs(), busy });
  };
  const commitsAt: number[] = [];
  const progressEvery = Math.max(1, Math.floor(users / 100));
  const settled = (): void => {
    commitsAt.push(clock.nowMs());
    if (steadyAt.includes(commitsAt.length)) snapshot();
    if (commitsAt.length % progressEvery === 0) onSettled?.(commitsAt.length);
  };
  const store2 = timedStore(store, res, race.ticketsOf, settled);
  // The pipeline stamps times into messages as whole epoch ms; service times are fractional.
  const wholeMs = { nowMs: () => Math.floor(clock.nowMs()), sleep: (ms: number) => clock.sleep(ms) };
  const pipeline = startPipeline({ store: store2, bus, clock: wholeMs, variants: variantsOf(configuration), stages: stagesOf(configuration) });
  const shownAt: number[] = [];
  const client = startClient(bus, clock, { keep: false, validate: false, maxInFlight: 1024, onShown: (_u, at, ranking) => void (ranking ? undefined : shownAt.push(at)) });
  let publishedAtMs = 0;
  const ingestErrors: string[] = [];
  void pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: [] }).then((r) => {
    if (r.ok) publishedAtMs = r.value.publishedAtMs;
    else ingestErrors.push(`${r.error.code}: ${r.error.message}`);
  });
  const run = await clock.runUntilIdle({ maxSteps: STEPS_MAX });
  await pipeline.stop();
  await client.handle.close();
  await bus.close();
  if (ingestErrors.length > 0) throw new Error(`invariant violated: the synthetic result was refused: ${ingestErrors.join('; ')}`);
  const commitsMs = commitsAt.map((t) => t - publishedAtMs);
  const shownMs = shownAt.map((t) => t - publishedAtMs).sort((a, b) => a - b);
  return {
    users,
    tickets,
    settledUsers: commitsAt.length,
    commitsMs,
    shownMs,
    makespanMs: commitsMs[commitsMs.length - 1] ?? 0,
    notifyMakespanMs: shownMs[shownMs.length - 1] ?? 0,
    ...steadyUtilisation(snapshots, res.servers, slots),
    usersPerCommit: mean(res.settleBatchSizes()),
    checkRows: res.checkReadSizes().reduce((a, b) => a + b, 0),
    rowsPerCheckRead: mean(res.checkReadSizes()),
    handlerErrors: pipeline.errors,
    idle: run.idle,
    wallMs: performance.now() - wall0,
    store,
    raceId: race.raceId,
  };
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function steadyUtilisation(
  snapshots: readonly Snapshot[],
  servers: ReturnType<typeof createResources>['servers'],
  slots: ReturnType<typeof slotsOf>,
): Pick<VirtualRun, 'utilisation' | 'mainOp' | 'busyTotals'> {
  const utilisation: Record<string, number> = {};
  const busyTotals: Record<string, number> = {};
  const mainOp: Record<string, OperationName | undefined> = {};
  const [a, b] = snapshots;
  const span = a !== undefined && b !== undefined ? b.atMs - a.atMs : 0;
  for (const s of servers) {
    const d = a !== undefined && b !== undefined ? (b.busy.get(s.name) ?? 0) - (a.busy.get(s.name) ?? 0) : 0;
    utilisation[s.name] = span > 0 ? round3(Math.min(1, d / span)) : 0;
    let best: [string, number] | undefined;
    for (const e of s.busyByOp) if (best === undefined || e[1] > best[1]) best = e;
    mainOp[s.name] = best?.[0] as OperationName | undefined;
    busyTotals[s.name] = s.busyMs();
  }
  for (const [name, { slots: n }] of Object.entries(slots)) {
    const d = a !== undefined && b !== undefined ? (b.busy.get(name) ?? 0) - (a.busy.get(name) ?? 0) : 0;
    utilisation[name] = span > 0 ? round3(Math.min(1, d / (span * n))) : 0;
  }
  return { utilisation, mainOp, busyTotals };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
