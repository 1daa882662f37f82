// The deterministic simulator: one seed decides the race day, the pipeline shape, the faults and
// (through the virtual clock and the seeded bus and store) the interleaving. A run builds the
// memory world (a day of 2 to 4 races sharing users, workload.ts simRaceDay), ingests each race's
// result, lets virtual time run until nothing is pending, then checks the whole world. The trace
// hash identifies the run: the same seed gives the same hash.
import { createMemoryBus, createMemoryStore, createVirtualClock } from '../backends/memory/index.ts';
import { createRng } from '../core/rng.ts';
import { InjectedCrash, type Probe } from '../pipeline/probe.ts';
import { startPipeline } from '../pipeline/runner.ts';
import { formatFanoutVariant, type BrokenBehaviour } from '../pipeline/settings.ts';
import { checkWorld, type Violation } from './checkers.ts';
import { loadDay, startClient } from './world.ts';
import { expectedWorld } from './expected.ts';
import { drawFaultPlan, simSubscriptions, type FaultChoices, type FaultPlan } from './faults.ts';
import { Trace } from './trace.ts';
import { traceBus } from './traced-bus.ts';
import { simRaceDay } from './workload.ts';

export const SCENARIOS = ['smoke'] as const;
export type SimScenario = (typeof SCENARIOS)[number];

export interface SimOptions extends Partial<FaultChoices> {
  readonly seed: number;
  readonly scenario?: SimScenario;
  /** Keep the trace lines (for --trace); the hash is computed either way. */
  readonly keepTrace?: boolean;
  /** Deliberately broken pipeline, for the checkers' self-test. */
  readonly broken?: BrokenBehaviour;
  /** false: the notification client shows every delivery (the shown-exactly-once check's self-test; tests only). */
  readonly clientDedupe?: boolean;
}

export interface SimResult {
  readonly seed: number;
  readonly traceHash: string;
  readonly events: number;
  readonly virtualMs: number;
  readonly users: number;
  readonly tickets: number;
  readonly variants: string;
  readonly violations: readonly Violation[];
  /** Notification ids the clients received more than once (at-least-once delivery at work). */
  readonly duplicateDeliveries: number;
  readonly trace?: readonly string[];
}

/** Timers fired at most in one run: a smoke world needs a few thousand; more means livelock. */
const SIM_STEPS_MAX = 2_000_000;

export function crashProbe(plan: FaultPlan, seedRng: ReturnType<typeof createRng>, trace: Trace, nowMs: () => number): Probe {
  if (plan.crashPerMille === 0 || plan.crashesMax === 0) return () => {};
  const rng = seedRng.fork('crash');
  let crashes = 0;
  return (point, item) => {
    if (crashes >= plan.crashesMax || rng.int(0, 999) >= plan.crashPerMille) return;
    crashes++;
    trace.add(`${nowMs()} crash ${point} ${item}`);
    throw new InjectedCrash(point, item);
  };
}

/** The replay command of a seed, with whatever options differ from the defaults. */
export function replayCommand(opts: SimOptions): string {
  const parts = ['raceday sim', `--scenario ${opts.scenario ?? 'smoke'}`, `--seed ${opts.seed}`];
  if (opts.faults === false) parts.push('--no-faults');
  if (opts.fanout !== undefined) parts.push(`--fanout ${formatFanoutVariant(opts.fanout)}`);
  if (opts.notify !== undefined) parts.push(`--notify ${opts.notify}`);
  if (opts.settlePath !== undefined) parts.push(`--settle-path ${opts.settlePath}`);
  if (opts.broken !== undefined) parts.push(`--broken ${opts.broken}`);
  return parts.join(' ');
}

export async function simulate(opts: SimOptions): Promise<SimResult> {
  const seedRng = createRng(`raceday-sim/${opts.scenario ?? 'smoke'}/${opts.seed}`);
  const day = simRaceDay(opts.seed, seedRng.fork('workload'));
  const race = day.races[0];
  if (race === undefined) throw new Error('invariant violated: the sim day has a race');
  const choices: FaultChoices = {
    faults: opts.faults ?? true,
    ...(opts.fanout ? { fanout: opts.fanout } : {}),
    ...(opts.notify ? { notify: opts.notify } : {}),
    ...(opts.settlePath ? { settlePath: opts.settlePath } : {}),
  };
  const plan = drawFaultPlan(seedRng.fork('faults'), race.raceId, choices);
  const variants = opts.broken === undefined ? plan.variants : { ...plan.variants, broken: opts.broken };
  const trace = new Trace(opts.keepTrace === true);
  const clock = createVirtualClock();
  const memoryBus = createMemoryBus({ clock, rng: seedRng.fork('bus'), faults: plan.bus, subscriptions: simSubscriptions() });
  const store = createMemoryStore({
    clock,
    rng: seedRng.fork('store'),
    faults: { abortProbability: plan.abortProbability, brokenExactlyOnce: opts.broken === 'no-exactly-once', brokenBonusOnce: opts.broken === 'bonus-twice' },
    transactionLatencyMs: plan.transactionLatencyMs,
  });
  const bus = traceBus(memoryBus, trace, clock);
  const variantText = `${formatFanoutVariant(variants.fanout)}/${variants.notify}/${variants.settlePath ?? 'objects'}`;
  trace.add(`seed ${opts.seed} users ${day.users.length} tickets ${day.ticketCount} variants ${variantText}`);
  trace.add(`faults ${JSON.stringify({ bus: plan.bus, abort: plan.abortProbability, crashPerMille: plan.crashPerMille, crashesMax: plan.crashesMax, restarts: plan.restarts, poison: plan.poison.length, stages: plan.stages })}`);

  await loadDay(store, day);

  const pipeline = startPipeline({ store, bus, clock, variants, probe: crashProbe(plan, seedRng, trace, clock.nowMs), stages: plan.stages });
  const client = startClient(bus, clock, { dedupe: opts.clientDedupe ?? true });
  const driverErrors: string[] = [];
  // The day's results arrive in post order, a few virtual ms apart, so races settle side by side
  // and one user's races update the same day progress at once.
  const ingestRng = seedRng.fork('ingest');
  let resultAtMs = 0;
  for (const r of day.races) {
    void clock
      .sleep(resultAtMs)
      .then(() => pipeline.ingest({ raceId: r.raceId, resultVersion: 1, result: r.result, scratched: r.scratched }))
      .then(
        (res) => (res.ok ? undefined : driverErrors.push(`ingest refused the result of ${r.raceId}: ${res.error.message}`)),
        (e: unknown) => driverErrors.push(`ingest of ${r.raceId} threw: ${String(e)}`),
      );
    resultAtMs += ingestRng.int(0, 150);
  }
  for (const p of plan.poison) void clock.sleep(p.atMs).then(() => bus.publish(p.topic, [{ data: p.data }]));
  for (const r of plan.restarts) {
    void clock.sleep(r.atMs).then(() => {
      trace.add(`${clock.nowMs()} restart ${r.stage}`);
      return pipeline.restart(r.stage);
    });
  }
  const run = await clock.runUntilIdle({ maxSteps: SIM_STEPS_MAX });
  await pipeline.stop();
  const expected = expectedWorld(day);
  const violations: Violation[] = driverErrors.map((message) => ({ checker: 'driver', message }));
  if (!run.idle) violations.push({ checker: 'liveness', message: `still busy after ${run.steps} timer steps at ${run.nowMs} virtual ms` });
  violations.push(...(await checkWorld({ expected, store, bus: memoryBus, client: client.view, poison: plan.poison, handlerErrors: pipeline.errors })));
  for (const v of violations) trace.add(`violation [${v.checker}] ${v.message}`);
  trace.add(`${clock.nowMs()} end violations ${violations.length}`);
  await memoryBus.close();
  return {
    seed: opts.seed,
    traceHash: trace.digest(),
    events: trace.events,
    virtualMs: clock.nowMs(),
    users: day.users.length,
    tickets: day.ticketCount,
    variants: variantText,
    violations,
    duplicateDeliveries: [...client.view.delivered.values()].filter((d) => d.times > 1).length,
    ...(opts.keepTrace === true ? { trace: trace.lines } : {}),
  };
}
