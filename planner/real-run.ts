// One configuration of the validation run for real: the same race day `raceday run --users N`
// settles (same seed, same shape), on the memory backend or the emulators, through the same code
// `raceday run` uses (openBackend + runDay), invariants checked. What it returns is what the
// planner predicts: makespan (result published -> last user settled) and throughput (users
// settled per second of that makespan). No profiling decorators here: a held-out run is measured
// as the user would run it, so the profiling's own overhead never flatters the model.
import { loadavg } from 'node:os';
import { createRng } from '../core/rng.ts';
import { SETTLEMENTS_PER_COMMIT_DEFAULT } from '../backends/google/spanner-batch.ts';
import { DEFAULT_VARIANTS } from '../pipeline/settings.ts';
import type { RaceDay } from '../scenarios/model.ts';
import { openBackend, type OpenedBackend } from '../sim/open-backend.ts';
import { withOwnSpanner, type EmulatorHandle } from '../emulators/index.ts';
import { runDay, type DayBackend } from '../sim/run-day.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import type { PlanConfiguration, Workload } from './contracts.ts';

/** The backends a validation runs on: the ones this machine can run for real. */
export const VALIDATION_BACKENDS = ['memory', 'emulators'] as const;
export type ValidationBackend = (typeof VALIDATION_BACKENDS)[number];

/** One configuration to predict and run: the knobs `raceday run` takes. */
export interface ValidationCase {
  readonly users: number;
  /** Workers per stage (settle, post-settle and notify alike, as `raceday run --workers`). */
  readonly workers: number;
  /** Spanner shard databases (emulators; 1 on memory). */
  readonly shards: number;
  readonly maxInFlight: number;
}

export interface MeasuredRun {
  readonly users: number;
  readonly tickets: number;
  readonly settledUsers: number;
  /** Result published -> last user settled. */
  readonly makespanMs: number;
  readonly notifyMakespanMs: number;
  /** settledUsers / makespan in seconds. */
  readonly throughputUsersPerSecond: number;
  /** The whole run: open, load, settle, check, close. */
  readonly wallMs: number;
  /** Every invariant held and nothing timed out. */
  readonly ok: boolean;
  readonly transactionsCommitted: number;
  /** The machine's 1-minute load average when the run ended: contention shows in every wall-clock figure. */
  readonly loadAverage1m: number;
}

/** The seed and shape `raceday run` uses, so `raceday run --users N --seed S` reproduces a case. */
export const VALIDATION_SEED = 1;
const TICKETS_PER_USER_MAX = 4;
const RUN_TIMEOUT_MS = 300_000;

/** The race day of a case: deterministic, so its ticket count is known before it runs. */
export function caseDay(users: number, seed: number = VALIDATION_SEED): RaceDay {
  return smokeRaceDay(seed, createRng(`raceday-run/smoke/${seed}`).fork('workload'), { usersMin: users, usersMax: users, ticketsPerUserMax: TICKETS_PER_USER_MAX, stakeUnitsMax: 10 });
}

export function workloadOf(day: RaceDay): Workload {
  return { users: day.users.length, tickets: day.ticketCount, races: day.races.length };
}

/** The planner's configuration of a case: what `raceday run` sets, the rest at its defaults. */
export function configurationOf(backend: ValidationBackend, c: ValidationCase): PlanConfiguration {
  return {
    settleWorkers: c.workers,
    postSettleWorkers: c.workers,
    notifyWorkers: c.workers,
    maxInFlight: c.maxInFlight,
    spannerShards: c.shards,
    settlementsPerCommit: backend === 'emulators' ? SETTLEMENTS_PER_COMMIT_DEFAULT.emulators : 1,
    fanout: 'per-user',
    gatewayInstances: 0,
    subscriberClients: c.workers,
  };
}

/**
 * The emulators a planner's runs use: one pair, and whether each run takes a Spanner emulator of
 * its own beside the pair's Pub/Sub. The Spanner emulator's reads slow with every transaction it
 * has served (docs/capacity-model.md, "The emulator pair's age"), so with `spannerPerRun` every
 * run, calibration or held out, meets a Spanner emulator that served nothing before it; the Pub/Sub
 * emulator stays the one pair's, warmed by the runs before (its JVM's compiled code carries over).
 */
export interface RunEmulators {
  readonly pair: EmulatorHandle;
  readonly spannerPerRun: boolean;
}

/** The runs' Spanner age in runs served before, when it is known: 0 for every run with `spannerPerRun`. */
export const spannerAgeOf = (e: RunEmulators | undefined, runsBefore: number): number => (e?.spannerPerRun === true ? 0 : runsBefore);

/** Calls `fn` with the emulators of one run: the pair, or the pair with a Spanner emulator of the run's own, stopped after. */
export async function withRunEmulators<T>(e: RunEmulators | undefined, fn: (handle: EmulatorHandle | undefined) => Promise<T>): Promise<T> {
  if (e === undefined || !e.spannerPerRun) return fn(e?.pair);
  const own = await withOwnSpanner(e.pair);
  try {
    return await fn(own);
  } finally {
    await own.stop();
  }
}

/** Wraps the opened backend's ports before the run (a calibration's profilers); the run reads figures through it. */
export type WrapBackend = (opened: OpenedBackend, day: RaceDay) => DayBackend;

/** Runs one case for real and measures it. Throws when the backend cannot be opened. */
export async function runCase(backend: ValidationBackend, c: ValidationCase, log: (line: string) => void = () => undefined, wrap?: WrapBackend, emulators?: RunEmulators): Promise<MeasuredRun> {
  return withRunEmulators(emulators, (handle) => runOnce(backend, c, log, wrap, handle));
}

async function runOnce(backend: ValidationBackend, c: ValidationCase, log: (line: string) => void, wrap: WrapBackend | undefined, emulators: EmulatorHandle | undefined): Promise<MeasuredRun> {
  const start = performance.now();
  const day = caseDay(c.users);
  // Reusing the running emulators is said once per run: not worth a line per configuration.
  const quiet = (line: string): void => (line.startsWith('emulators: reusing') ? undefined : log(line));
  const opened = await openBackend(backend, { ...(backend === 'emulators' ? { spannerShards: c.shards, ...(emulators === undefined ? {} : { emulators }) } : {}), log: quiet });
  let r;
  let transactionsCommitted = 0;
  try {
    r = await runDay({ day, backend: wrap === undefined ? opened : wrap(opened, day), variants: DEFAULT_VARIANTS, workers: c.workers, maxInFlight: c.maxInFlight, timeoutMs: RUN_TIMEOUT_MS });
    transactionsCommitted = opened.stats().transactionsCommitted;
  } finally {
    await opened.close();
  }
  const rt = r.realtime;
  const makespanMs = rt.makespanMs;
  return {
    users: day.users.length,
    tickets: day.ticketCount,
    settledUsers: rt.settledUsers,
    makespanMs,
    notifyMakespanMs: rt.notifyMakespanMs,
    throughputUsersPerSecond: makespanMs > 0 ? rt.settledUsers / (makespanMs / 1000) : 0,
    wallMs: Math.round(performance.now() - start),
    ok: r.ok && !rt.timedOut,
    transactionsCommitted,
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}
