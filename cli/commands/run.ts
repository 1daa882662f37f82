// `raceday run --scenario smoke`: settles a small race day end to end in real time and prints
// settled tickets, makespan, settle-latency percentiles, the backend's counters (transaction
// aborts, redeliveries, backlog maxima) and the invariant results (the same checkers as the
// simulator, run against the store's final state read back through its client). One mechanism
// (sim/run-day.ts) for every backend: memory (embedded, default), emulators (the official Pub/Sub
// and Spanner emulators, started or reused), google (real Google Cloud, only with --project).
// Exit 1 when an invariant fails.
import { createRng } from '../../core/rng.ts';
import { formatFanoutVariant, type PipelineVariants } from '../../pipeline/settings.ts';
import { pipelineVariantsOf } from '../variant-flags.ts';
import type { Percentiles } from '../../sim/realtime.ts';
import { runDay, type RunDayResult } from '../../sim/run-day.ts';
import type { RaceDay } from '../../scenarios/model.ts';
import { smokeRaceDay, type SmokeShape } from '../../sim/workload.ts';
import { EmulatorsUnavailableError, STRATEGIES, type StrategyChoice } from '../../emulators/index.ts';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import { SETTLEMENTS_PER_COMMIT_DEFAULT } from '../../backends/google/spanner-batch.ts';
import { BACKENDS, BackendUnavailableError, exitOnInterrupt, isBackendName, openBackend, type BackendName, type BackendStats } from '../../sim/open-backend.ts';
import type { CommandModule } from '../main.ts';
import { runReplay } from '../run-replay.ts';
import { parseSubscribers, renderGatewayLines, startRunGateway, type RunGateway } from '../run-gateway.ts';
import { startRunGatewayProcess } from '../run-gateway-process.ts';
import { parseRunIntake } from '../run-gateway-redis.ts';
import { dayProgress, finishRecording, recordDayRun, sampleBackend, startRecording } from '../run-record.ts';
import { parseVariantFlags, runVariantsCommand } from '../run-variants.ts';
import { createProfileRecorder } from '../../planner/profile.ts';
import { profileSummary } from '../../planner/profile-record.ts';
import { finishProfiledRecording, knobsOf, profileBackend, profileOfDay } from '../../planner/profile-run.ts';
import { runProcesses } from '../run-processes.ts';

const usage = `usage: raceday run [--scenario smoke|typical-day|midnight|grand-prix|chaos|FILE] [--json] [options]

Settles a race day end to end (real time): fan-out, settlement, bonuses and missions,
notifications and the day ranking, then checks every invariant against the pure core, reading the
store's final state back through its client.

  --scenario S              smoke (default): the built-in race day, checked invariant by invariant;
                            any other preset (typical-day, midnight, grand-prix, chaos) or a scenario
                            JSON file is replayed on the memory backend as "raceday bench memory"
                            runs it (columnar settle path, 8 workers x 256 in flight per stage), with
                            per-race metrics, the invariant checkers, and progress on stderr
  --speed N                 replays only: scenario ms per wall ms (144 plays a day in 10 minutes;
                            default 0 = as fast as possible)
  --bets load|place         replays only: bulk-load tickets (default) or place each bet through the store
  --seed S                  the race day's seed (default 1)
  --users N                 users in the race day (default ${2_000})
  --fanout V                per-user (default), user-batch:N, single-worker
  --notify V                after-commit (default), outbox
  --workers N               settle and post-settle workers (default 2)
  --max-in-flight N         flow control per worker (default 256)
  --backend B               memory (default), emulators, or google (real Google Cloud; needs --project)
  --spanner-shards N        emulators only: Spanner databases users are spread over (default 1);
                            the emulator runs one read-write transaction per database at a time
  --settlements-per-commit N  emulators and google: settlements that wait for a busy database commit
                            together, up to N users per transaction; 1 gives every user its own.
                            Default ${SETTLEMENTS_PER_COMMIT_DEFAULT.emulators} on emulators (the emulator runs one transaction per database
                            at a time), ${SETTLEMENTS_PER_COMMIT_DEFAULT.google} on google (real Spanner runs them concurrently)
  --strategy S              emulators only: auto (default), local, containers, external
  --project P               google: the Google Cloud project (required); emulators: default fresh per run
  --spanner-instance I      google only: Spanner instance (default raceday)
  --spanner-database D      google only: Spanner database (default raceday)
  --processes               emulators, smoke only: every stage as its own process (raceday worker x7,
                            a fleet; docs/worker-processes.md); --workers and --max-in-flight are per process
  --gateway                 smoke only: put the notification gateway and a subscriber swarm on the day and
                            report, per race, result published -> notification on the user's socket
                            (p50..max over every connected user), split into settlement and delivery;
                            memory: the gateway in this process; emulators: raceday gateway as its own process
  --subscribers N|all       with --gateway: users connected (default all)
  --policy SPEC             with --gateway: the gateway's delivery policy (default per-subscriber:256:evict-after:1000)
  --intake bus|pubsub|redis with --gateway: where the gateway takes notifications from (default bus on memory,
                            pubsub on the emulators); redis: the run's bus also publishes them to Redis channels
                            (a redis-server started and stopped by the run unless raceday redis start left one)
  --variant NAME=SETTINGS   smoke: run this design variant too (repeatable; SETTINGS is key=value,...
                            of fanout, notify, settlePath, workers, maxInFlight, ackDeadlineMs, spannerShards,
                            settlementsPerCommit, testSlowdown; empty for the defaults: base=);
                            every variant settles the same seeded day, interleaved A B B A
  --repeat K                with --variant: samples per variant (default 1; 8 or more to gate wall-clock figures)
  --profile                 smoke: time every Store and bus operation of the pipeline (the capacity
                            planner's cost model); with --out the run record gets a profile section
                            (with --variant, one per sample), with --json a summary; see docs/capacity-model.md
  --json                    one JSON object
  --out DIR                 also write the run record DIR/metrics.json and every output made
                            from it (summary.md, junit.xml, metrics.prom, report.html); see
                            docs/run-record.md and "raceday report"; with --variant, every sample

Exit code 1 when an invariant fails; 130/143 after Ctrl-C/SIGTERM (emulators this run started are stopped).`;

const RUN_TIMEOUT_MS = 300_000;

/** Options of the checked smoke day that a generated-scenario replay has no use for: refused there, not ignored. */
const SMOKE_ONLY = ['profile', 'gateway', 'subscribers', 'policy', 'intake', 'users', 'fanout', 'notify', 'workers', 'max-in-flight', 'strategy', 'project', 'spanner-shards', 'spanner-instance', 'spanner-database', 'variant', 'repeat', 'processes'] as const;
const REPLAY_ONLY = ['speed', 'bets'] as const;
const EMULATORS_ONLY = ['spanner-shards', 'strategy'] as const;
const GOOGLE_ONLY = ['spanner-instance', 'spanner-database'] as const;

function refuseOptions(flags: Record<string, unknown>, names: readonly string[], why: (name: string) => string): void {
  const given = names.find((n) => flags[n] !== undefined);
  if (given !== undefined) throw new UsageError(why(given));
}
const DEFAULT_USERS = 2_000;

function runShape(users: number): SmokeShape {
  return { usersMin: users, usersMax: users, ticketsPerUserMax: 4, stakeUnitsMax: 10 };
}


const num = (flags: Record<string, unknown>, name: string, dflt: number): number => (typeof flags[name] === 'number' ? flags[name] : dflt);
const str = (flags: Record<string, unknown>, name: string): string | undefined => (typeof flags[name] === 'string' ? flags[name] : undefined);

interface SummaryInput {
  readonly backendName: BackendName;
  readonly seed: number;
  readonly variants: PipelineVariants;
  readonly workers: number;
  readonly maxInFlight: number;
  readonly shards: number;
  readonly day: RaceDay;
  readonly r: RunDayResult;
  readonly stats: BackendStats;
  readonly where: Readonly<Record<string, unknown>>;
  readonly openMs: number;
}

/** The report: the memory backend's metrics, plus what a remote backend adds (aborts, redeliveries, backlogs). */
function summaryOf(i: SummaryInput) {
  const { r, stats } = i;
  const rt = r.realtime;
  return {
    scenario: 'smoke',
    backend: i.backendName,
    seed: i.seed,
    variants: { fanout: formatFanoutVariant(i.variants.fanout), notify: i.variants.notify },
    workers: i.workers,
    maxInFlight: i.maxInFlight,
    ...(i.backendName === 'memory' ? {} : { spannerShards: i.shards }),
    users: i.day.users.length,
    tickets: i.day.ticketCount,
    ticketsLoaded: r.ticketsLoaded,
    settledUsers: rt.settledUsers,
    settledTickets: r.settledTickets,
    ingestMs: rt.ingestMs,
    makespanMs: rt.makespanMs,
    notifyMakespanMs: rt.notifyMakespanMs,
    rankingMakespanMs: rt.rankingMakespanMs,
    settleLatencyMs: rt.settleLatencyMs,
    counters: rt.counters,
    transactionsCommitted: stats.transactionsCommitted,
    transactionsAborted: stats.transactionsAborted,
    // Every aborted transaction was retried (a final failure would have failed the run).
    transactionRetries: stats.transactionsAborted,
    redeliveries: stats.redeliveries,
    backlogMax: stats.backlogMax,
    // Per race: how many users its ranking left out (dead-lettered, never settled) and why.
    rankings: r.rankings,
    phasesMs: { open: i.openMs, load: r.loadMs, check: r.checkMs },
    where: i.where,
    invariants: r.invariants,
    ok: r.ok,
  };
}

/** A backend the user must fix outside raceday (no credentials, emulator hosts set) is a one-line usage error. */
async function openOrExplain(name: BackendName, options: Parameters<typeof openBackend>[1]): Promise<Awaited<ReturnType<typeof openBackend>>> {
  try {
    return await openBackend(name, options);
  } catch (e) {
    if (e instanceof BackendUnavailableError) throw new UsageError(e.message);
    if (e instanceof EmulatorsUnavailableError) throw new UsageError(`${e.message.replace(/:\s*\n\s*/, ': ').replace(/\s*\n\s*/g, '; ')} (install them, or start a pair with: raceday emulators start)`);
    throw e;
  }
}

/**
 * Subscribers per stage and handler slots each, as `raceday bench emulators` runs the pipeline.
 * Why: the post-settle writes of a user wait for shared group commits, so few slots leave the
 * ranking far behind the settlements. Measured on the emulators, 20,000 users over 4 shards, the
 * same machine a few minutes apart: 4 x 16 settled in 46.9 s and ranked at 130.8 s (144 s wall);
 * 2 x 256 settled in 16.0 s and ranked at 32.6 s (48 s wall).
 */
const SMOKE_STAGE_DEFAULTS = { workers: 2, maxInFlight: 256 } as const;

async function runSmoke(backendName: BackendName, flags: Record<string, unknown>, argv: readonly string[]): Promise<number> {
  const wallStart = performance.now();
  const out = str(flags, 'out');
  const rec = out === undefined ? undefined : startRecording({ command: 'run', argv, scenario: 'smoke', backend: backendName, seed: num(flags, 'seed', 1), configuration: { users: num(flags, 'users', DEFAULT_USERS) } });
  const seed = num(flags, 'seed', 1);
  const users = num(flags, 'users', DEFAULT_USERS);
  const workers = num(flags, 'workers', SMOKE_STAGE_DEFAULTS.workers);
  const maxInFlight = num(flags, 'max-in-flight', SMOKE_STAGE_DEFAULTS.maxInFlight);
  const shards = num(flags, 'spanner-shards', 1);
  const variants = pipelineVariantsOf(flags);
  const day = smokeRaceDay(seed, createRng(`raceday-run/smoke/${seed}`).fork('workload'), runShape(users));
  const log = flags['json'] === true ? () => undefined : (line: string) => process.stderr.write(`${line}\n`);
  let close: () => Promise<unknown> = async () => undefined;
  // Installed before anything starts, so a Ctrl-C while the emulators start is handled too.
  const uninstall = exitOnInterrupt(() => close());
  try {
    const projectId = str(flags, 'project');
    const spannerInstance = str(flags, 'spanner-instance');
    const spannerDatabase = str(flags, 'spanner-database');
    const perCommit = flags['settlements-per-commit'];
    const opened = await openOrExplain(backendName, {
      spannerShards: shards,
      ...(typeof perCommit === 'number' ? { settlementsPerCommitMax: perCommit } : {}),
      strategy: (str(flags, 'strategy') ?? 'auto') as StrategyChoice,
      ...(projectId === undefined ? {} : { projectId }),
      ...(spannerInstance === undefined ? {} : { spannerInstance }),
      ...(spannerDatabase === undefined ? {} : { spannerDatabase }),
      log,
    });
    const profiler = flags['profile'] === true ? createProfileRecorder() : undefined;
    profiler?.setWorkload({ users: day.users.length, tickets: day.ticketCount });
    const backend = profiler === undefined ? opened : profileBackend(opened, profiler);
    close = () => backend.close();
    const openMs = Math.round(performance.now() - wallStart);
    let gw: RunGateway | undefined;
    const sampler = rec === undefined ? undefined : sampleBackend(rec, backend);
    const progress = dayProgress(`run smoke on ${backendName}`);
    try {
      if (flags['gateway'] === true) {
        const g = { day, subscribers: parseSubscribers(flags['subscribers']), intake: parseRunIntake(flags['intake'], backendName), ...(str(flags, 'policy') === undefined ? {} : { policy: str(flags, 'policy') as string }), log: (line: string) => process.stderr.write(`${line}\n`) };
        // Memory: the gateway in this process; emulators: `raceday gateway` as its own process on the run's project.
        gw = backendName === 'memory' ? await startRunGateway({ ...g, intake: g.intake === 'redis' ? 'redis' : 'bus', store: backend.store }) : await startRunGatewayProcess({ ...g, intake: g.intake === 'redis' ? 'redis' : 'pubsub', projectId: String(backend.where['projectId']), spannerShards: shards });
        const stop = gw;
        close = async () => (await stop.close(), await backend.close());
      }
      const r = await runDay({ day, backend: gw === undefined ? backend : { ...backend, bus: gw.bus(backend.bus), sample: () => backend.sample() }, variants, workers, maxInFlight, timeoutMs: RUN_TIMEOUT_MS, progress: progress.report });
      progress.done();
      sampler?.stop();
      const gateway = gw === undefined ? undefined : await gw.finish(backend.store);
      const profile = profiler === undefined ? undefined : profileOfDay(profiler, opened, day, r, knobsOf(opened, { workers, maxInFlight, shards }));
      const summary = { ...summaryOf({ backendName, seed, variants, workers, maxInFlight, shards, day, r, stats: backend.stats(), where: backend.where, openMs }), ...(gateway === undefined ? {} : { gateway }) };
      await backend.close();
      close = async () => undefined;
      const wallMs = Math.round(performance.now() - wallStart);
      if (flags['json'] === true) process.stdout.write(`${JSON.stringify({ ...summary, wallMs, ...(profile === undefined ? {} : { profile: profileSummary(profile) }) })}\n`);
      else process.stdout.write(`${[render({ ...summary, wallMs }), ...(gateway === undefined ? [] : renderGatewayLines(gateway))].join('\n')}\n`);
      if (rec !== undefined && out !== undefined) {
        recordDayRun(rec, r, summary);
        if (profile === undefined) await finishRecording(rec, r.ok && (gateway?.ok ?? true), out);
        else await finishProfiledRecording(rec, r.ok && (gateway?.ok ?? true), out, [profile]);
      }
      return r.ok && (gateway?.ok ?? true) ? 0 : 1;
    } finally {
      await close();
    }
  } finally {
    uninstall();
  }
}

function render(s: {
  backend: string;
  users: number;
  tickets: number;
  settledTickets: number;
  variants: { fanout: string; notify: string };
  ingestMs: number;
  makespanMs: number;
  notifyMakespanMs: number;
  rankingMakespanMs: number;
  settleLatencyMs: Percentiles;
  transactionsAborted: number;
  redeliveries: number;
  backlogMax: Readonly<Record<string, number>>;
  rankings: RunDayResult['rankings'];
  wallMs: number;
  invariants: readonly { name: string; ok: boolean; violations: readonly string[] }[];
}): string {
  const l = s.settleLatencyMs;
  const lines = [
    `raceday run: smoke on ${s.backend} (${s.variants.fanout}, ${s.variants.notify}), ${s.wallMs} ms end to end`,
    `  users ${s.users}, tickets ${s.tickets}, settled tickets ${s.settledTickets}`,
    `  ingest ${s.ingestMs} ms (cash pools read, payout table computed), then from the publication makespan ${s.makespanMs} ms to the last settlement, ${s.notifyMakespanMs} ms to the last user's notification, ${s.rankingMakespanMs} ms to the ranking`,
    `  settle latency ms: p50 ${l['p50']}  p90 ${l['p90']}  p99 ${l['p99']}  p99.9 ${l['p99.9']}  max ${l['max']}`,
    `  transactions aborted (and retried) ${s.transactionsAborted}, redeliveries ${s.redeliveries}`,
    `  backlog max: ${Object.entries(s.backlogMax).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    ...s.rankings.map((k) => `  ranking of ${k.raceId}: ${k.shown ? `${k.leftOut.users} users left out${k.leftOut.users === 0 ? '' : ` (${Object.entries(k.leftOut.reasons).map(([code, n]) => `${code} ${n}`).join(', ')})`}` : 'never shown'}`),
    '  invariants:',
    ...s.invariants.map((i) => `    ${i.ok ? 'ok  ' : 'FAIL'} ${i.name}${i.ok ? '' : `: ${i.violations.slice(0, 3).join('; ')}`}`),
  ];
  return lines.join('\n');
}

export const command: CommandModule = {
  summary: 'settle a race day end to end (memory, emulators or Google Cloud) and check every invariant',
  usage,
  run: (argv) =>
    withUsage(usage, async () => {
      const { flags, lists } = parseArgs(argv, {
        scenario: { type: 'string' },
        seed: { type: 'int', min: 0, max: 2 ** 31 },
        users: { type: 'int', min: 1, max: 200_000 },
        fanout: { type: 'string' },
        notify: { type: 'string' },
        workers: { type: 'int', min: 1, max: 256 },
        'max-in-flight': { type: 'int', min: 1, max: 10_000 },
        backend: { type: 'string', choices: BACKENDS },
        'spanner-shards': { type: 'int', min: 1, max: 64 },
        'settlements-per-commit': { type: 'int', min: 1, max: 1_000 },
        strategy: { type: 'string', choices: STRATEGIES },
        project: { type: 'string' },
        'spanner-instance': { type: 'string' },
        'spanner-database': { type: 'string' },
        speed: { type: 'int', min: 0, max: 1_000_000 },
        bets: { type: 'string', choices: ['load', 'place'] },
        gateway: { type: 'boolean' },
        subscribers: { type: 'string' },
        policy: { type: 'string' },
        intake: { type: 'string' },
        json: { type: 'boolean' },
        profile: { type: 'boolean' },
        variant: { type: 'string', repeatable: true },
        repeat: { type: 'int', min: 1, max: 1_000 },
        out: { type: 'string' },
        processes: { type: 'boolean' },
      });
      const scenario = String(flags['scenario'] ?? 'smoke');
      const backend = String(flags['backend'] ?? 'memory');
      if (backend === 'memory' && flags['settlements-per-commit'] !== undefined) throw new UsageError('--settlements-per-commit applies to the Spanner backends (use --backend emulators or google)');
      if (scenario !== 'smoke') {
        if (backend !== 'memory') throw new UsageError(`--scenario ${scenario} replays on the memory backend only for now; on ${backend} use --scenario smoke`);
        refuseOptions(flags, SMOKE_ONLY, (name) => `--${name} applies to --scenario smoke only; a replay of ${scenario} does not use it (drop it)`);
        const bets = flags['bets'] === 'place' ? 'place' : 'load';
        return runReplay({ scenario, seed: num(flags, 'seed', 1), speed: num(flags, 'speed', 0), bets, json: flags['json'] === true, argv, ...(typeof flags['out'] === 'string' ? { out: flags['out'] } : {}) });
      }
      refuseOptions(flags, REPLAY_ONLY, (name) => `--${name} applies to generated scenarios (e.g. --scenario typical-day), not to smoke`);
      if (!isBackendName(backend)) throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got "${backend}"`);
      if (backend !== 'emulators') refuseOptions(flags, EMULATORS_ONLY, (name) => `--${name} is emulator-only: it applies to --backend emulators only`);
      if (backend !== 'google') refuseOptions(flags, GOOGLE_ONLY, (name) => `--${name} applies to --backend google only`);
      if (backend === 'memory' && flags['project'] !== undefined) throw new UsageError('--project applies to --backend emulators or google, not memory');
      if (backend === 'google' && flags['project'] === undefined) throw new UsageError('--backend google needs --project P (real Google Cloud is never used by default)');
      if (flags['gateway'] !== true) refuseOptions(flags, ['subscribers', 'policy', 'intake'], (name) => `--${name} applies with --gateway only`);
      if (flags['gateway'] === true && backend === 'google') throw new UsageError('--gateway runs on the memory backend (the gateway in this process) and on the emulators (raceday gateway as its own process), not on google');
      if (flags['gateway'] === true) parseRunIntake(flags['intake'], backend);
      if (flags['gateway'] === true && lists['variant'] !== undefined) throw new UsageError('--variant and --gateway do not go together yet: run each variant with --gateway apart');
      if (flags['processes'] === true) return runProcesses(backend, { ...flags, variant: lists['variant']?.[0] });
      if (lists['variant'] !== undefined) {
        if (backend === 'google') throw new UsageError('--variant runs on --backend memory or emulators (each sample provisions a fresh backend)');
        const base = { backend, seed: num(flags, 'seed', 1), users: num(flags, 'users', DEFAULT_USERS), variants: pipelineVariantsOf(flags), workers: num(flags, 'workers', SMOKE_STAGE_DEFAULTS.workers), maxInFlight: num(flags, 'max-in-flight', SMOKE_STAGE_DEFAULTS.maxInFlight), spannerShards: num(flags, 'spanner-shards', 1), ...(typeof flags['settlements-per-commit'] === 'number' ? { settlementsPerCommit: flags['settlements-per-commit'] } : {}), strategy: (str(flags, 'strategy') ?? 'auto') as StrategyChoice, timeoutMs: RUN_TIMEOUT_MS };
        return runVariantsCommand({ base, specs: parseVariantFlags(lists['variant'].map(String), backend), repeat: num(flags, 'repeat', 1), out: str(flags, 'out'), json: flags['json'] === true, argv, profile: flags['profile'] === true });
      }
      if (flags['repeat'] !== undefined) throw new UsageError('--repeat applies with --variant');
      return runSmoke(backend, flags, argv);
    }),
};
