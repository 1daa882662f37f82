// A race day on a fleet of processes: provision a fresh emulator project, load the smoke day
// (`raceday run --backend emulators`'s), start the fleet on it, post each race's official result
// to the ingest process, wait until every race's ranking was shown and the fleet went quiet, then
// check every invariant of the simulator's checkers against Spanner's final state (read back
// through its client), the dead-letter topics and the notifications this process received.
//
// When is a day over? No single process sees the whole bus, so "nothing outstanding" is shown in
// two steps. (1) Quiet: every ranking was shown, no member handles or holds a delivery, and no
// delivery happened anywhere for `quietMs` (after a SIGKILL: longer than one ack deadline, the
// time a dead process's messages take to come back). (2) The sweep: once the fleet stopped, this
// process subscribes to every stage's subscription for a moment; whatever it receives was left
// unacked (the checkers' nothing-unacked), and is given back.
//
// onPhase lets a caller act on the fleet mid-day (kill a settle worker during settlement, roll
// the post-settle role at the barrier): it is called once per phase as the day enters it.
import { createRng } from '../core/rng.ts';
import { DEAD_LETTER_ATTRIBUTES, DEAD_LETTER_INTAKE, SUBSCRIPTIONS, TOPICS } from '../core/topology.ts';
import type { OfficialResult } from '../pipeline/ingest.ts';
import { CHECKERS, checkWorld, type BusView } from '../sim/checkers.ts';
import { expectedWorld } from '../sim/expected.ts';
import type { EmulatorHandle } from '../emulators/index.ts';
import { openBackend, type OpenedBackend } from '../sim/open-backend.ts';
import { rankingsShown } from '../sim/run-day.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import { loadDay, startClient, type Client } from '../sim/world.ts';
import type { RaceDay } from '../scenarios/model.ts';
import type { FleetRole } from './contracts.ts';
import { startFleet, type FleetActivity, type FleetFigures, type FleetOptions, type ProcessFleet } from './fleet.ts';
import { WORKER_DEFAULTS } from './worker.ts';

export type DayPhase = 'fanout' | 'settle' | 'barrier' | 'notify' | 'idle';

/** A small fleet: one process per role, two settle processes (so one can die while the other works). */
export const FLEET_DAY_COUNTS: Readonly<Partial<Record<FleetRole, number>>> = { ingest: 1, fanout: 1, settle: 2, 'post-settle': 1, notify: 1, 'dead-letters': 1 };

export const FLEET_DAY_DEFAULTS = {
  users: 300,
  timeoutMs: 180_000,
  pollMs: 100,
  /** Quiet needed to end a day nothing killed (graceful restarts give their messages back at once). */
  quietMs: 1_500,
  /** The sweep listens this long on every stage subscription. */
  sweepMs: 2_500,
} as const;

export interface FleetDayOptions {
  readonly users?: number;
  readonly seed?: number;
  readonly spannerShards?: number;
  readonly counts?: Partial<Record<FleetRole, number>>;
  readonly workers?: number;
  readonly maxInFlight?: number;
  readonly ackDeadlineMs?: number;
  /** More arguments per role (FleetOptions.args). */
  readonly args?: FleetOptions['args'];
  /** The members' environment on top of the emulator hosts this day uses (a proxy's hosts). */
  readonly env?: Readonly<Record<string, string>>;
  readonly envOf?: FleetOptions['envOf'];
  readonly timeoutMs?: number;
  /**
   * The emulators to provision the day's project on (default: started or reused here). A caller
   * that put proxies in front of a pair must pass that pair, or the project could land on another.
   */
  readonly emulators?: EmulatorHandle;
  /** Quiet that ends the day (default: 1.5 s; after a SIGKILL or crash, ack deadline + 3 s). */
  readonly quietMs?: number;
  /** Awaited once the fleet is ready, before the results are posted (arm a death with fleet.killAt here). */
  readonly beforeResults?: (fleet: ProcessFleet) => Promise<void> | void;
  /** Called once per phase as the day enters it; may act on the fleet (not awaited). */
  readonly onPhase?: (phase: DayPhase, fleet: ProcessFleet) => void;
  /** Called on every poll with where the day is. */
  readonly onPoll?: (state: DayState, fleet: ProcessFleet) => void;
  readonly log?: (line: string) => void;
}

export interface DayState {
  readonly phase: DayPhase;
  readonly settlementsApplied: number;
  readonly rankingsShown: number;
  readonly notificationsShown: number;
  readonly elapsedMs: number;
}

export interface FleetDayResult {
  readonly ok: boolean;
  /** `checker: message`, every violation found (a timeout included). */
  readonly violations: readonly string[];
  readonly invariants: readonly { readonly name: string; readonly ok: boolean; readonly violations: readonly string[] }[];
  readonly projectId: string;
  readonly users: number;
  readonly usersWithTickets: number;
  readonly tickets: number;
  /** Users with a settlement marker, read back from Spanner. */
  readonly settledUsers: number;
  /** Users whose marker says their settlement was applied once (a store that counts applications; else every marker). */
  readonly settledExactlyOnce: number;
  /** Users with tickets and no settlement, not dead-lettered: lost. */
  readonly lost: number;
  /** Users whose settlement was applied more than once. */
  readonly doubled: number;
  readonly settledTickets: number;
  /** Dead letters per reason code, over every topic. */
  readonly deadLettered: Readonly<Record<string, number>>;
  /** Messages the sweep found unacked, per subscription (empty when none). */
  readonly leftUnacked: Readonly<Record<string, number>>;
  readonly timedOut: boolean;
  readonly wallMs: number;
  readonly phasesMs: { readonly open: number; readonly load: number; readonly fleetStart: number; readonly day: number; readonly quiet: number; readonly sweep: number; readonly check: number };
  /** Results posted -> every ranking shown. */
  readonly rankingMakespanMs: number | null;
  readonly fleet: FleetFigures;
  readonly activity: FleetActivity;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class ResultRefused extends Error {}

/** Posts one result to whichever ingest member is up, again until it answers (ingest is idempotent). */
async function postResult(fleet: ProcessFleet, result: OfficialResult, deadlineMs: number): Promise<void> {
  let lastError = 'no ingest member ready';
  while (Date.now() < deadlineMs) {
    const url = fleet.ingestUrl();
    if (url !== undefined) {
      try {
        const res = await fetch(`${url}/results`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(result), signal: AbortSignal.timeout(10_000) });
        const body = (await res.json()) as { ok: boolean; error?: { code: string; message: string } };
        if (res.status === 200 && body.ok) return;
        if (res.status === 400 || res.status === 422) throw new ResultRefused(`ingest refused ${result.raceId}: ${body.error?.code}: ${body.error?.message}`);
        lastError = `HTTP ${res.status} ${body.error?.code ?? ''}`;
      } catch (e) {
        if (e instanceof ResultRefused) throw e;
        lastError = (e as Error).message; // killed mid-request, restarting: post again
      }
    }
    await sleep(200);
  }
  throw new Error(`the result of ${result.raceId} could not be posted: ${lastError}`);
}

function phaseOf(day: RaceDay, usersWithTickets: number, a: FleetActivity, rankings: number, notifications: number): DayPhase {
  // A killed process's last counts may miss a commit it made; a user notified was settled.
  const settled = Math.max(a.counters['settlementsApplied'] ?? 0, notifications);
  if (settled === 0) return 'fanout';
  if (settled < usersWithTickets) return 'settle';
  if (rankings < day.races.length) return 'barrier';
  if (notifications < usersWithTickets) return 'notify';
  return 'idle';
}

/** Listens on every stage subscription for `ms`: what arrives now was left unacked. Gives it back. */
async function sweep(backend: OpenedBackend, ms: number): Promise<Record<string, number>> {
  const specs = [SUBSCRIPTIONS.fanOut, SUBSCRIPTIONS.settle, SUBSCRIPTIONS.postSettle, SUBSCRIPTIONS.notify, DEAD_LETTER_INTAKE.settleRequests, DEAD_LETTER_INTAKE.settled];
  const found = new Map<string, Set<string>>();
  const handles = specs.map((spec) =>
    backend.bus.subscribe(
      spec.name,
      async (d) => {
        let ids = found.get(spec.name);
        if (ids === undefined) found.set(spec.name, (ids = new Set()));
        ids.add(d.messageId);
        d.nack();
      },
      { maxInFlight: 64, ackDeadlineMs: 10_000 },
    ),
  );
  await sleep(ms);
  await Promise.all(handles.map((h) => h.close()));
  return Object.fromEntries([...found].map(([name, ids]) => [name, ids.size]));
}

/** The checkers' view of the bus: the sweep's leftovers as backlog, the dead letters the audit subscriptions saw. */
function busViewOf(backend: OpenedBackend, left: Readonly<Record<string, number>>): BusView {
  const topicOf = new Map([SUBSCRIPTIONS.fanOut, SUBSCRIPTIONS.settle, SUBSCRIPTIONS.postSettle, SUBSCRIPTIONS.notify, DEAD_LETTER_INTAKE.settleRequests, DEAD_LETTER_INTAKE.settled].map((s) => [s.name, s.topic]));
  return {
    isIdle: () => Object.values(left).every((n) => n === 0),
    stats: () => ({ subscriptions: Object.entries(left).map(([subscription, backlog]) => ({ subscription, topic: topicOf.get(subscription) ?? '', backlog })) }),
    deadLetters: (topic) => backend.view.deadLetters(topic),
  };
}

function deadLetteredOf(backend: OpenedBackend): Record<string, number> {
  const out: Record<string, number> = {};
  for (const topic of Object.values(TOPICS)) {
    for (const dl of backend.view.deadLetters(topic)) {
      const reason = (dl.attributes['reason'] ?? dl.attributes[DEAD_LETTER_ATTRIBUTES.reason] ?? 'unknown').split(':')[0] as string;
      out[reason] = (out[reason] ?? 0) + 1;
    }
  }
  return out;
}

interface Waited {
  readonly timedOut: boolean;
  readonly rankingAtMs: number | null;
  readonly quietMs: number;
}

/** Polls until every ranking was shown and the fleet stayed quiet long enough; calls onPhase on each new phase. */
async function untilDone(o: FleetDayOptions, day: RaceDay, usersWithTickets: number, fleet: ProcessFleet, client: Client, postedAt: number, deadlineMs: number): Promise<Waited> {
  const seen = new Set<DayPhase>();
  let signature = -1;
  let lastChangeMs = Date.now();
  let rankingAtMs: number | null = null;
  const ackDeadlineMs = o.ackDeadlineMs ?? WORKER_DEFAULTS.ackDeadlineMs;
  for (;;) {
    const a = fleet.activity();
    const rankings = rankingsShown(day.races.map((r) => r.raceId), client.view.shown).filter((r) => r.shown).length;
    const notifications = [...client.view.shown.values()].filter((n) => n.payload.kind !== 'ranking').length;
    const phase = phaseOf(day, usersWithTickets, a, rankings, notifications);
    if (!seen.has(phase)) {
      seen.add(phase);
      o.log?.(`fleet day: phase ${phase} at ${Date.now() - postedAt} ms`);
      o.onPhase?.(phase, fleet);
    }
    o.onPoll?.({ phase, settlementsApplied: a.counters['settlementsApplied'] ?? 0, rankingsShown: rankings, notificationsShown: notifications, elapsedMs: Date.now() - postedAt }, fleet);
    if (rankings === day.races.length && rankingAtMs === null) rankingAtMs = Date.now() - postedAt;
    const sig = a.delivered + client.view.shown.size + [...client.view.delivered.values()].reduce((n, d) => n + d.times, 0);
    if (sig !== signature || a.busy > 0) {
      signature = sig;
      lastChangeMs = Date.now();
    }
    const f = fleet.figures();
    const hard = f.kills + f.crashes + f.undrainedStops > 0;
    const needQuiet = o.quietMs ?? (hard ? ackDeadlineMs + 3_000 : FLEET_DAY_DEFAULTS.quietMs);
    // A member started after a kill: its predecessor's messages come back one ack deadline after the kill.
    const since = Math.max(lastChangeMs, ...fleet.members().map((m) => m.startedAtMs));
    if (rankings === day.races.length && Date.now() - since >= needQuiet) {
      return { timedOut: false, rankingAtMs, quietMs: Date.now() - (rankingAtMs ?? 0) - postedAt };
    }
    if (Date.now() > deadlineMs) return { timedOut: true, rankingAtMs, quietMs: 0 };
    await sleep(FLEET_DAY_DEFAULTS.pollMs);
  }
}

export async function runDayOnFleet(o: FleetDayOptions = {}): Promise<FleetDayResult> {
  const wall = Date.now();
  const log = o.log ?? (() => undefined);
  const users = o.users ?? FLEET_DAY_DEFAULTS.users;
  const seed = o.seed ?? 1;
  const spannerShards = o.spannerShards ?? 1;
  const backend = await openBackend('emulators', { spannerShards, log, ...(o.emulators === undefined ? {} : { emulators: o.emulators }) });
  let fleet: ProcessFleet | undefined;
  let client: Client | undefined;
  try {
    const projectId = String(backend.where['projectId']);
    const tOpen = Date.now();
    const day = smokeRaceDay(seed, createRng(`raceday-run/smoke/${seed}`).fork('workload'), { usersMin: users, usersMax: users, ticketsPerUserMax: 4, stakeUnitsMax: 10 });
    await loadDay(backend.store, day);
    const expected = expectedWorld(day);
    const usersWithTickets = expected.accounts.size;
    const tLoad = Date.now();
    const env = { PUBSUB_EMULATOR_HOST: String(backend.where['pubsubHost']), SPANNER_EMULATOR_HOST: String(backend.where['spannerHost']), ...o.env };
    fleet = await startFleet({
      projectId,
      spannerShards,
      counts: o.counts ?? FLEET_DAY_COUNTS,
      env,
      log,
      ...(o.envOf === undefined ? {} : { envOf: o.envOf }),
      ...(o.workers === undefined ? {} : { workers: o.workers }),
      ...(o.maxInFlight === undefined ? {} : { maxInFlight: o.maxInFlight }),
      ...(o.ackDeadlineMs === undefined ? {} : { ackDeadlineMs: o.ackDeadlineMs }),
      ...(o.args === undefined ? {} : { args: o.args }),
    });
    client = startClient(backend.bus, backend.clock, { keep: true, validate: true });
    const tFleet = Date.now();
    const deadlineMs = tFleet + (o.timeoutMs ?? FLEET_DAY_DEFAULTS.timeoutMs);
    await o.beforeResults?.(fleet);
    for (const race of day.races) await postResult(fleet, { raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched }, deadlineMs);
    const waited = await untilDone(o, day, usersWithTickets, fleet, client, tFleet, deadlineMs);
    const tDay = Date.now();
    await fleet.stop();
    const activity = fleet.activity();
    const left = await sweep(backend, FLEET_DAY_DEFAULTS.sweepMs);
    const tSweep = Date.now();
    await client.handle.close();
    const violations = await checkWorld({ expected, store: backend.store, bus: busViewOf(backend, left), client: client.view, poison: [], handlerErrors: activity.errors });
    if (waited.timedOut) violations.push({ checker: 'nothing-unacked', message: `the day was not over after ${o.timeoutMs ?? FLEET_DAY_DEFAULTS.timeoutMs} ms` });
    const rb = backend.store.readback;
    if (rb === undefined) throw new Error('invariant violated: the Spanner store has read-backs');
    let settledUsers = 0;
    let settledTickets = 0;
    let doubled = 0;
    let lost = 0;
    const deadLetteredUsers = new Set(Object.values(TOPICS).flatMap((t) => backend.view.deadLetters(t).map((dl) => dl.attributes['userId'] ?? '')));
    for (const race of expected.races) {
      const markers = await rb.settlementMarkers(race.race.raceId);
      const marked = new Set(markers.map((m) => m.userId));
      settledUsers += markers.length;
      doubled += markers.filter((m) => (m.applications ?? 1) > 1).length;
      for (const u of race.users.keys()) if (!marked.has(u) && !deadLetteredUsers.has(u)) lost++;
      for await (const t of rb.ticketsOfRace(race.race.raceId)) if (t.status !== 'open') settledTickets++;
    }
    const invariants = CHECKERS.map((name) => {
      const found = violations.filter((v) => v.checker === name);
      return { name, ok: found.length === 0, violations: found.map((v) => v.message) };
    });
    const done = Date.now();
    return {
      ok: violations.length === 0,
      violations: violations.map((v) => `${v.checker}: ${v.message}`),
      invariants,
      projectId,
      users: day.users.length,
      usersWithTickets,
      tickets: day.ticketCount,
      settledUsers,
      settledExactlyOnce: settledUsers - doubled,
      lost,
      doubled,
      settledTickets,
      deadLettered: deadLetteredOf(backend),
      leftUnacked: left,
      timedOut: waited.timedOut,
      wallMs: done - wall,
      phasesMs: { open: tOpen - wall, load: tLoad - tOpen, fleetStart: tFleet - tLoad, day: tDay - tFleet, quiet: waited.quietMs, sweep: tSweep - tDay, check: done - tSweep },
      rankingMakespanMs: waited.rankingAtMs,
      fleet: fleet.figures(),
      activity,
    };
  } finally {
    await fleet?.stop().catch(() => undefined);
    await client?.handle.close().catch(() => undefined);
    await backend.close();
  }
}
