// `replayOnMemory`: a generated day replayed on the embedded backend (memory store and bus, real
// clock) through the pipeline, then checked: what `raceday run --scenario typical-day` calls.
// It runs the configuration `raceday bench memory` measures (the columnar settle path, 8 workers
// x 256 in flight per stage, tickets bulk-loaded as columns), so what users run is what the bench
// measures; a notification client acks the gateway, and the checkers (replay-check.ts) run last.
import { createMemoryBus, createMemoryStore, createRealClock, type MemoryStore } from '../backends/memory/index.ts';
import { SUBSCRIPTIONS, TOPICS } from '../core/topology.ts';
import type { PipelineOptions, StageOptions } from '../pipeline/runner.ts';
import { DEFAULT_VARIANTS } from '../pipeline/settings.ts';
import type { RaceTicketColumns } from './day-columns.ts';
import { buildRaceDay } from './raceday.ts';
import { checkReplay, dayUserIndexer, expectDay, type DayExpectation } from './replay-check.ts';
import { startNotificationTally } from './replay-notifications.ts';
import type { ProgressOptions } from './replay-progress.ts';
import { replayRaceDay, type BetPath, type ReplayReport } from './replay.ts';
import { RunRecorder } from '../reports/record/recorder.ts';
import type { RunRecord } from '../reports/record/schema.ts';
import { pipelineConnector } from './replay-pipeline.ts';
import type { RaceDay } from './model.ts';
import type { ScenarioSpec } from './spec.ts';

type PipelineChoice = Omit<PipelineOptions, 'store' | 'bus' | 'clock'>;

/** Per stage: `raceday bench memory`'s defaults (8 x 256); the runner's own 4 x 16 leave the cores idle. */
const REPLAY_STAGE: Partial<StageOptions> = { workers: 8, maxInFlight: 256 };

/** The pipeline a replay runs unless told otherwise: the benched configuration. */
export const REPLAY_PIPELINE_DEFAULTS: PipelineChoice = {
  variants: { ...DEFAULT_VARIANTS, settlePath: 'columns' },
  stages: { settle: REPLAY_STAGE, postSettle: REPLAY_STAGE, notify: REPLAY_STAGE },
};

/** A race with more tickets than this is fanned out USERS_PER_SETTLE_REQUEST users a message. */
const BATCHED_FANOUT_TICKETS = 1_000_000;
const USERS_PER_SETTLE_REQUEST = 100;
/**
 * Settle stage for batched requests: 8 x 256 requests of 100 users would hold the whole race in
 * flight and let settled messages pile up ahead of post-settle. 4 x 2 (800 users in flight) keeps
 * the stages in step: at a tenth of the grand prix it peaked at 446 MB against 569 MB, with less CPU.
 */
const BATCHED_SETTLE_STAGE: Partial<StageOptions> = { workers: 4, maxInFlight: 2 };

/**
 * The defaults, sized to the day: a race of millions of tickets (the grand prix: 1.6 million users)
 * is fanned out 100 users a settle request, which measured 17% less CPU per user in "raceday bench
 * memory --fanout user-batch:100" and keeps a million settle requests from queueing at once, with
 * fewer requests in flight (BATCHED_SETTLE_STAGE); smaller days keep one request per user (the
 * reference design).
 */
export function replayPipelineFor(day: RaceDay): PipelineChoice {
  const biggest = Math.max(0, ...day.races.map((r) => r.ticketCount ?? 0));
  if (biggest <= BATCHED_FANOUT_TICKETS) return REPLAY_PIPELINE_DEFAULTS;
  return {
    variants: { ...DEFAULT_VARIANTS, settlePath: 'columns', fanout: { kind: 'user-batch', usersPerMessage: USERS_PER_SETTLE_REQUEST } },
    stages: { ...REPLAY_PIPELINE_DEFAULTS.stages, settle: BATCHED_SETTLE_STAGE },
  };
}

export interface MemoryReplayOptions {
  readonly spec: ScenarioSpec;
  readonly seed: number;
  readonly speed?: number;
  readonly bets?: BetPath;
  readonly progress?: boolean | ProgressOptions;
  readonly settleTimeoutMs?: number;
  readonly pipeline?: PipelineChoice;
  /** Run the checkers after the last settlement (default true). */
  readonly check?: boolean;
  /** Wraps the store the pipeline sees (tests: a store that pays wrong must be caught). */
  readonly wrapStore?: (store: MemoryStore) => MemoryStore;
  /** Build a run record (settle latencies per interval, backlog and throughput timelines): report.record. */
  readonly record?: boolean;
}

/** The store's bulk column load, user indexes mapped from the day's to the store's on first use. */
function columnLoader(store: MemoryStore, day: RaceDay): (batch: RaceTicketColumns) => void {
  let storeIndex: Uint32Array | undefined;
  return (batch) => {
    if (storeIndex === undefined) {
      const users = day.users;
      storeIndex = new Uint32Array(users.length);
      for (let i = 0; i < users.length; i++) {
        const s = store.userIndexOf((users[i] as (typeof users)[number]).userId);
        if (s < 0) throw new Error(`invariant violated: user ${users[i]?.userId} was not put before its tickets`);
        storeIndex[i] = s;
      }
    }
    for (let i = 0; i < batch.count; i++) batch.userIdx[i] = storeIndex[batch.userIdx[i] as number] as number;
    store.loadTicketColumns(batch);
  };
}

/** Notifications still queued for the gateway would read as missing: the checkers wait them out (bounded). */
async function gatewayDrained(bus: ReturnType<typeof createMemoryBus>): Promise<void> {
  const until = performance.now() + GATEWAY_DRAIN_MAX_MS;
  while (bus.subscriptionStats(SUBSCRIPTIONS.gateway.name).backlog > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, GATEWAY_POLL_MS));
}

const GATEWAY_POLL_MS = 10;
/** Past this the checkers run anyway and report what never arrived. */
const GATEWAY_DRAIN_MAX_MS = 60_000;

export async function replayOnMemory(o: MemoryReplayOptions): Promise<ReplayReport> {
  const clock = createRealClock();
  const day = buildRaceDay(o.spec, o.seed);
  // Ledger totals only: a full ledger log of millions of tickets is for checkers, not for load.
  const base = createMemoryStore({ clock, ledgerLog: false, notificationLog: false, capacityTickets: day.ticketCount });
  const store = o.wrapStore?.(base) ?? base;
  const bus = createMemoryBus({ clock });
  const plan = day.plan;
  const notifications = plan === undefined ? undefined : startNotificationTally(bus, day.races.map((r) => r.raceId), plan.users, dayUserIndexer(plan));
  const checking = o.check !== false && notifications !== undefined;
  // The checkers' walk of the stream (what the store should hold) also gives the stakes to debit.
  let expectation: DayExpectation | undefined;
  const expect = (tick?: () => void): DayExpectation => (expectation ??= expectDay(day, tick));
  const deadLetters = (): number => [TOPICS.raceResults, TOPICS.settleRequests, TOPICS.settled, TOPICS.notifications].reduce((n, t) => n + bus.deadLetters(t).length, 0);
  const recording = o.record === true ? recordReplay(o, bus) : undefined;
  try {
    const report = await replayRaceDay({
      day,
      store,
      ...(recording === undefined ? {} : { onSettled: recording.settled }),
      connect: pipelineConnector(bus, clock, o.pipeline ?? replayPipelineFor(day)),
      loadColumns: columnLoader(base, day),
      ...(checking ? { stakes: (tick) => {
              const e = expect(tick);
              return { cash: e.stakedCash, medals: e.stakedMedals };
            } } : {}),
      ...(o.speed !== undefined ? { speed: o.speed } : {}),
      ...(o.bets !== undefined ? { bets: o.bets } : {}),
      ...(o.progress !== undefined ? { progress: o.progress } : {}),
      ...(o.settleTimeoutMs !== undefined ? { settleTimeoutMs: o.settleTimeoutMs } : {}),
      ...(!checking || notifications === undefined
        ? {}
        : {
            check: async (publisher) => {
              await gatewayDrained(bus);
              return checkReplay({ day, store, notifications, errors: publisher.summary().errors, idle: publisher.idle?.(), deadLetters: deadLetters(), expectation: expect() });
            },
          }),
    });
    return recording === undefined ? report : { ...report, record: recording.stop(report.complete && report.invariants.every((i) => i.ok)) };
  } finally {
    recording?.cancel();
    await notifications?.stop();
    await bus.close();
    await store.close();
  }
}

/** Every this long the replay's record samples backlogs and the settlement rate. */
const RECORD_SAMPLE_MS = 1_000;

/** A run recorder for a replay: settle latencies as they commit, each subscription's backlog and oldest unacked age, settlements per second. */
function recordReplay(o: MemoryReplayOptions, bus: ReturnType<typeof createMemoryBus>) {
  const rec = new RunRecorder({ command: 'run', argv: [], scenario: o.spec.name, backend: 'memory', seed: o.seed, configuration: { speed: o.speed ?? 0, bets: o.bets ?? 'load' } });
  rec.start();
  rec.describeStage('settle', "the race's result published -> the user's settlement committed");
  rec.defineSeries('settled-per-s', 'throughput', 'settlements/s');
  let settled = 0;
  let lastSettled = 0;
  const sample = (): void => {
    rec.point('settled-per-s', ((settled - lastSettled) * 1000) / RECORD_SAMPLE_MS);
    lastSettled = settled;
    for (const s of bus.stats().subscriptions) {
      rec.defineSeries(`backlog-${s.subscription}`, 'backlog', 'messages');
      rec.point(`backlog-${s.subscription}`, s.backlog);
      rec.defineSeries(`oldest-unacked-age-${s.subscription}`, 'oldest-unacked-age', 'ms');
      rec.point(`oldest-unacked-age-${s.subscription}`, s.oldestUnackedAgeMs);
    }
  };
  const timer = setInterval(sample, RECORD_SAMPLE_MS);
  timer.unref();
  return {
    settled(latencyMs: number): void {
      settled++;
      rec.recordLatency('settle', latencyMs);
    },
    stop(ok: boolean): RunRecord {
      clearInterval(timer);
      return rec.stop(ok);
    },
    cancel: () => clearInterval(timer),
  };
}
