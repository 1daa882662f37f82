// The replay driver: plays a RaceDay against a backend through the ports on a scaled clock.
// Users and races go into the store first; tickets then arrive in their placement pattern (bulk
// loadTickets, or one placeBet each), betting closes, and each result is handed to the pipeline at
// its result time; per-race settlement metrics come from timing the store's settlement commits.
// `speed` is scenario ms per wall ms (144 plays 24 hours in 10 minutes); 0 plays as fast as possible.
import type { Store, UserAccount } from '../core/ports.ts';
import type { Ticket } from '../core/ticket.ts';
import type { RaceDay, RacePlan } from './model.ts';
import type { PipelineConnector, ResultPublisher } from './replay-pipeline.ts';
import type { RunRecord } from '../reports/record/schema.ts';
import { createTracker, finishMetrics, markPublished, timedStore, type RaceMetrics, type RaceTracker } from './replay-metrics.ts';
import { scenarioInstantMs } from './calendar.ts';
import { REPLAY_LIMITS } from './limits.ts';
import { planTicketColumns, stakesByUser, type RaceTicketColumns } from './day-columns.ts';
import { createReplayProgress, defaultProgressMode, type ProgressOptions, type ReplayProgress } from './replay-progress.ts';

export type BetPath = 'load' | 'place';

export interface ReplayOptions {
  readonly day: RaceDay;
  readonly store: Store;
  /** Wires the pipeline over the (timed) store: replay-pipeline.ts pipelineConnector. */
  readonly connect: PipelineConnector;
  readonly speed?: number;
  /** `load` (default): stakes are debited up front and tickets bulk-loaded; `place`: one placeBet per ticket. */
  readonly bets?: BetPath;
  /** After the last result: give up waiting for settlements after this long. */
  readonly settleTimeoutMs?: number;
  /** Progress on stderr: true (default) a bar on a terminal, a line every few seconds elsewhere; false none. */
  readonly progress?: boolean | ProgressOptions;
  /**
   * The store's bulk column load (a memory store's loadTicketColumns, user indexes mapped from the
   * day's). With it, a generated day played as fast as possible loads its tickets as columns
   * (day-columns.ts) instead of Ticket objects.
   */
  readonly loadColumns?: (batch: RaceTicketColumns) => void | Promise<void>;
  /**
   * Each user's stakes of the day by day user index, for the debit before a column load; default
   * one pass of the stream (a caller that walks the stream anyway, like the checkers, passes its own).
   */
  readonly stakes?: (tick: () => void) => { readonly cash: Float64Array; readonly medals: Float64Array };
  /** Each settlement's latency (result published -> committed), as it commits: a run record's settle stage. */
  readonly onSettled?: (latencyMs: number) => void;
  /** Runs once every race is settled, before the pipeline stops: the invariant checkers. */
  readonly check?: (publisher: ResultPublisher) => Promise<readonly InvariantOutcome[]>;
}

/** One checker's verdict (the shape `raceday run` reports for every scenario). */
export interface InvariantOutcome {
  readonly name: string;
  readonly ok: boolean;
  readonly violations: readonly string[];
}

export interface ReplayReport {
  readonly scenario: string;
  readonly seed: number;
  readonly speed: number;
  readonly bets: BetPath;
  readonly tickets: number;
  /** placeBet refusals (balance, closed race); always 0 with `load`. */
  readonly betsRejected: number;
  readonly races: readonly RaceMetrics[];
  readonly racesComplete: number;
  readonly complete: boolean;
  readonly wallSeconds: number;
  readonly scenarioSpanMs: number;
  readonly pipeline: { readonly counters: object; readonly errors: readonly string[] };
  readonly driverErrors: readonly string[];
  /** How tickets went into the store: `columns` (bulk column load) or `objects` (Ticket objects). */
  readonly loadPath: 'columns' | 'objects';
  /** The checkers' verdicts; empty when the replay ran none. */
  readonly invariants: readonly InvariantOutcome[];
  readonly checkMs: number;
  /** The run record of the replay (latencies per interval, timelines), when one was asked for. */
  readonly record?: RunRecord;
}


/** Stakes are debited before a bulk load (loadTickets takes them as already paid): one pass over the tickets. */
function debitedUsers(day: RaceDay): UserAccount[] {
  const staked = new Map<string, { cash: number; medals: number }>();
  for (const b of day.ticketBatches()) {
    for (const t of b.tickets) {
      let s = staked.get(t.userId);
      if (s === undefined) staked.set(t.userId, (s = { cash: 0, medals: 0 }));
      if (t.currency === 'cash') s.cash += t.stake;
      else s.medals += t.stake;
    }
  }
  return day.users.map((u) => {
    const s = staked.get(u.userId);
    return s === undefined ? u : { userId: u.userId, cash: u.cash - s.cash, medals: u.medals - s.medals };
  });
}

interface RaceEvent {
  readonly atMs: number;
  readonly kind: 'close' | 'result';
  readonly race: RacePlan;
}

function raceEvents(day: RaceDay): RaceEvent[] {
  const events: RaceEvent[] = [];
  for (const race of day.races) {
    events.push({ atMs: race.closeAtMs, kind: 'close', race }, { atMs: race.resultAtMs, kind: 'result', race });
  }
  return events.sort((a, b) => a.atMs - b.atMs || (a.kind === b.kind ? 0 : a.kind === 'close' ? -1 : 1));
}

/** The scaled clock: scenario time `t0` is wall time `wall0`; waits are skipped when speed is 0. */
function scaledClock(speed: number, t0: number) {
  const wall0 = performance.now();
  return {
    wallMs: () => performance.now() - wall0,
    scheduledWallMs: (t: number) => (speed > 0 ? (t - t0) / speed : 0),
    scenarioNowMs: () => (speed > 0 ? t0 + (performance.now() - wall0) * speed : Number.POSITIVE_INFINITY),
    async until(t: number): Promise<void> {
      if (speed <= 0) return;
      const waitMs = wall0 + (t - t0) / speed - performance.now();
      if (waitMs >= REPLAY_LIMITS.sleepMinMs) await new Promise((r) => setTimeout(r, waitMs));
    },
  };
}

function progressOf(o: ReplayOptions, trackers: ReadonlyMap<string, RaceTracker>, wallMs: () => number): ReplayProgress {
  const p = o.progress ?? true;
  const options: ProgressOptions = p === true ? { mode: defaultProgressMode() } : p === false ? { mode: 'off' } : p;
  return createReplayProgress(options, o.day, trackers, wallMs);
}

/** Columns need a generated day, a store that loads them, bulk loading, and no pacing (they arrive per race). */
function columnsApply(o: ReplayOptions, speed: number, bets: BetPath): boolean {
  return o.loadColumns !== undefined && o.day.plan !== undefined && speed === 0 && bets === 'load';
}

/** Opening balances less each user's stakes of the day (default: one pass of the column stream). */
function debitedFromColumns(o: ReplayOptions, progress: ReplayProgress): UserAccount[] {
  const day = o.day;
  const staked = o.stakes?.(() => progress.tick(0)) ?? stakesByUser(day.plan as NonNullable<RaceDay['plan']>);
  return day.users.map((u, i) => {
    const cash = staked.cash[i] as number;
    const medals = staked.medals[i] as number;
    return cash === 0 && medals === 0 ? u : { userId: u.userId, cash: u.cash - cash, medals: u.medals - medals };
  });
}

export async function replayRaceDay(o: ReplayOptions): Promise<ReplayReport> {
  const speed = o.speed ?? 0;
  const bets = o.bets ?? 'load';
  const columns = columnsApply(o, speed, bets);
  const trackers = new Map<string, RaceTracker>(o.day.races.map((r) => [r.raceId, createTracker(r)]));
  const driverErrors: string[] = [];
  const fail = (e: unknown) => {
    if (driverErrors.length < REPLAY_LIMITS.driverErrorsKept) driverErrors.push(e instanceof Error ? e.message : String(e));
  };
  const firstMs = Math.min(...o.day.races.map((r) => r.opensAtMs ?? r.closeAtMs));
  const clock = scaledClock(speed, firstMs);
  const progress = progressOf(o, trackers, clock.wallMs);
  progress.phase('preparing', 0);
  const accounts = bets !== 'load' ? o.day.users : columns ? debitedFromColumns(o, progress) : debitedUsers(o.day);
  // In slices, so a day of millions of users shows progress while they go in.
  for (let i = 0; i < accounts.length; i += REPLAY_LIMITS.putUsersSlice) {
    await o.store.putUsers(accounts.slice(i, i + REPLAY_LIMITS.putUsersSlice));
    progress.tick(0);
  }
  progress.phase('loading', 0);
  // The store keeps instants: a race's post time decides the Japan day its missions count on.
  for (const r of o.day.races) await o.store.putRace({ raceId: r.raceId, sport: r.sport, riders: r.riders, closeAtMs: scenarioInstantMs(r.closeAtMs), postAtMs: scenarioInstantMs(r.postAtMs) });
  const publisher = o.connect(timedStore(o.store, trackers, o.onSettled));
  const events = raceEvents(o.day);
  const published: Promise<void>[] = [];
  let next = 0;
  const fireEventsUntil = async (t: number): Promise<void> => {
    for (; next < events.length && (events[next] as RaceEvent).atMs <= t; next++) {
      const e = events[next] as RaceEvent;
      await clock.until(e.atMs);
      if (e.kind === 'close') continue; // bets after close would be the store's to refuse; the generator places none
      const tracker = trackers.get(e.race.raceId) as RaceTracker;
      markPublished(tracker, clock.wallMs(), speed > 0 ? Math.max(0, clock.wallMs() - clock.scheduledWallMs(e.atMs)) : 0);
      published.push(publisher.publish(e.race).catch(fail));
    }
  };
  const loader = createLoader(o.store, bets, trackers, fail);
  if (columns) await loadColumnBatches(o, trackers, loader, fireEventsUntil, progress, fail);
  else await loadObjectBatches(o, clock, loader, fireEventsUntil, progress);
  await fireEventsUntil(Number.POSITIVE_INFINITY);
  await Promise.all(published);
  progress.phase('settling', loader.count());
  const complete = await waitForSettlements(trackers, publisher, o.settleTimeoutMs ?? REPLAY_LIMITS.settleTimeoutMs, () => progress.tick(loader.count()));
  const wallMs = clock.wallMs();
  let invariants: readonly InvariantOutcome[] = [];
  let checkMs = 0;
  if (o.check !== undefined) {
    progress.phase('checking', loader.count());
    const checkStart = performance.now();
    invariants = await o.check(publisher);
    checkMs = Math.round(performance.now() - checkStart);
  }
  progress.done();
  await publisher.stop();
  return { ...report(o, speed, bets, trackers, loader, complete, wallMs, publisher, driverErrors), loadPath: columns ? 'columns' : 'objects', invariants, checkMs };
}

type Loader = ReturnType<typeof createLoader>;

async function loadObjectBatches(o: ReplayOptions, clock: ReturnType<typeof scaledClock>, loader: Loader, fireEventsUntil: (t: number) => Promise<void>, progress: ReplayProgress): Promise<void> {
  for (const batch of o.day.ticketBatches()) {
    let i = 0;
    while (i < batch.tickets.length) {
      const at = batch.placedAtMs[i] as number;
      await fireEventsUntil(at);
      await clock.until(at);
      // Everything due by now on the scaled clock goes in one slice (all of the batch when fast).
      const nowMs = Math.max(at, clock.scenarioNowMs());
      let j = i + 1;
      while (j < batch.tickets.length && j - i < REPLAY_LIMITS.loadSliceMax && (batch.placedAtMs[j] as number) <= nowMs) j++;
      await loader.load(batch.tickets.slice(i, j));
      progress.tick(loader.count());
      i = j;
    }
    await new Promise((r) => setImmediate(r)); // let the pipeline work between batches
  }
}

/**
 * Column batches in stream order: a race's last batch comes at its close, so firing the results
 * due by a batch's time before loading it never publishes a race whose tickets are still coming.
 * Users per race are counted on a bitmap of the day's user indexes, freed when the race is published.
 */
async function loadColumnBatches(
  o: ReplayOptions,
  trackers: ReadonlyMap<string, RaceTracker>,
  loader: Loader,
  fireEventsUntil: (t: number) => Promise<void>,
  progress: ReplayProgress,
  fail: (e: unknown) => void,
): Promise<void> {
  const plan = o.day.plan as NonNullable<RaceDay['plan']>;
  const load = o.loadColumns as NonNullable<ReplayOptions['loadColumns']>;
  const seen = new Map<string, Uint8Array>();
  for (const batch of planTicketColumns(plan)) {
    await fireEventsUntil(batch.atMs);
    const tracker = trackers.get(batch.raceId);
    if (tracker === undefined) throw new Error(`invariant violated: column batch names unknown race ${batch.raceId}`);
    let bits = seen.get(batch.raceId);
    if (bits === undefined) seen.set(batch.raceId, (bits = new Uint8Array((plan.users >>> 3) + 1)));
    const m = tracker.metrics;
    for (let i = 0; i < batch.count; i++) {
      const u = batch.userIdx[i] as number;
      const mask = 1 << (u & 7);
      if (((bits[u >>> 3] as number) & mask) === 0) {
        bits[u >>> 3] = (bits[u >>> 3] as number) | mask;
        m.users++;
      }
      if (batch.currency[i] === 0) m.cashTickets++;
      else m.medalTickets++;
    }
    m.tickets += batch.count;
    if (m.publishedAtWallMs !== null) fail(new Error(`invariant violated: tickets of ${batch.raceId} loaded after its result was published`));
    await Promise.resolve(load(batch)).catch(fail);
    loader.counted(batch.count);
    progress.tick(loader.count());
    // A race's bitmap is done with once its close passed (the batch at close is its last).
    if (batch.atMs >= (o.day.races.find((r) => r.raceId === batch.raceId)?.closeAtMs ?? Infinity)) seen.delete(batch.raceId);
    await new Promise((r) => setImmediate(r)); // let the pipeline work between batches
  }
}

function createLoader(store: Store, bets: BetPath, trackers: ReadonlyMap<string, RaceTracker>, fail: (e: unknown) => void) {
  let loaded = 0;
  let rejected = 0;
  const count = (t: Ticket) => {
    const tr = trackers.get(t.raceId);
    if (tr === undefined) throw new Error(`invariant violated: ticket ${t.ticketId} names unknown race ${t.raceId}`);
    tr.metrics.tickets++;
    if (t.currency === 'cash') tr.metrics.cashTickets++;
    else tr.metrics.medalTickets++;
    if (tr.userSeen !== undefined && !tr.userSeen.has(t.userId)) {
      tr.userSeen.add(t.userId);
      tr.metrics.users++;
    }
  };
  return {
    count: () => loaded,
    rejected: () => rejected,
    /** Tickets loaded by another path (columns), counted in `count`. */
    counted(n: number): void {
      loaded += n;
    },
    async load(tickets: readonly Ticket[]): Promise<void> {
      if (bets === 'load') {
        await store.loadTickets(tickets).catch(fail);
        for (const t of tickets) count(t);
      } else {
        for (const t of tickets) {
          const r = await store.placeBet(t);
          if (r.ok) count(t);
          else rejected++;
        }
      }
      loaded += tickets.length;
    },
  };
}

/** Waits until every race's users are settled and, where the bus can tell, the later stages drained too. */
async function waitForSettlements(trackers: ReadonlyMap<string, RaceTracker>, publisher: ResultPublisher, timeoutMs: number, onPoll: () => void): Promise<boolean> {
  const start = performance.now();
  const all = [...trackers.values()];
  let idlePolls = 0;
  while (performance.now() - start < timeoutMs) {
    const settled = all.every((t) => t.metrics.complete || t.metrics.users === 0);
    idlePolls = settled && (publisher.idle?.() ?? true) ? idlePolls + 1 : 0;
    if (idlePolls >= REPLAY_LIMITS.idlePollsToFinish) return true;
    onPoll();
    await new Promise((r) => setTimeout(r, REPLAY_LIMITS.pollMs));
  }
  return false;
}

function report(
  o: ReplayOptions,
  speed: number,
  bets: BetPath,
  trackers: ReadonlyMap<string, RaceTracker>,
  loader: ReturnType<typeof createLoader>,
  complete: boolean,
  wallMs: number,
  publisher: ResultPublisher,
  driverErrors: string[],
): Omit<ReplayReport, 'loadPath' | 'invariants' | 'checkMs'> {
  const races = [...trackers.values()].map(finishMetrics);
  const first = Math.min(...o.day.races.map((r) => r.opensAtMs ?? r.closeAtMs));
  const last = Math.max(...o.day.races.map((r) => r.resultAtMs));
  return {
    scenario: o.day.name,
    seed: o.day.seed,
    speed,
    bets,
    tickets: loader.count(),
    betsRejected: loader.rejected(),
    races,
    racesComplete: races.filter((r) => r.complete).length,
    complete: complete && driverErrors.length === 0,
    wallSeconds: Math.round(wallMs) / 1000,
    scenarioSpanMs: last - first,
    pipeline: publisher.summary(),
    driverErrors,
  };
}
