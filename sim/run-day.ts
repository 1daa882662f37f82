// One race day end to end on any backend, in real time: load users and tickets, publish the
// result, run the pipeline's workers until nothing is outstanding, then check every invariant of
// the simulator's checkers against the store's final state (read back through its client) and
// the bus. `raceday run` uses it for the memory backend and for the emulators alike: one
// mechanism, several backends.
import { rankingNotificationId, type LeftOut } from '../core/notification.ts';
import type { Clock, MessageBus, Store } from '../core/ports.ts';
import { RANKING_BROADCAST_USER } from '../pipeline/ranking.ts';
import type { PipelineVariants } from '../pipeline/settings.ts';
import type { RaceDay } from '../scenarios/model.ts';
import { CHECKERS, checkWorld, type BusView } from './checkers.ts';
import { expectedWorld } from './expected.ts';
import { runRealtime, type RealtimeResult } from './realtime.ts';
import { loadDay } from './world.ts';

export interface DayBackend {
  readonly store: Store;
  readonly bus: MessageBus & { isIdle(): boolean };
  readonly view: BusView;
  readonly clock: Clock;
  /** Called on every idle poll of the run (backlog sampling). */
  readonly sample?: () => void;
}

export interface RunDayOptions {
  readonly day: RaceDay;
  readonly backend: DayBackend;
  readonly variants: PipelineVariants;
  readonly workers: number;
  readonly maxInFlight: number;
  /** Ack deadline of the settle, post-settle and notify subscriptions (default: the topology's). */
  readonly ackDeadlineMs?: number;
  readonly timeoutMs: number;
  /** Where the run is: loading (users), settling (settlements of the users), checking. */
  readonly progress?: (phase: 'loading' | 'settling' | 'checking', done: number, total: number | undefined) => void;
}

export interface InvariantResult {
  readonly name: string;
  readonly ok: boolean;
  readonly violations: readonly string[];
}

export interface RunDayResult {
  readonly realtime: RealtimeResult;
  /** Loading users, the race and its tickets into the store. */
  readonly loadMs: number;
  /** Reading the final state back and running the checkers. */
  readonly checkMs: number;
  /** Tickets loaded into the store (every ticket of the race). */
  readonly ticketsLoaded: number;
  /** Tickets the store holds as settled after the run, counted by reading them back. */
  readonly settledTickets: number;
  /** Users with tickets (each must be settled once). */
  readonly usersWithTickets: number;
  /** Each race's ranking as the client was shown it: how many users it left out and why. */
  readonly rankings: readonly RaceRanking[];
  readonly invariants: readonly InvariantResult[];
  readonly ok: boolean;
}

export interface RaceRanking {
  readonly raceId: string;
  /** The ranking reached the client. */
  readonly shown: boolean;
  /** Users dead-lettered and never settled, counted per reason code (none: `{ users: 0, reasons: {} }`). */
  readonly leftOut: LeftOut;
}

/** The ranking each race's broadcast carried, read from what the client showed. */
export function rankingsShown(raceIds: readonly string[], shown: RunDayResult['realtime']['client']['view']['shown']): RaceRanking[] {
  return raceIds.map((raceId) => {
    const n = shown.get(rankingNotificationId(raceId, RANKING_BROADCAST_USER));
    const payload = n?.payload.kind === 'ranking' ? n.payload : undefined;
    return { raceId, shown: payload !== undefined, leftOut: payload?.leftOut ?? { users: 0, reasons: {} } };
  });
}

async function countSettled(store: Store, raceId: string): Promise<number> {
  const rb = store.readback;
  if (rb === undefined) throw new Error('invariant violated: runDay needs a Store with read-backs');
  let n = 0;
  for await (const t of rb.ticketsOfRace(raceId)) if (t.status !== 'open') n++;
  return n;
}

export async function runDay(o: RunDayOptions): Promise<RunDayResult> {
  const { day, backend } = o;
  const race = day.races[0];
  if (race === undefined) throw new Error('invariant violated: a race day to run has a race');
  const loadStart = performance.now();
  o.progress?.('loading', 0, day.users.length);
  await loadDay(backend.store, day);
  const loadMs = Math.round(performance.now() - loadStart);
  const stage = { workers: o.workers, maxInFlight: o.maxInFlight, ...(o.ackDeadlineMs === undefined ? {} : { ackDeadlineMs: o.ackDeadlineMs }) };
  const realtime = await runRealtime({
    store: backend.store,
    bus: backend.bus,
    clock: backend.clock,
    pipeline: { variants: o.variants, stages: { settle: stage, postSettle: stage, notify: stage } },
    result: { raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched },
    keepNotifications: true,
    timeoutMs: o.timeoutMs,
    onPoll: (settled) => {
      backend.sample?.();
      o.progress?.('settling', settled, day.users.length);
    },
  });
  o.progress?.('checking', 0, undefined);
  const checkStart = performance.now();
  const settledTickets = await countSettled(backend.store, race.raceId);
  const expected = expectedWorld(day);
  const violations = await checkWorld({ expected, store: backend.store, bus: backend.view, client: realtime.client.view, poison: [], handlerErrors: realtime.errors });
  if (realtime.timedOut) violations.push({ checker: 'nothing-unacked', message: `the pipeline was still busy after ${o.timeoutMs} ms` });
  const invariants = CHECKERS.map((name) => {
    const found = violations.filter((v) => v.checker === name);
    return { name, ok: found.length === 0, violations: found.map((v) => v.message) };
  });
  return {
    realtime,
    loadMs,
    checkMs: Math.round(performance.now() - checkStart),
    ticketsLoaded: day.ticketCount,
    settledTickets,
    usersWithTickets: expected.accounts.size,
    rankings: rankingsShown([race.raceId], realtime.client.view.shown),
    invariants,
    ok: invariants.every((i) => i.ok),
  };
}
