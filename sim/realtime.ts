// Drives one race through the pipeline in real time (memory or emulator backend) and measures it:
// settle latency per user (result published -> that user's settlement committed) in an HDR
// histogram, the makespan (-> last settlement, -> last notification shown), and the pipeline's
// counters. Shared by `raceday run` and the benches.
//
// Every figure starts at the result's publication (the outcome's publishedAtMs, the origin
// docs/architecture.md gives the metrics), not when the runner called ingest: ingest first reads the race's
// cash pools and computes the payout table, which is reported apart as ingestMs (0.3-0.7 s of a
// 10,000-user race on the emulator, where it used to be counted in the makespan). Recording the
// outcome and publishing come after the publication time is stamped, so they stay in the figures.
import { createLatencyHistogram, percentilesOf, type Percentiles } from '../reports/latency.ts';
import type { Clock, MessageBus, Store } from '../core/ports.ts';
import type { PipelineCounters } from '../pipeline/context.ts';
import type { OfficialResult } from '../pipeline/ingest.ts';
import { startPipeline, type PipelineOptions } from '../pipeline/runner.ts';
import { RANKING_BROADCAST_USER } from '../pipeline/ranking.ts';
import { reportTimeline } from './record-run.ts';
import { startClient, type Client } from './world.ts';

export type { Percentiles };

export interface RealtimeResult {
  readonly settledUsers: number;
  /** Runner's call -> the publication time stamped: reading the race and its cash pools, computing the payout table. */
  readonly ingestMs: number;
  /** Race result published -> last settlement committed. */
  readonly makespanMs: number;
  /** Race result published -> last user's own notification shown by the client. */
  readonly notifyMakespanMs: number;
  /** Race result published -> the day ranking shown (it waits for every user's post-settle: the barrier). */
  readonly rankingMakespanMs: number;
  readonly settleLatencyMs: Percentiles;
  readonly counters: PipelineCounters;
  readonly errors: readonly string[];
  readonly client: Client;
  readonly timedOut: boolean;
  /** The raw times behind the figures, for a run record: no second measurement. */
  readonly timeline: RealtimeTimeline;
}

/** Times in ms since `originMs` (a performance.now() reading: the runner's start). */
export interface RealtimeTimeline {
  readonly originMs: number;
  /** The result's publication. */
  readonly publishedMs: number;
  /** Each settlement's commit, in order. */
  readonly commitsMs: readonly number[];
  /** Each user notification shown by the client, in order. */
  readonly shownMs: readonly number[];
  /** Each ranking broadcast shown. */
  readonly rankingsShownMs: readonly number[];
}

export interface RealtimeOptions {
  readonly store: Store;
  /** Any bus that can tell when nothing is outstanding (memory bus, or a watched Pub/Sub bus). */
  readonly bus: MessageBus & { isIdle(): boolean };
  readonly clock: Clock;
  readonly pipeline: Omit<PipelineOptions, 'store' | 'bus' | 'clock'>;
  readonly result: OfficialResult;
  readonly keepNotifications: boolean;
  readonly timeoutMs: number;
  /** Called on every idle poll with the settlements committed so far (the bench samples RSS here; progress displays count). */
  readonly onPoll?: (settledUsers: number) => void;
}

const POLL_MS = 5;
/** Consecutive idle polls before the run counts as finished (an outbox relay may be between polls). */
const IDLE_POLLS = 3;

/** The store with its settlement transactions timed: each applied one records its latency. */
function timedStore(store: Store, record: () => void): Store {
  const timed = Object.create(store) as Store;
  const settleUser: Store['settleUser'] = async (...args) => {
    const r = await store.settleUser(...args);
    if (r.kind === 'applied') record();
    return r;
  };
  const overrides: Partial<Store> = { settleUser };
  const columns = store.settleUserColumns;
  if (columns !== undefined) {
    overrides.settleUserColumns = async (...args) => {
      const r = await columns.apply(store, args);
      if (r.kind === 'applied') record();
      return r;
    };
  }
  return Object.assign(timed, overrides);
}

/**
 * How far two wall-clock readings may disagree with the monotonic clock over the same span:
 * Date.now() counts whole milliseconds (each of the two readings loses up to 1 ms), and a clock
 * being slewed by NTP runs up to 500 ppm fast or slow; twice both is allowed.
 */
function wallClockSlackMs(spanMs: number): number {
  return 2 + spanMs / 1_000;
}

/**
 * When the result was published, in ms since the runner called ingest: the outcome's wall-clock
 * publishedAtMs less the clock's reading at that call. It lies within the ingest call, up to the
 * wall clock's resolution and drift (a stamp taken just before ingest returns can read up to a
 * millisecond past the monotonic return time): within that slack it is clamped into the call.
 * A clock that does not follow real time (a simulated one) gives no usable answer, and the
 * runner's own start is the origin then.
 */
export function publicationOffsetMs(wallOffsetMs: number, ingestReturnedMs: number): number {
  if (!Number.isFinite(wallOffsetMs)) return 0;
  const slack = wallClockSlackMs(ingestReturnedMs);
  if (wallOffsetMs < -slack || wallOffsetMs > ingestReturnedMs + slack) return 0;
  return Math.min(Math.max(wallOffsetMs, 0), ingestReturnedMs);
}

export async function runRealtime(o: RealtimeOptions): Promise<RealtimeResult> {
  let t0 = 0;
  // Commit times since t0; turned into latencies once the publication time is known.
  const commitsMs: number[] = [];
  const store = timedStore(o.store, () => {
    commitsMs.push(performance.now() - t0);
  });
  const pipeline = startPipeline({ ...o.pipeline, store, bus: o.bus, clock: o.clock });
  const shownMs: number[] = [];
  const rankingsShownMs: number[] = [];
  const onShown = (_userId: string | undefined, at: number, ranking: boolean): void => void (ranking ? rankingsShownMs : shownMs).push(at);
  const client = startClient(o.bus, o.clock, { keep: o.keepNotifications, validate: o.keepNotifications, maxInFlight: o.keepNotifications ? 64 : 1024, now: () => performance.now() - t0, onShown });
  t0 = performance.now();
  const wallAtT0 = o.clock.nowMs();
  let ingestDone = false;
  let publishedMs = 0;
  const ingest = pipeline.ingest(o.result).then((r) => {
    ingestDone = true;
    if (!r.ok) throw new Error(`ingest refused the result: ${r.error.code}: ${r.error.message}`);
    publishedMs = publicationOffsetMs(r.value.publishedAtMs - wallAtT0, performance.now() - t0);
  });
  let idlePolls = 0;
  let timedOut = false;
  const readOutbox = o.store.readOutbox?.bind(o.store);
  while (idlePolls < IDLE_POLLS) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    o.onPoll?.(commitsMs.length);
    // The outbox is read only once the bus is idle: on Spanner every read is a round trip to the
    // database the pipeline is settling in, and a poll every few milliseconds competes with it.
    const busIdle = ingestDone && o.bus.isIdle();
    const outboxEmpty = !busIdle || readOutbox === undefined || (await readOutbox(1)).length === 0;
    idlePolls = busIdle && outboxEmpty ? idlePolls + 1 : 0;
    if (performance.now() - t0 > o.timeoutMs) {
      timedOut = true;
      break;
    }
  }
  await ingest;
  await pipeline.stop();
  await client.handle.close();
  const histogram = createLatencyHistogram();
  for (const at of commitsMs) histogram.recordValue(Math.max(1, Math.round((at - publishedMs) * 1000)));
  const timeline: RealtimeTimeline = { originMs: t0, publishedMs, commitsMs, shownMs, rankingsShownMs };
  reportTimeline(timeline);
  const sincePublished = (atMs: number): number => Math.round(Math.max(0, atMs - publishedMs) * 1000) / 1000;
  return {
    settledUsers: commitsMs.length,
    ingestMs: Math.round(publishedMs * 1000) / 1000,
    makespanMs: sincePublished(commitsMs[commitsMs.length - 1] ?? 0),
    notifyMakespanMs: sincePublished(client.lastShownAtMs()),
    rankingMakespanMs: sincePublished(client.lastBroadcastAtMs()),
    settleLatencyMs: percentilesOf(histogram),
    counters: pipeline.counters,
    errors: pipeline.errors,
    client,
    timedOut,
    timeline,
  };
}
