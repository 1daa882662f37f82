// Calibration: profiled real runs at several concurrency levels, through the same code
// `raceday run` uses (openBackend + the smoke race day + runDay), then a cost per operation and the
// Universal Scalability Law fitted over them (calibration.ts fitCostModel).
//
// What "concurrency" is: N = settle workers x messages in flight per worker, the settlements the
// pipeline has outstanding at once (the fan-out requests one user per message). On the emulators
// a database runs one read-write transaction at a time, so settlements beyond one per shard queue
// at the shard and are group-committed (up to settlementsPerCommit users per transaction): more N
// fills the group commits (throughput rises), and past that only waits longer. The USL measures
// that; nothing here assumes it. Shards are the parallel units there; a second USL over shard
// counts is fitted when --shard-levels gives at least 6 of them. On the memory backend N is the
// same knob and the single Node thread is the unit.
import { hostname, cpus } from 'node:os';
import { createRng } from '../core/rng.ts';
import { DEFAULT_VARIANTS } from '../pipeline/settings.ts';
import { openBackend, type BackendOptions } from '../sim/open-backend.ts';
import { runDay } from '../sim/run-day.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import type { RaceDay } from '../scenarios/model.ts';
import { spannerAgeOf, withRunEmulators, type RunEmulators } from './real-run.ts';
import { fitCostModel, type FittedModel } from './calibration.ts';
import { describeNormalised, normaliseToRuns, scaleRuns, type NormaliseRun } from './normalise.ts';
import { USL_LEVELS_MIN } from './fit.ts';
import { planErr, type PlanResult } from './plan-error.ts';
import { createProfileRecorder, type RunProfile } from './profile.ts';
import { knobsOf, profileBackend, profileOfDay } from './profile-run.ts';

export const CALIBRATION_TARGETS = ['memory', 'emulators'] as const;
export type CalibrationTarget = (typeof CALIBRATION_TARGETS)[number];

export const CALIBRATION_DEFAULTS = {
  /**
   * Settle concurrency levels per target. The emulators' levels reach the pipeline's own default
   * (2 workers x 256 in flight = 512 outstanding) in doublings: below about 64 the Pub/Sub round
   * trip per message, not the database, bounds a run there, so a sweep of 1..8 would see no
   * contention at all.
   */
  levels: { memory: [1, 2, 4, 8, 16, 32], emulators: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] } as const,
  users: 1_000,
  shards: 1,
  seed: 1,
  /** Each level's run gives up after this long (a stuck run fails the calibration, it is not fitted). */
  runTimeoutMs: 300_000,
} as const;

export interface CalibrateOptions {
  readonly target: CalibrationTarget;
  /** Settle concurrency levels N (workers x maxInFlight); each runs with workers 1 and maxInFlight N. */
  readonly levels: readonly number[];
  readonly users: number;
  readonly shards: number;
  /** Shard counts for the second USL (emulators), each run at concurrency `shardConcurrency`. */
  readonly shardLevels?: readonly number[];
  readonly shardConcurrency?: number;
  readonly seed?: number;
  /**
   * Rounds over every level (default 1). Each round runs the levels in order again, so a burst of
   * load from elsewhere on the machine lands on different levels in different rounds; the fits
   * take every run (repeats at a level are welcome to the USL).
   */
  readonly repeat?: number;
  /**
   * Emulators: the one pair every run uses (each in a fresh project), so no run meets a freshly
   * started JVM; with `spannerPerRun`, each run with a Spanner emulator of its own beside its Pub/Sub.
   */
  readonly emulators?: RunEmulators;
  /** The command line, for the model's sources. */
  readonly command: string;
  /** A line per run on stderr. */
  readonly progress?: (line: string) => void;
  readonly log?: (line: string) => void;
}

export interface Calibrated extends FittedModel {
  readonly runs: readonly RunProfile[];
  readonly wallMs: number;
}

function calibrationDay(users: number, seed: number): RaceDay {
  // The day `raceday run --users N --seed S` settles: the same shape, so runs and calibration compare.
  return smokeRaceDay(seed, createRng(`raceday-run/smoke/${seed}`).fork('workload'), { usersMin: users, usersMax: users, ticketsPerUserMax: 4, stakeUnitsMax: 10 });
}

interface LevelRun {
  readonly workers: number;
  readonly maxInFlight: number;
  readonly shards: number;
}

async function profiledRun(o: CalibrateOptions, day: RaceDay, level: LevelRun): Promise<RunProfile> {
  return withRunEmulators(o.emulators, (emulators) => profiledRunOn(o, day, level, { spannerShards: level.shards, ...(emulators === undefined ? {} : { emulators }), ...(o.log === undefined ? {} : { log: o.log }) }));
}

async function profiledRunOn(o: CalibrateOptions, day: RaceDay, level: LevelRun, options: BackendOptions): Promise<RunProfile> {
  const opened = await openBackend(o.target, options);
  try {
    const recorder = createProfileRecorder();
    recorder.setWorkload({ users: day.users.length, tickets: day.ticketCount });
    const backend = profileBackend(opened, recorder);
    const r = await runDay({ day, backend, variants: DEFAULT_VARIANTS, workers: level.workers, maxInFlight: level.maxInFlight, timeoutMs: CALIBRATION_DEFAULTS.runTimeoutMs });
    if (!r.ok || r.realtime.timedOut) {
      const failed = r.invariants.filter((i) => !i.ok).map((i) => `${i.name}: ${i.violations[0] ?? ''}`);
      throw new Error(`PLAN.CALIBRATION_FAILED: the run at ${level.workers} x ${level.maxInFlight} over ${level.shards} shard(s) ${r.realtime.timedOut ? 'timed out' : `broke invariants (${failed.join('; ')})`}`);
    }
    return profileOfDay(recorder, opened, day, r, knobsOf(opened, { ...level }));
  } finally {
    await opened.close();
  }
}

/** Runs every level (and shard level), profiled, and fits the cost model. */
export async function calibrate(o: CalibrateOptions): Promise<PlanResult<Calibrated>> {
  const start = performance.now();
  // Refused before anything runs: a calibration that cannot fit its USL is minutes wasted.
  const distinct = new Set(o.levels).size;
  if (distinct < USL_LEVELS_MIN) return planErr('PLAN.TOO_FEW_LEVELS', `calibration needs at least ${USL_LEVELS_MIN} distinct concurrency levels for its USL fit, got ${distinct} (${o.levels.join(',')})`);
  const shardCounts = new Set(o.shardLevels ?? []).size;
  if (shardCounts > 0 && shardCounts < USL_LEVELS_MIN) return planErr('PLAN.TOO_FEW_LEVELS', `a USL over shards needs at least ${USL_LEVELS_MIN} distinct shard counts, got ${shardCounts} (${(o.shardLevels ?? []).join(',')})`);
  const seed = o.seed ?? CALIBRATION_DEFAULTS.seed;
  const day = calibrationDay(o.users, seed);
  const round: LevelRun[] = [...new Set(o.levels)].map((n) => ({ workers: 1, maxInFlight: n, shards: o.shards }));
  if (o.target === 'emulators') for (const s of o.shardLevels ?? []) round.push({ workers: 1, maxInFlight: o.shardConcurrency ?? Math.max(...o.levels), shards: s });
  const plan: LevelRun[] = Array.from({ length: o.repeat ?? 1 }, () => round).flat();
  const runs: (RunProfile & NormaliseRun)[] = [];
  // The first run in a process (and on an emulator pair) pays for JIT compilation and opening
  // channels: a discarded warm-up run of the first level keeps that out of the fits.
  const first = round[0];
  if (first !== undefined) {
    try {
      const warm = await profiledRun(o, day, first);
      o.progress?.(`plan calibrate: warm-up run (N = ${first.workers} x ${first.maxInFlight}, discarded): ${Math.round(warm.run.makespanMs)} ms`);
    } catch (e) {
      return planErr('PLAN.CALIBRATION_FAILED', (e instanceof Error ? e.message : String(e)).replace(/^PLAN\.CALIBRATION_FAILED: /, ''));
    }
  }
  for (const [i, level] of plan.entries()) {
    const t = performance.now();
    let p: RunProfile;
    try {
      p = await profiledRun(o, day, level);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      return planErr('PLAN.CALIBRATION_FAILED', message.replace(/^PLAN\.CALIBRATION_FAILED: /, ''));
    }
    // Emulators: every run meets the same Pub/Sub emulator, and the same Spanner emulator (which
    // served the warm-up and the runs before this one) unless each run has one of its own.
    runs.push(o.target === 'emulators' ? { ...p, pairRuns: spannerAgeOf(o.emulators, 1 + i) } : p);
    o.progress?.(
      `plan calibrate: run ${i + 1}/${plan.length} on ${o.target}: N = ${level.workers} x ${level.maxInFlight}, ${level.shards} shard(s): ${p.run.settledUsers} users settled in ${Math.round(p.run.makespanMs)} ms, ${Math.round(p.run.throughputUsersPerSecond)} users/s (${Math.round(performance.now() - t)} ms wall)`,
    );
  }
  const measuredAt = new Date().toISOString();
  const machine = `${hostname()}, ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.versions.node}`;
  const fitted = fitCostModel(runs, { target: o.target, measuredAt, sources: [`measured by: ${o.command} (${measuredAt.slice(0, 10)})`, `machine: ${machine}`, `workload: the smoke race day, seed ${seed}, ${day.users.length} users, ${day.ticketCount} tickets`, ...(o.emulators?.spannerPerRun === true ? ['emulators: each run on a Spanner emulator of its own, beside one Pub/Sub emulator'] : [])] });
  if (!fitted.ok) return fitted;
  // The fitted costs' common scale, set so the virtual model reproduces these runs (normalise.ts).
  // On the emulators every run with its pair's age (the start-up grows with it); on memory each
  // level's median run (with --repeat), so one run slowed by load does not set the scale.
  const normalised = await normaliseToRuns(fitted.value.model, scaleRuns(runs));
  o.progress?.(`plan calibrate: ${describeNormalised(normalised)}, so the virtual model reproduces the ${normalised.ratios.length} runs' makespans (measured / predicted: ${normalised.ratios.map((x) => x.toFixed(2)).join(', ')})`);
  return { ok: true, value: { ...fitted.value, model: normalised.model, runs, wallMs: Math.round(performance.now() - start) } };
}
