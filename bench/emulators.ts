// `raceday bench emulators`: in one run against the official emulators (started or reused),
// 1. the raw capacity of the Spanner emulator for one race's whole work: a bare client loop, no
//    Pub/Sub and no pipeline (measureRawSettlement), committing what the pipeline commits per
//    user (the settlement, the day progress and the bonuses it earns, the post-settled marker) and then ranking the race
//    and claiming the ranking, in both transaction shapes the store has for settlements: one user
//    per transaction, and N users per transaction (group commit);
// 2. Pub/Sub messages per second end to end with one subscriber (measurePubSubThroughput);
// 3. the pipeline's users per second on one race of N users (default 10,000) in the same world
//    (spanner-capacity-world.ts builds and loads it for both sides): fan-out over Pub/Sub, settle
//    workers, post-settle and notifications, timed from the result's publication to the end of the
//    race's work: the ranking shown and every post-settle write committed (full-work.ts), not the
//    last settlement (the lane gate queues day-progress and marker transactions behind the settlements).
// ratio = pipeline / raw loop of the SAME transaction shape: the group-commit pipeline over the raw
// loop committing the same number of users per settlement transaction (or, with
// --settlements-per-commit 1, per-user over per-user), measured as --repeat pipeline runs, each
// between two raw loops of that shape (raw, pipeline, raw, pipeline, ..., raw) and compared with
// their mean, and reported as the median pair's; ratioPerUser is one per-user pipeline run
// bracketed the same way (raw, pipeline, raw), after the warm-up. The raw loops run on as many
// users as the pipeline by default, because the emulator slows as its tables grow (measured: 169
// users/s on 2,000 users, 150 on 10,000, one user per transaction, settlements only).
// --compare-shards repeats raw and pipeline with 1 and 4 shard databases and prints the speed-up
// (sharding is an emulator-only technique). Every measurement reports the CPU the client and the
// local emulators spent, which tells a busy machine from a slow design. Calibration: docs/bench.md.
import { loadavg } from 'node:os';
import { BATCH_LIMITS } from '../backends/google/spanner-batch.ts';
import { measureRawSettlement, type RawSettlementResult } from '../backends/google/spanner-capacity.ts';
import { capacityWorld, loadCapacityWorld, type CapacityWorld, type WorldLoadingStore } from '../backends/google/spanner-capacity-world.ts';
import { parseArgs, UsageError, withUsage } from '../cmdline/args.ts';
import { openBackend, exitOnInterrupt } from '../sim/open-backend.ts';
import { emulatorCpuSeconds, emulatorCpuSince, type EmulatorCpu } from '../emulators/cpu.ts';
import { ensureEmulators, type EmulatorHandle } from '../emulators/index.ts';
import { measurePubSubThroughput, type PubSubThroughput } from '../emulators/measure.ts';
import { DEFAULT_VARIANTS, parseFanoutVariant, type PipelineVariants } from '../pipeline/settings.ts';
import { runRealtime } from '../sim/realtime.ts';
import { fullWorkMakespanMs, timePostSettleWrites } from './full-work.ts';

export const BENCH = {
  usersDefault: 10_000,
  ticketsPerUser: 5,
  pubsubMessagesDefault: 20_000,
  /**
   * Two subscribers per stage of 256 handler slots each: enough slots that settlements queue
   * behind the shard and group commits fill up. Measured against 4 x 128 (the same 512 slots),
   * four alternating comparisons at 10,000 users, each pipeline over the raw loop run just before:
   * 2 x 256 gave 0.78, 0.81, 0.71, 0.80 and 4 x 128 gave 0.68, 0.72, 0.69, 0.69 (1 x 512: 0.70, 0.73).
   */
  workersDefault: 2,
  maxInFlightDefault: 256,
  /** The pipeline run gives up after this long (a stuck run fails the bench instead of hanging). */
  pipelineTimeoutMs: 900_000,
  compareShards: [1, 4],
  /** Users of the unmeasured pipeline run before the pairs (warm-up). */
  warmupUsers: 2_000,
  /** Raw/pipeline pairs behind the headline ratio (its median). */
  repeatDefault: 3,
} as const;

export const usage = `usage: raceday bench emulators [--users N] [--raw-users N] [--spanner-shards N] [--compare-shards] [--pubsub-messages N]
                               [--workers N] [--max-in-flight N] [--fanout V] [--settlements-per-commit N] [--repeat N] [--json]

Against the official emulators (started, or reused when running): the raw Spanner capacity for a
race's whole work (a bare client loop committing settlements, day progress with its bonuses and
post-settled markers, then ranking the race; no pipeline), Pub/Sub messages/second end to end, and the
pipeline's users/second on a race of N users (default 10,000; 5 tickets each, the same world as
the raw loop), timed to the end of its work: the ranking shown and every post-settle write committed.
Prints rawUsersPerSecond, pubsubMessagesPerSecond, pipelineUsersPerSecond and ratio (pipeline over
the raw loop of the same transaction shape, target >= 0.7). --compare-shards also runs raw and
pipeline with 1 and 4 shard databases.
--settlements-per-commit N: settlements that queue behind a busy shard commit together, up to N
users per transaction (default ${BATCH_LIMITS.settlementsPerCommitMax}); 1 gives every user its own transaction. With N > 1 the
bench also runs both sides with one transaction per user (raw, pipeline, raw) and prints ratioPerUser.
--repeat N: pipeline runs of the headline shape, each between two raw loops of that shape (raw, pipeline,
raw, ...) and compared with their mean; ratio is the median pair's (default ${BENCH.repeatDefault}; ratios lists every
pair). The emulator's speed scatters and drifts between runs on a busy machine.
--raw-users N: users of the raw loops (default: --users; fewer is quicker but flatters the raw side).
--workers, --max-in-flight: settle and post-settle subscribers and their handler slots (default ${BENCH.workersDefault} x ${BENCH.maxInFlightDefault}).`;

interface PipelineRun {
  readonly users: number;
  readonly shards: number;
  readonly loadSeconds: number;
  /** Runner's call -> the publication time stamped (cash pools read, payout table computed); the makespans start there. */
  readonly ingestMs: number;
  /** Publication -> the end of the race's work: the ranking shown and every post-settle write committed (full-work.ts). */
  readonly workMakespanMs: number;
  /** Publication -> last settlement committed (post-settle writes may still be queued then). */
  readonly makespanMs: number;
  /** Publication -> last day-progress, marker or ranking-claim transaction committed. */
  readonly postSettleMakespanMs: number;
  readonly notifyMakespanMs: number;
  readonly rankingMakespanMs: number;
  /** users / workMakespanMs: the figure compared with the raw loop. */
  readonly usersPerSecond: number;
  /** users / makespanMs: settlements only, for comparison with earlier benches. */
  readonly settleUsersPerSecond: number;
  readonly postSettleWrites: number;
  readonly settledUsers: number;
  readonly transactionsCommitted: number;
  readonly transactionsAborted: number;
  readonly redeliveries: number;
  readonly backlogMax: Readonly<Record<string, number>>;
  readonly handlerErrors: number;
  readonly clientCpuSeconds: number;
  /** CPU the local emulators spent meanwhile (Linux only): with the client's, where the cores went. */
  readonly emulatorCpuSeconds: EmulatorCpu;
}

/** The pipeline side's world: the raw loop's (measureRawSettlement builds it from the same ticketsPerUser). */
export async function loadPipelineWorld(store: WorldLoadingStore, users: number): Promise<CapacityWorld> {
  const world = capacityWorld(users, BENCH.ticketsPerUser);
  await loadCapacityWorld(store, world);
  return world;
}

interface PipelineSetup {
  readonly variants: PipelineVariants;
  readonly workers: number;
  readonly maxInFlight: number;
  readonly settlementsPerCommitMax: number;
}

async function runPipeline(handle: EmulatorHandle, users: number, shards: number, setup: PipelineSetup): Promise<PipelineRun> {
  const { variants, workers, maxInFlight } = setup;
  const backend = await openBackend('emulators', { emulators: handle, spannerShards: shards, settlementsPerCommitMax: setup.settlementsPerCommitMax });
  try {
    const loadStart = performance.now();
    const world = await loadPipelineWorld(backend.store, users);
    const loadSeconds = (performance.now() - loadStart) / 1000;
    // Post-settle writes are timed on the clock the publication is stamped with.
    const timed = timePostSettleWrites(backend.store, () => backend.clock.nowMs());
    const cpuBefore = process.cpuUsage();
    const emulatorsBefore = emulatorCpuSeconds(handle.pids);
    const stage = { workers, maxInFlight };
    const r = await runRealtime({
      store: timed.store,
      bus: backend.bus,
      clock: backend.clock,
      pipeline: { variants, stages: { settle: stage, postSettle: stage, notify: stage } },
      result: { raceId: world.race.raceId, resultVersion: 1, result: world.result, scratched: [] },
      keepNotifications: false,
      timeoutMs: BENCH.pipelineTimeoutMs,
      onPoll: () => backend.sample(),
    });
    const cpu = process.cpuUsage(cpuBefore);
    const emulatorCpu = emulatorCpuSince(emulatorsBefore, emulatorCpuSeconds(handle.pids));
    if (r.timedOut) throw new Error(`the pipeline did not finish within ${BENCH.pipelineTimeoutMs} ms (${r.settledUsers} of ${users} users settled)`);
    if (r.settledUsers !== users) throw new Error(`the pipeline settled ${r.settledUsers} of ${users} users`);
    const outcome = await backend.store.getOutcome(world.race.raceId);
    if (outcome === undefined) throw new Error(`invariant violated: ${world.race.raceId} has no recorded outcome after its run`);
    const postSettleMakespanMs = Math.max(0, timed.lastWriteAtMs() - outcome.publishedAtMs);
    const workMakespanMs = fullWorkMakespanMs({ settleMakespanMs: r.makespanMs, rankingMakespanMs: r.rankingMakespanMs, postSettleMakespanMs });
    const st = backend.stats();
    return {
      users,
      shards,
      loadSeconds: Math.round(loadSeconds * 10) / 10,
      ingestMs: Math.round(r.ingestMs),
      workMakespanMs: Math.round(workMakespanMs),
      makespanMs: Math.round(r.makespanMs),
      postSettleMakespanMs: Math.round(postSettleMakespanMs),
      notifyMakespanMs: Math.round(r.notifyMakespanMs),
      rankingMakespanMs: Math.round(r.rankingMakespanMs),
      usersPerSecond: Math.round((users / (workMakespanMs / 1000)) * 10) / 10,
      settleUsersPerSecond: Math.round((users / (r.makespanMs / 1000)) * 10) / 10,
      postSettleWrites: timed.writes(),
      settledUsers: r.settledUsers,
      transactionsCommitted: st.transactionsCommitted,
      transactionsAborted: st.transactionsAborted,
      redeliveries: st.redeliveries,
      backlogMax: st.backlogMax,
      handlerErrors: r.counters.handlerErrors,
      clientCpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10,
      emulatorCpuSeconds: emulatorCpu,
    };
  } finally {
    await backend.close();
  }
}

async function rawAt(handle: EmulatorHandle, users: number, shards: number, usersPerCommit = 1): Promise<RawSettlementResult & { clientCpuSeconds: number; emulatorCpuSeconds: EmulatorCpu }> {
  const target = { projectId: handle.projectId, instanceId: handle.spannerInstance, emulator: true, emulatorHost: handle.spannerHost as string };
  const cpuBefore = process.cpuUsage();
  const emulatorsBefore = emulatorCpuSeconds(handle.pids);
  const r = await measureRawSettlement({ target, users, shards, ticketsPerUser: BENCH.ticketsPerUser, usersPerCommit });
  const cpu = process.cpuUsage(cpuBefore);
  return { ...r, clientCpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 10) / 10, emulatorCpuSeconds: emulatorCpuSince(emulatorsBefore, emulatorCpuSeconds(handle.pids)) };
}

const ratioOf = (a: number, b: number): number => Math.round((a / b) * 100) / 100;

type RawRun = Awaited<ReturnType<typeof rawAt>>;

interface Pair {
  /** The raw loops run just before and just after the pipeline. */
  readonly rawBefore: RawRun;
  readonly rawAfter: RawRun;
  /** Their mean: the raw capacity the pipeline is compared with. */
  readonly rawUsersPerSecond: number;
  readonly pipeline: PipelineRun;
  readonly ratio: number;
}

/**
 * The raw capacity around one pipeline run: the mean of the raw loops just before and just after
 * it. Why both: measured here, consecutive raw loops of the same shape gave 497, 517, 602 and 408
 * users/s minutes apart while the pipelines between them stayed at 334-402, so one raw run per
 * pair put most of the raw loop's own scatter into the ratio; bracketing also cancels a drift
 * that runs across the pair.
 */
export function bracketedRaw(before: number, after: number): number {
  return Math.round(((before + after) / 2) * 10) / 10;
}

/** `count` pairs of one shape: raw, pipeline, raw, pipeline, ..., raw; each pipeline run against the mean of its two neighbours. */
async function bracketedPairs(count: number, shape: string, log: (line: string) => void, raw: () => Promise<RawRun>, pipeline: () => Promise<PipelineRun>): Promise<Pair[]> {
  const pairs: Pair[] = [];
  log(`bench emulators: raw loop, ${shape}`);
  let rawBefore = await raw();
  for (let i = 1; i <= count; i++) {
    log(`bench emulators: pair ${i}/${count}, pipeline, ${shape}`);
    const run = await pipeline();
    log(`bench emulators: pair ${i}/${count}, raw loop, ${shape}`);
    const rawAfter = await raw();
    const rawUsersPerSecond = bracketedRaw(rawBefore.usersPerSecond, rawAfter.usersPerSecond);
    pairs.push({ rawBefore, rawAfter, rawUsersPerSecond, pipeline: run, ratio: ratioOf(run.usersPerSecond, rawUsersPerSecond) });
    rawBefore = rawAfter;
  }
  return pairs;
}

/** The pair with the median ratio (the lower middle one for an even count). */
export function medianPair<P extends { readonly ratio: number }>(pairs: readonly P[]): P {
  const sorted = [...pairs].sort((a, b) => a.ratio - b.ratio);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)];
  if (mid === undefined) throw new Error('invariant violated: no bench pairs');
  return mid;
}

async function bench(flags: Record<string, unknown>): Promise<number> {
  const users = typeof flags['users'] === 'number' ? flags['users'] : BENCH.usersDefault;
  const shards = typeof flags['spanner-shards'] === 'number' ? flags['spanner-shards'] : 1;
  const messages = typeof flags['pubsub-messages'] === 'number' ? flags['pubsub-messages'] : BENCH.pubsubMessagesDefault;
  const workers = typeof flags['workers'] === 'number' ? flags['workers'] : BENCH.workersDefault;
  const maxInFlight = typeof flags['max-in-flight'] === 'number' ? flags['max-in-flight'] : BENCH.maxInFlightDefault;
  let variants: PipelineVariants = DEFAULT_VARIANTS;
  if (typeof flags['fanout'] === 'string') {
    const v = parseFanoutVariant(flags['fanout']);
    if (!v.ok) throw new UsageError(v.error.message);
    variants = { ...variants, fanout: v.value };
  }
  const rawUsers = Math.min(users, typeof flags['raw-users'] === 'number' ? flags['raw-users'] : users);
  const perCommit = typeof flags['settlements-per-commit'] === 'number' ? flags['settlements-per-commit'] : BATCH_LIMITS.settlementsPerCommitMax;
  const repeat = typeof flags['repeat'] === 'number' ? flags['repeat'] : BENCH.repeatDefault;
  const setup: PipelineSetup = { variants, workers, maxInFlight, settlementsPerCommitMax: perCommit };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  process.env.METADATA_SERVER_DETECTION = 'none';
  const startedMs = performance.now();
  const handle = await ensureEmulators({ pubsub: true, spanner: true, log });
  const uninstall = exitOnInterrupt(() => handle.stop());
  try {
    const grouped = perCommit > 1;
    const shape = grouped ? `up to ${perCommit} settlements per commit` : 'one settlement per commit';
    log(`bench emulators: Pub/Sub end to end, ${messages} messages`);
    const pubsub: PubSubThroughput = await measurePubSubThroughput(handle, messages);
    // A short pipeline run first, not measured: in four benches without it, the first pair was the
    // lowest or near it (0.55, 0.62, 0.65, 0.66 of the raw loop, later pairs 0.65-0.86; right after
    // a restart 286.7 users/s against 379 for the next two), most likely while the Pub/Sub
    // emulator's JVM and the client still compile their hot paths.
    const warmupUsers = Math.min(users, BENCH.warmupUsers);
    log(`bench emulators: warm-up pipeline, ${warmupUsers} users (not measured)`);
    const warmup = await runPipeline(handle, warmupUsers, shards, setup);
    // The headline ratio comes from `repeat` pipeline runs of one shape, each compared with the raw
    // loops of that shape just before and after it (raw, pipeline, raw, ..., raw; bracketedRaw says
    // why); the median pair is reported. The per-user comparison is bracketed the same way, after
    // the warm-up like the headline's, so both ratios divide a warm pipeline by warm raw loops.
    const pairs = await bracketedPairs(repeat, shape, log, () => rawAt(handle, rawUsers, shards, perCommit), () => runPipeline(handle, users, shards, setup));
    const median = medianPair(pairs);
    const { pipeline } = median;
    const perUser = grouped
      ? medianPair(await bracketedPairs(1, 'one settlement per commit', log, () => rawAt(handle, rawUsers, shards, 1), () => runPipeline(handle, users, shards, { ...setup, settlementsPerCommitMax: 1 })))
      : median;
    const pipelinePerUser = perUser.pipeline;
    const shapes = {
      rawGroupCommitUsersPerSecond: median.rawUsersPerSecond,
      pipelinePerUserUsersPerSecond: pipelinePerUser.usersPerSecond,
      ratio: median.ratio,
      ratios: pairs.map((p) => p.ratio),
      ratioPerUser: perUser.ratio,
    };
    let shardComparison: Record<string, unknown> | undefined;
    if (flags['compare-shards'] === true) {
      const [one, four] = BENCH.compareShards;
      const raws = new Map<number, number>([[shards, median.rawUsersPerSecond]]);
      const pipes = new Map<number, number>([[shards, pipeline.usersPerSecond]]);
      for (const n of [one, four]) {
        if (raws.has(n)) continue;
        log(`bench emulators: shard comparison at ${n} shard(s)`);
        raws.set(n, (await rawAt(handle, rawUsers, n, perCommit)).usersPerSecond);
        pipes.set(n, (await runPipeline(handle, users, n, setup)).usersPerSecond);
      }
      shardComparison = {
        rawUsersPerSecond: Object.fromEntries(raws),
        pipelineUsersPerSecond: Object.fromEntries(pipes),
        rawSpeedup4vs1: ratioOf(raws.get(four) as number, raws.get(one) as number),
        pipelineSpeedup4vs1: ratioOf(pipes.get(four) as number, pipes.get(one) as number),
      };
    }
    const summary = {
      bench: 'emulators',
      users,
      ticketsPerUser: BENCH.ticketsPerUser,
      spannerShards: shards,
      workers,
      maxInFlight,
      settlementsPerCommitMax: perCommit,
      rawUsersPerSecond: perUser.rawUsersPerSecond,
      pubsubMessagesPerSecond: pubsub.messagesPerSecond,
      pipelineUsersPerSecond: pipeline.usersPerSecond,
      ...shapes,
      ratioTarget: 0.7,
      rawUsers,
      rawPerUser: { before: perUser.rawBefore, after: perUser.rawAfter },
      ...(grouped ? { rawGroupCommit: { before: median.rawBefore, after: median.rawAfter }, pipelinePerUser } : {}),
      repeat,
      warmup: { users: warmup.users, usersPerSecond: warmup.usersPerSecond },
      pairs: pairs.map((p) => ({ rawBeforeUsersPerSecond: p.rawBefore.usersPerSecond, rawAfterUsersPerSecond: p.rawAfter.usersPerSecond, rawUsersPerSecond: p.rawUsersPerSecond, pipelineUsersPerSecond: p.pipeline.usersPerSecond, ratio: p.ratio })),
      pubsub,
      pipeline,
      ...(shardComparison === undefined ? {} : { shardComparison }),
      emulators: { strategy: handle.strategy, reused: handle.reused },
      wallSeconds: Math.round((performance.now() - startedMs) / 100) / 10,
      loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    };
    if (flags['json'] === true) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      process.stdout.write(
        [
          `bench emulators: ${users} users x ${BENCH.ticketsPerUser} tickets, ${shards} shard(s)`,
          `  raw loop (whole work) ${perUser.rawUsersPerSecond} users/s per-user tx, ${shapes.rawGroupCommitUsersPerSecond} users/s at ${perCommit} per tx (${rawUsers} users)`,
          `  Pub/Sub end to end    ${pubsub.messagesPerSecond} messages/s`,
          `  pipeline              ${pipeline.usersPerSecond} users/s at ${perCommit} per tx (ratio ${shapes.ratio}, median of ${shapes.ratios.join(', ')}, over the raw loop of that shape; target >= 0.7)`,
          `  one user per tx       pipeline ${shapes.pipelinePerUserUsersPerSecond} users/s (ratioPerUser ${shapes.ratioPerUser})`,
          ...(shardComparison === undefined ? [] : [`  4 shards vs 1         raw x${String(shardComparison['rawSpeedup4vs1'])}, pipeline x${String(shardComparison['pipelineSpeedup4vs1'])}`]),
        ].join('\n') + '\n',
      );
    }
    return 0;
  } finally {
    uninstall();
    await handle.stop();
  }
}

export function runBench(argv: readonly string[]): Promise<number> {
  return withUsage(usage, async () => {
    const { flags, positionals } = parseArgs(argv, {
      users: { type: 'int', min: 100, max: 1_000_000 },
      'raw-users': { type: 'int', min: 100, max: 1_000_000 },
      'spanner-shards': { type: 'int', min: 1, max: 64 },
      'compare-shards': { type: 'boolean' },
      'pubsub-messages': { type: 'int', min: 1, max: 1_000_000 },
      workers: { type: 'int', min: 1, max: 256 },
      'max-in-flight': { type: 'int', min: 1, max: 10_000 },
      fanout: { type: 'string' },
      'settlements-per-commit': { type: 'int', min: 1, max: 1_000 },
      repeat: { type: 'int', min: 1, max: 9 },
      json: { type: 'boolean' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    return bench(flags);
  });
}
