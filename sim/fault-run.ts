// The fault simulator in real time, for stores that cannot run on the virtual clock (Spanner on its
// emulator): one seed draws the same kind of race day (several races, results a few ms apart),
// pipeline shape and faults as `simulate` (duplicate,
// reordered, late and unacked deliveries on the fault-injecting memory bus, crashes at the
// probes, stage restarts, poison messages, aborted commits), the pipeline runs them against the
// given store in real time, optionally with a second process on a twin store (its own client and
// per-shard gates on the same databases, so their transactions meet and conflict), and every
// checker runs on the final state read back from the store. Interleavings are the real ones, so
// a seed does not replay its trace; the faults it draws are the same.
import { createMemoryBus, createRealClock } from '../backends/memory/index.ts';
import type { Store } from '../core/ports.ts';
import { createRng } from '../core/rng.ts';
import { startPipeline, type RunningPipeline, type Stage, type StageOptions } from '../pipeline/runner.ts';
import { formatFanoutVariant, type BrokenBehaviour } from '../pipeline/settings.ts';
import { checkWorld, type Violation } from './checkers.ts';
import { expectedWorld } from './expected.ts';
import { drawFaultPlan, simSubscriptions, type FaultChoices, type FaultPlan } from './faults.ts';
import { crashProbe } from './simulate.ts';
import { Trace } from './trace.ts';
import { simRaceDay, type SmokeShape } from './workload.ts';
import { loadDay, startClient } from './world.ts';

/** What the store under test is opened with: the plan's commit aborts, drawn from the seed. */
export interface StoreFaultsOfPlan {
  readonly abortProbability: number;
  readonly random: () => number;
}

export interface FaultRunOptions {
  readonly seed: number;
  /** Opens a fresh, empty store for this seed with the plan's aborts. */
  openStore(faults: StoreFaultsOfPlan): Promise<Store>;
  /** A second process's store on the same data (optional): a second pipeline runs on it. */
  openTwin?(store: Store, faults: StoreFaultsOfPlan): Store;
  /** The race day's size (smaller than the simulator's default keeps an emulator run short). */
  readonly shape?: SmokeShape;
  /** Ack deadlines are the plan's times this: a remote store's transactions take milliseconds, not microseconds. */
  readonly deadlineScale?: number;
  readonly timeoutMs: number;
  /** Pipeline variants to run instead of the seed's draw (the other faults are still the seed's). */
  readonly variants?: Omit<Partial<FaultChoices>, 'faults'>;
  /** A deliberately broken pipeline (the checkers' self-test on this store). */
  readonly broken?: BrokenBehaviour;
}

export interface FaultRunResult {
  readonly seed: number;
  readonly users: number;
  readonly tickets: number;
  readonly variants: string;
  /** The faults drawn for the seed, for the report. */
  readonly plan: { readonly bus: FaultPlan['bus']; readonly abortProbability: number; readonly crashesMax: number; readonly restarts: number; readonly poison: number };
  readonly counters: { readonly injectedCrashes: number; readonly settlementsDuplicate: number; readonly deadLettered: number };
  /** Bus deliveries beyond the first, over every subscription. */
  readonly redeliveries: number;
  readonly duplicateDeliveries: number;
  readonly violations: readonly Violation[];
  readonly wallMs: number;
}

const POLL_MS = 20;
/** Consecutive idle polls before the run counts as finished (an outbox relay or a timer may be between polls). */
const IDLE_POLLS = 5;
/** The plan schedules restarts and poison within this many ms; the run is not idle before then. */
const PLAN_HORIZON_MS = 400;

function scaled(stages: FaultPlan['stages'], scale: number): Record<Stage, StageOptions> {
  const out = {} as Record<Stage, StageOptions>;
  for (const [stage, o] of Object.entries(stages) as [Stage, StageOptions][]) out[stage] = { ...o, ...(o.ackDeadlineMs === undefined ? {} : { ackDeadlineMs: o.ackDeadlineMs * scale }) };
  return out;
}

async function untilIdle(isIdle: () => Promise<boolean>, startMs: number, timeoutMs: number): Promise<boolean> {
  let idlePolls = 0;
  while (idlePolls < IDLE_POLLS) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    idlePolls = performance.now() - startMs > PLAN_HORIZON_MS && (await isIdle()) ? idlePolls + 1 : 0;
    if (performance.now() - startMs > timeoutMs) return false;
  }
  return true;
}

export async function runWithFaults(o: FaultRunOptions): Promise<FaultRunResult> {
  const started = performance.now();
  const seedRng = createRng(`raceday-sim/smoke/${o.seed}`);
  const day = simRaceDay(o.seed, seedRng.fork('workload'), o.shape);
  const race = day.races[0];
  if (race === undefined) throw new Error('invariant violated: the sim day has a race');
  const drawn = drawFaultPlan(seedRng.fork('faults'), race.raceId, { ...o.variants, faults: true });
  const plan = o.broken === undefined ? drawn : { ...drawn, variants: { ...drawn.variants, broken: o.broken } };
  const storeRng = seedRng.fork('store');
  const storeFaults: StoreFaultsOfPlan = { abortProbability: plan.abortProbability, random: () => storeRng.int(0, 999_999) / 1_000_000 };
  const store = await o.openStore(storeFaults);
  const clock = createRealClock();
  const bus = createMemoryBus({ clock, rng: seedRng.fork('bus'), faults: plan.bus, subscriptions: simSubscriptions() });
  await loadDay(store, day);

  const trace = new Trace(false);
  const probe = crashProbe(plan, seedRng, trace, () => Math.round(performance.now() - started));
  const stages = scaled(plan.stages, o.deadlineScale ?? 1);
  const pipelines: RunningPipeline[] = [startPipeline({ store, bus, clock, variants: plan.variants, probe, stages })];
  if (o.openTwin !== undefined) pipelines.push(startPipeline({ store: o.openTwin(store, storeFaults), bus, clock, variants: plan.variants, probe, stages }));
  const main = pipelines[0] as RunningPipeline;
  const client = startClient(bus, clock);
  const driverErrors: string[] = [];
  const runStart = performance.now();
  // The day's results in post order, a few ms apart (as in the simulator): races settle side by side.
  const ingestRng = seedRng.fork('ingest');
  const scheduled: Promise<unknown>[] = [];
  let resultAtMs = 0;
  for (const r of day.races) {
    const ingestOne = () => main.ingest({ raceId: r.raceId, resultVersion: 1, result: r.result, scratched: r.scratched });
    scheduled.push(
      clock
        .sleep(resultAtMs)
        .then(ingestOne)
        .then(
          (res) => (res.ok ? undefined : driverErrors.push(`ingest refused the result of ${r.raceId}: ${res.error.message}`)),
          (e: unknown) => driverErrors.push(`ingest of ${r.raceId} threw: ${String(e)}`),
        ),
    );
    resultAtMs += ingestRng.int(0, 150);
  }
  // The bus is idle while ingest reads the pools of a race: the run is not over before every result is published.
  let ingested = false;
  void Promise.all(scheduled).then(() => (ingested = true));
  for (const p of plan.poison) scheduled.push(clock.sleep(p.atMs).then(() => bus.publish(p.topic, [{ data: p.data }])));
  for (const r of plan.restarts) scheduled.push(clock.sleep(r.atMs).then(() => main.restart(r.stage)));
  const readOutbox = store.readOutbox?.bind(store);
  const finished = await untilIdle(async () => ingested && bus.isIdle() && (readOutbox === undefined || (await readOutbox(1)).length === 0), runStart, o.timeoutMs);
  await Promise.all(scheduled);
  for (const p of pipelines) await p.stop();
  await client.handle.close();

  const expected = expectedWorld(day);
  const violations: Violation[] = driverErrors.map((message) => ({ checker: 'driver', message }));
  if (!finished) violations.push({ checker: 'liveness', message: `still busy after ${o.timeoutMs} ms` });
  const handlerErrors = pipelines.flatMap((p) => p.errors);
  violations.push(...(await checkWorld({ expected, store, bus, client: client.view, poison: plan.poison, handlerErrors })));
  const stats = bus.stats().subscriptions;
  await bus.close();
  const sum = (f: (p: RunningPipeline) => number): number => pipelines.reduce((n, p) => n + f(p), 0);
  return {
    seed: o.seed,
    users: day.users.length,
    tickets: day.ticketCount,
    variants: `${formatFanoutVariant(plan.variants.fanout)}/${plan.variants.notify}/${plan.variants.settlePath ?? 'objects'}`,
    plan: { bus: plan.bus, abortProbability: plan.abortProbability, crashesMax: plan.crashesMax, restarts: plan.restarts.length, poison: plan.poison.length },
    counters: { injectedCrashes: sum((p) => p.counters.injectedCrashes), settlementsDuplicate: sum((p) => p.counters.settlementsDuplicate), deadLettered: sum((p) => p.counters.deadLettered) },
    redeliveries: stats.reduce((n, s) => n + s.redelivered, 0),
    duplicateDeliveries: [...client.view.delivered.values()].filter((d) => d.times > 1).length,
    violations,
    wallMs: Math.round(performance.now() - started),
  };
}
