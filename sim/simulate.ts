// The deterministic simulator: one seed decides the race day, the pipeline shape, the faults and
// (through the virtual clock and the seeded bus and store) the interleaving. A run builds the
// memory world (a day of 2 to 4 races sharing users, workload.ts simRaceDay), ingests each race's
// result, lets virtual time run until nothing is pending, then checks the whole world. The trace
// hash identifies the run: the same seed gives the same hash.
import { createMemoryBus, createMemoryStore, createVirtualClock } from '../backends/memory/index.ts';
import { parseMessage } from '../core/messages.ts';
import { createRng } from '../core/rng.ts';
import { InjectedCrash, type Probe } from '../pipeline/probe.ts';
import { startPipeline } from '../pipeline/runner.ts';
import { formatFanoutVariant, type BrokenBehaviour } from '../pipeline/settings.ts';
import { canonicalJson } from '../core/payout-json.ts';
import type { MessageBus } from '../core/ports.ts';
import { TOPICS } from '../core/topology.ts';
import { checkTerminalWorld } from './check-terminal.ts';
import { checkWorld, type Violation } from './checkers.ts';
import { drawFinalityPlan, loadRejectableUsers, NO_FINALITY_FAULTS, type Republication } from './finality-faults.ts';
import { loadDay, startClient } from './world.ts';
import { expectedWorld } from './expected.ts';
import { drawDoomPlan, drawFaultPlan, simSubscriptions, type DoomPlan, type FaultChoices, type FaultPlan } from './faults.ts';
import { Trace } from './trace.ts';
import { traceBus } from './traced-bus.ts';
import { simRaceDay } from './workload.ts';
import type { RaceDay } from '../scenarios/model.ts';

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
  /** Users of the checked race dead-lettered after their deliveries ran out (DELIVERY.ATTEMPTS_EXHAUSTED). */
  readonly exhaustedUsers: number;
  /** Of those, the ones never settled: left out of the race's ranking. */
  readonly exhaustedLeftOut: number;
  readonly trace?: readonly string[];
}

/** The users holding tickets in the race (the ones its fan-out counts). */
function usersOfRace(day: RaceDay, raceId: string): string[] {
  const users = new Set<string>();
  for (const b of day.ticketBatches()) for (const t of b.tickets) if (t.raceId === raceId) users.add(t.userId);
  return [...users].sort();
}

/** Republished results arrive within this long after the first is recorded (virtual ms). */
const FINALITY_HORIZON_MS = 400;

/** Keeps the text of every message published on `topic` (the ranking publications are counted from it). */
function tapTopic(bus: MessageBus, topic: string, out: string[]): MessageBus {
  return {
    publish: (t, messages) => {
      if (t === topic) for (const m of messages) out.push(m.data);
      return bus.publish(t, messages);
    },
    subscribe: (subscription, handler, options) => bus.subscribe(subscription, handler, options),
    close: () => bus.close(),
  };
}

/** Which valid messages the doom fault sends to the dead letters (the bus forwards them; the checkers expect them there). */
function exhaustedLetter(doom: DoomPlan, named: ReadonlySet<string>): (topic: string, data: string, attributes: Readonly<Record<string, string>>) => boolean {
  return (topic, data, attributes) => {
    // Forwarded by the bus: a letter with the pipeline's own reason is not the doom fault's.
    if (attributes['reason'] !== undefined) return false;
    const m = parseMessage(topic, data);
    if (!m.ok || m.value.message.raceId !== doom.raceId) return false;
    const msg = m.value.message as { readonly userId?: string; readonly userIds?: readonly string[] };
    if (topic === TOPICS.settled) return msg.userId === doom.settledUser;
    if (topic !== TOPICS.settleRequests) return false;
    const users = msg.userIds ?? (msg.userId === undefined ? [] : [msg.userId]);
    return doom.settleUser !== undefined && users.includes(doom.settleUser) && users.every((u) => named.has(u));
  };
}

/** Timers fired at most in one run: a smoke world needs a few thousand; more means livelock. */
const SIM_STEPS_MAX = 2_000_000;

/** A probe that crashes as the plan says; `crashesAt` counts the crashes per probe point. */
export function crashProbe(plan: FaultPlan, seedRng: ReturnType<typeof createRng>, trace: Trace, nowMs: () => number, crashesAt?: Map<string, number>): Probe {
  if (plan.crashPerMille === 0 || plan.crashesMax === 0) return () => {};
  const rng = seedRng.fork('crash');
  let crashes = 0;
  return (point, item) => {
    if (crashes >= plan.crashesMax || rng.int(0, 999) >= plan.crashPerMille) return;
    crashes++;
    crashesAt?.set(point, (crashesAt.get(point) ?? 0) + 1);
    trace.add(`${nowMs()} crash ${point} ${item}`);
    throw new InjectedCrash(point, item);
  };
}

/**
 * The doom fault (faults.ts DoomPlan) over a probe: a doomed message crashes every time it is
 * handled, before the probe's own random crashes are drawn; every user a doomed settle request
 * named is recorded in `named` (they may be left out of the ranking).
 */
export function doomProbe(doom: DoomPlan, inner: Probe, trace: Trace, nowMs: () => number, named: Set<string>): Probe {
  const prefix = `${doom.raceId}/`;
  return (point, item) => {
    // settle.received is the doom fault's point only: random crashes keep their points and draws.
    if (point === 'settle.received') {
      if (doom.settleUser === undefined || !item.startsWith(prefix)) return;
      const users = item.slice(prefix.length, item.lastIndexOf('#')).split(',');
      if (!users.includes(doom.settleUser)) return;
      for (const u of users) named.add(u);
      trace.add(`${nowMs()} doomed ${point} ${item}`);
      throw new InjectedCrash(point, item);
    }
    if (point === 'postSettle.afterBonus' && doom.settledUser !== undefined && item.startsWith(`${prefix}${doom.settledUser}#`)) {
      trace.add(`${nowMs()} doomed ${point} ${item}`);
      throw new InjectedCrash(point, item);
    }
    inner(point, item);
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
  const finality = choices.faults ? drawFinalityPlan(seedRng.fork('finality'), race, FINALITY_HORIZON_MS) : NO_FINALITY_FAULTS;
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
  const notificationsPublished: string[] = [];
  const bus = tapTopic(traceBus(memoryBus, trace, clock), TOPICS.notifications, notificationsPublished);
  const variantText = `${formatFanoutVariant(variants.fanout)}/${variants.notify}/${variants.settlePath ?? 'objects'}`;
  trace.add(`seed ${opts.seed} users ${day.users.length} tickets ${day.ticketCount} variants ${variantText}`);
  trace.add(`faults ${JSON.stringify({ bus: plan.bus, abort: plan.abortProbability, crashPerMille: plan.crashPerMille, crashesMax: plan.crashesMax, restarts: plan.restarts, poison: plan.poison.length, stages: plan.stages })}`);
  trace.add(`finality ${JSON.stringify({ refused: finality.rejectable.map((r) => `${r.account.userId} ${r.ticket.betType} ${r.ticket.combination}`), republished: finality.republications })}`);

  await loadRejectableUsers(store, finality);
  await loadDay(store, day);

  const crashesAt = new Map<string, number>();
  const raceUsers = usersOfRace(day, race.raceId);
  const doom: DoomPlan = choices.faults ? drawDoomPlan(seedRng.fork('doom'), race.raceId, raceUsers, variants) : { raceId: race.raceId };
  trace.add(`doom ${JSON.stringify(doom)}`);
  const doomNamed = new Set<string>();
  const probe = doomProbe(doom, crashProbe(plan, seedRng, trace, clock.nowMs, crashesAt), trace, clock.nowMs, doomNamed);
  const pipeline = startPipeline({ store, bus, clock, variants, probe, stages: plan.stages });
  const client = startClient(bus, clock, { dedupe: opts.clientDedupe ?? true });
  const driverErrors: string[] = [];
  // The day's results arrive in post order, a few virtual ms apart, so races settle side by side
  // and one user's races update the same day progress at once.
  const ingestRng = seedRng.fork('ingest');
  let resultAtMs = 0;
  const ingested = new Map<string, Promise<unknown>>();
  for (const r of day.races) {
    const done = clock
      .sleep(resultAtMs)
      .then(() => pipeline.ingest({ raceId: r.raceId, resultVersion: 1, result: r.result, scratched: r.scratched }))
      .then(
        (res) => (res.ok ? undefined : driverErrors.push(`ingest refused the result of ${r.raceId}: ${res.error.message}`)),
        (e: unknown) => driverErrors.push(`ingest of ${r.raceId} threw: ${String(e)}`),
      );
    ingested.set(r.raceId, done);
    resultAtMs += ingestRng.int(0, 150);
  }
  // The first race's result published again once it is recorded (before that, it would not be the first).
  const republished: { republication: Republication; answer: string }[] = [];
  for (const r of finality.republications) {
    void (ingested.get(race.raceId) as Promise<unknown>)
      .then(() => clock.sleep(r.atMs))
      .then(() => pipeline.ingest({ raceId: race.raceId, resultVersion: r.resultVersion, result: r.result, scratched: race.scratched }))
      .then(
        (answer) => {
          trace.add(`${clock.nowMs()} republish v${r.resultVersion} ${r.conflicting ? 'conflicting' : 'duplicate'} ${answer.ok ? `v${answer.value.resultVersion}` : answer.error.code}`);
          republished.push({ republication: r, answer: answer.ok ? `v${answer.value.resultVersion}` : answer.error.code });
        },
        (e: unknown) => driverErrors.push(`ingest of a republished result threw: ${String(e)}`),
      );
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
  // Users a doomed request named and nothing else settled: left out of the race (checked in check-terminal.ts).
  const settledNow = new Set((await store.readback.settlementMarkers(race.raceId)).map((m) => m.userId));
  const leftOut = new Set([...doomNamed].filter((u) => !settledNow.has(u)));
  const expected = expectedWorld(day, new Set([...leftOut].map((u) => `${race.raceId}/${u}`)));
  const violations: Violation[] = driverErrors.map((message) => ({ checker: 'driver', message }));
  if (!run.idle) violations.push({ checker: 'liveness', message: `still busy after ${run.steps} timer steps at ${run.nowMs} virtual ms` });
  const refusedUsers = new Set(finality.rejectable.map((r) => r.account.userId));
  const exhausted = exhaustedLetter(doom, doomNamed);
  violations.push(...(await checkWorld({ expected, store, bus: memoryBus, client: client.view, poison: plan.poison, handlerErrors: pipeline.errors, refusedUsers, exhausted })));
  violations.push(
    ...(await checkTerminalWorld({
      raceId: race.raceId,
      settledUsers: raceUsers,
      doom: { plan: doom, named: doomNamed },
      plan: finality,
      store,
      deadLetters: (topic) => memoryBus.deadLetters(topic),
      notificationsPublished,
      crashesAfterRankingPublish: crashesAt.get('ranking.afterPublish') ?? 0,
      republished,
      firstResultJson: canonicalJson({ result: race.result, scratched: [...race.scratched].sort((a, b) => a - b) }),
    })),
  );
  for (const v of violations) trace.add(`violation [${v.checker}] ${v.message}`);
  const exhaustedDead = (await store.deadLetteredUsers(race.raceId)).filter((d) => d.reason.startsWith('DELIVERY.ATTEMPTS_EXHAUSTED'));
  const settledAtEnd = new Set((await store.readback.settlementMarkers(race.raceId)).map((m) => m.userId));
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
    exhaustedUsers: exhaustedDead.length,
    exhaustedLeftOut: exhaustedDead.filter((d) => !settledAtEnd.has(d.userId)).length,
    ...(opts.keepTrace === true ? { trace: trace.lines } : {}),
  };
}
