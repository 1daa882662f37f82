// The planner's own proof (`raceday plan --validate`): calibrate a cost model on small real runs,
// predict configurations it never saw (more users, other worker and shard counts) with the
// virtual-time model and the closed-form cross-check, then run each of them for real and report
// the error of every prediction. Each prediction is made before its run starts, from the model
// alone. Predictions more than 2x beyond the largest calibrated run are flagged, not hidden.
import { OPERATIONS, type CostModel, type LinearCost, type OperationName, type Predict } from './contracts.ts';
import type { RunProfile } from './profile.ts';
import { caseDay, configurationOf, runCase, spannerAgeOf, workloadOf, type MeasuredRun, type RunEmulators, type ValidationBackend, type ValidationCase } from './real-run.ts';
import { checkOperations, renderChecks, settleBusyShare, type OperationCheck } from './validate-diagnose.ts';
import { profiledRun } from './validate-calibrate.ts';
import { atPairAge } from './normalise.ts';
import { caseName, extrapolationOf, figuresOf, isFlagged, medianRun, spreadPct, totalsOf, verdictOf, type TargetVerdict, type ValidationRow, type ValidationTotals } from './validate-table.ts';

export type ValidationSize = 'full' | 'small';

export interface ValidationPlan {
  readonly calibration: readonly ValidationCase[];
  /** Times each calibration case runs (round after round); normalisation takes each case's median run. Default 1. */
  readonly calibrationRounds?: number;
  readonly heldOut: readonly ValidationCase[];
}

const c = (users: number, workers: number, shards = 1, maxInFlight = 256): ValidationCase => ({ users, workers, shards, maxInFlight });

/**
 * The configurations per backend and size. Calibration: six or more settle concurrency levels
 * (workers x messages in flight, the levels a USL fit needs): on the emulators 1,000 users on 1
 * shard and then over 2 to 6 shards (a USL over shards), on memory 500 and 1,000 users. On
 * memory one thread runs every handler, so a profiled call's time is mostly other handlers' work at high in flight;
 * normalisation (normalise.ts) sets the costs' scale from the runs, so memory calibrates at
 * 16..512 in flight, around the held-out runs' 256. Held out: up to 5x the largest calibration
 * run, other worker and shard counts, none of them calibrated.
 * Full size runs the calibration in 3 rounds: a single run on a shared machine moves by 10% to 80%
 * with load from elsewhere (measured: the same calibration twice, minutes apart, 2x apart on some
 * cases), and each case's median run sets the scale.
 * --small is CI's: seconds, not minutes.
 */
export const VALIDATION_PLANS: Readonly<Record<ValidationBackend, Readonly<Record<ValidationSize, ValidationPlan>>>> = {
  emulators: {
    full: {
      // As `raceday plan calibrate` makes the shipped calibration: 1,000 users at six settle
      // concurrencies on 1 shard, then 2 to 6 shards at the largest, so the shards' scaling is a
      // measured USL rather than a process capacity picked by the runs' scatter (with 1 to 4 shards
      // in four configurations, capacities 1, 1.5 and 2 scattered 15%, 16% and 15%).
      calibration: [...[16, 32, 64, 128, 256, 512].map((n) => c(1_000, 1, 1, n)), ...[2, 3, 4, 5, 6].map((s) => c(1_000, 1, s, 512))],
      calibrationRounds: 3,
      heldOut: [c(2_000, 2, 1), c(1_500, 3, 3), c(3_000, 1, 2), c(5_000, 4, 4), c(2_500, 4, 2), c(4_000, 2, 3), c(800, 3, 4), c(5_000, 2, 2)],
    },
    small: {
      calibration: [c(100, 1, 1, 64), c(200, 2, 2, 256), c(200, 1, 1, 256)],
      heldOut: [c(300, 2, 1), c(400, 3, 2), c(1_000, 2, 2)],
    },
  },
  memory: {
    full: {
      calibration: [c(500, 1, 1, 16), c(1_000, 1, 1, 32), c(500, 1, 1, 64), c(1_000, 2, 1, 64), c(500, 1, 1, 256), c(1_000, 2, 1, 256), c(1_000, 1, 1, 512)],
      calibrationRounds: 3,
      heldOut: [c(2_000, 2), c(1_500, 3), c(3_000, 1), c(5_000, 4), c(2_500, 8), c(4_000, 2), c(800, 6), c(5_000, 1)],
    },
    small: {
      calibration: [c(100, 1, 1, 16), c(200, 1, 1, 32), c(100, 1, 1, 64), c(200, 2, 1, 64), c(100, 1, 1, 256), c(200, 1, 1, 512)],
      heldOut: [c(300, 2), c(400, 3), c(1_000, 2)],
    },
  },
};

const sameCase = (a: ValidationCase, b: ValidationCase): boolean => a.users === b.users && a.workers === b.workers && a.shards === b.shards && a.maxInFlight === b.maxInFlight;

/** A plan whose held-out set overlaps its calibration set would prove nothing. */
export function checkPlan(plan: ValidationPlan): void {
  if (plan.calibration.length === 0 || plan.heldOut.length === 0) throw new Error('invariant violated: a validation plan has calibration and held-out configurations');
  const seen = plan.heldOut.find((h) => plan.calibration.some((k) => sameCase(h, k)));
  if (seen !== undefined) throw new Error(`invariant violated: held-out configuration ${caseName(seen)} is also in the calibration set`);
}

/** A calibration: the cost model fitted from real runs of the calibration cases. */
export type Calibrator = (o: {
  readonly backend: ValidationBackend;
  readonly cases: readonly ValidationCase[];
  readonly log: (line: string) => void;
  readonly keep?: (k: KeptCalibration) => void;
  readonly rounds?: number;
  readonly emulators?: RunEmulators;
  /** Emulators: runs the pair served before the calibration's first (the warm-up), so each calibration run's age is known. */
  readonly pairRunsBefore?: number;
}) => Promise<CostModel>;

/** What a calibration saw, kept for study (`--out DIR` writes it as DIR/calibration.json): its runs' profiles and the model before normalisation. */
export interface KeptCalibration {
  readonly profiles: readonly RunProfile[];
  readonly fitted: CostModel;
}

/**
 * What a negative control can multiply: an operation's fitted cost, or `startup`, the fitted
 * start-up (with its growth per pair run). A model fitted on a cold or busy machine can put most of
 * a small run's time into its start-up; skewing costs alone then barely moves the prediction.
 */
export type SkewTarget = OperationName | 'startup';
export const SKEW_TARGETS: readonly SkewTarget[] = [...OPERATIONS, 'startup'];
export type Skew = Readonly<Partial<Record<SkewTarget, number>>>;

/** Multiplies operations' fitted costs and, with `startup`, the fitted start-up: the negative control (a model known to be wrong must be reported wrong). */
export function skewModel(model: CostModel, factors: Skew): CostModel {
  const operations: Partial<Record<OperationName, LinearCost>> = { ...model.operations };
  let startup: Pick<CostModel, 'startupMs' | 'startupPerPairRunMs'> = {};
  for (const [name, factor] of Object.entries(factors) as [SkewTarget, number][]) {
    if (name === 'startup') {
      startup = {
        ...(model.startupMs === undefined ? {} : { startupMs: model.startupMs * factor }),
        ...(model.startupPerPairRunMs === undefined ? {} : { startupPerPairRunMs: model.startupPerPairRunMs * factor }),
      };
      continue;
    }
    const op = operations[name];
    if (op === undefined) throw new Error(`the cost model has no operation ${name} to skew (it has: ${Object.keys(operations).join(', ')})`);
    operations[name] = { ...op, baseUs: op.baseUs * factor, perUs: Object.fromEntries(Object.entries(op.perUs).map(([k, v]) => [k, v * factor])) };
  }
  return { ...model, ...startup, operations, sources: [...model.sources, `skewed for a negative control: ${JSON.stringify(factors)}`] };
}

export interface ValidationOptions {
  readonly backend: ValidationBackend;
  readonly size: ValidationSize;
  readonly calibrate: Calibrator;
  readonly predictVirtual: Predict;
  readonly predictClosedForm: Predict;
  /** Cost factors applied to the fitted model before predicting (negative control). */
  readonly skew?: Skew;
  /** Runs a case for real (default: runCase on the backend). */
  readonly run?: (backend: ValidationBackend, c: ValidationCase, log: (line: string) => void) => Promise<MeasuredRun>;
  /**
   * Emulators: the one pair every run of the validation uses (each in a fresh project), so the
   * calibration and the held-out runs meet the same Pub/Sub emulator, warmed by the warm-up run,
   * rather than a freshly started one each (whose JVM compiles while the run runs); with
   * `spannerPerRun`, each run beside it a Spanner emulator of its own, so none meets an older one.
   */
  readonly emulators?: RunEmulators;
  readonly plan?: ValidationPlan;
  readonly log?: (line: string) => void;
  /** Real runs per held-out configuration (default 1); the median makespan's run is the measurement. */
  readonly repeat?: number;
  /** Profile the first run of each held-out configuration and set each operation's cost against the model's. */
  readonly diagnose?: boolean;
  /** A model to validate as it is (the shipped calibration, a user's file): no calibration runs, its calibratedMax sets the flag. */
  readonly model?: { readonly model: CostModel; readonly name: string };
  /** Receives the calibration's profiles and raw model, and each diagnosed held-out run's profile. */
  readonly keep?: { readonly calibration?: (k: KeptCalibration) => void; readonly heldOut?: (p: RunProfile) => void };
}

export interface ValidationTable {
  readonly schemaVersion: 1;
  readonly backend: ValidationBackend;
  readonly size: ValidationSize;
  readonly calibration: {
    /** The calibration runs (none when a given model was validated). */
    readonly cases: readonly ValidationCase[];
    /** Times each case ran (round after round); 0 when a given model was validated. */
    readonly rounds: number;
    /** The model validated as given (`--model`), instead of one calibrated here. */
    readonly given?: string;
    readonly maxUsers: number;
    readonly model: Pick<CostModel, 'target' | 'measuredAt' | 'sources' | 'calibratedMax'>;
    readonly skew: Skew;
    readonly wallMs: number;
  };
  readonly rows: readonly ValidationRow[];
  readonly totals: ValidationTotals;
  readonly verdict: TargetVerdict;
  readonly wallMs: number;
}

/** How a case runs for real: the caller's runner, else runCase on the validation's emulator pair. */
function runOf(o: ValidationOptions): (backend: ValidationBackend, c: ValidationCase, log: (line: string) => void) => Promise<MeasuredRun> {
  return o.run ?? ((backend, c, log) => runCase(backend, c, log, undefined, o.emulators));
}

/** The held-out configuration's real runs: `repeat` of them, the first profiled when diagnosing. */
async function measure(o: ValidationOptions, model: CostModel, k: ValidationCase, log: (line: string) => void): Promise<{ runs: MeasuredRun[]; operations?: OperationCheck[]; settleBusyShare?: number }> {
  const runs: MeasuredRun[] = [];
  let operations: OperationCheck[] | undefined;
  let busy: number | undefined;
  for (let i = 0; i < Math.max(1, o.repeat ?? 1); i++) {
    if (i === 0 && o.diagnose === true) {
      const p = await profiledRun(o.backend, k, log, o.emulators);
      o.keep?.heldOut?.(p.profile);
      runs.push(p.measured);
      operations = checkOperations(model, p.profile);
      // Memory: one thread is the one unit; the emulators: one transaction per shard database.
      busy = settleBusyShare(p.profile, o.backend === 'memory' ? 1 : k.shards);
    } else runs.push(await runOf(o)(o.backend, k, log));
  }
  return operations === undefined || busy === undefined ? { runs } : { runs, operations, settleBusyShare: busy };
}

async function validateCase(o: ValidationOptions, fitted: CostModel, maxUsers: number, k: ValidationCase, pairRuns: number, log: (line: string) => void): Promise<ValidationRow> {
  const day = caseDay(k.users);
  const workload = workloadOf(day);
  const configuration = configurationOf(o.backend, k);
  // The model of a run on a pair as old as this case's runs will meet (known before they start:
  // the runs made on it so far); a model without the term is used as it is.
  const model = atPairAge(fitted, pairRuns);
  // Both predictions exist before the run starts: nothing measured can leak into them.
  const virtual = await o.predictVirtual(model, configuration, workload);
  const closedForm = await o.predictClosedForm(model, configuration, workload);
  const { runs, operations, settleBusyShare: busy } = await measure(o, model, k, log);
  const measured = medianRun(runs);
  const extrapolation = extrapolationOf(k.users, maxUsers);
  return {
    case: k,
    tickets: workload.tickets,
    measured,
    ...(runs.length > 1 ? { repeats: { makespansMs: runs.map((r) => r.makespanMs), spreadPct: spreadPct(runs.map((r) => r.makespanMs)) } } : {}),
    ...(operations === undefined ? {} : { operations }),
    ...(busy === undefined ? {} : { settleBusyShare: busy }),
    extrapolation,
    flagged: isFlagged(extrapolation),
    virtual: figuresOf(virtual, measured),
    closedForm: figuresOf(closedForm, measured),
  };
}

export async function runValidation(o: ValidationOptions): Promise<ValidationTable> {
  const start = performance.now();
  const log = o.log ?? (() => undefined);
  const plan = o.plan ?? VALIDATION_PLANS[o.backend][o.size];
  checkPlan(plan);
  const given = o.model;
  const maxUsers = given === undefined ? Math.max(...plan.calibration.map((k) => k.users)) : given.model.calibratedMax.users;
  // The first run in a process pays for JIT compilation and opening client channels: a discarded
  // warm-up run keeps that cost out of the calibration and out of the first held-out figure.
  const warm = await runOf(o)(o.backend, { ...(plan.calibration[0] as ValidationCase) }, log);
  log(`validate: warm-up run (${caseName(plan.calibration[0] as ValidationCase)}, discarded): ${Math.round(warm.makespanMs)} ms`);
  if (given === undefined) log(`validate: calibrating on ${plan.calibration.length} ${o.backend} runs (${plan.calibration.map(caseName).join(', ')})`);
  else log(`validate: no calibration runs: validating ${given.name} (calibrated up to ${maxUsers} users, ${given.model.measuredAt})`);
  // The emulator pair's age in runs: the warm-up was its first here (a pair reused from before
  // carries an older, unknown age, which the fitted start-up then absorbs as a constant).
  const warmups = 1;
  const rounds = plan.calibrationRounds ?? 1;
  const fitted = given === undefined ? await o.calibrate({ backend: o.backend, cases: plan.calibration, log, rounds, pairRunsBefore: warmups, ...(o.emulators === undefined ? {} : { emulators: o.emulators }), ...(o.keep?.calibration === undefined ? {} : { keep: o.keep.calibration }) }) : given.model;
  const calibrationMs = Math.round(performance.now() - start);
  const skew = o.skew ?? {};
  const model = Object.keys(skew).length === 0 ? fitted : skewModel(fitted, skew);
  const rows: ValidationRow[] = [];
  const repeat = Math.max(1, o.repeat ?? 1);
  const calibrationRuns = given === undefined ? plan.calibration.length * rounds : 0;
  for (const [i, k] of plan.heldOut.entries()) {
    // The middle of the case's own runs: the first starts after `i` cases of `repeat` runs each.
    const pairRuns = spannerAgeOf(o.emulators, warmups + calibrationRuns + i * repeat + (repeat - 1) / 2);
    const row = await validateCase(o, model, maxUsers, k, pairRuns, log);
    rows.push(row);
    log(`validate: held-out ${i + 1}/${plan.heldOut.length} ${caseName(k)}: measured ${Math.round(row.measured.makespanMs)} ms${row.repeats === undefined ? '' : ` (median of ${row.repeats.makespansMs.length}, spread ${row.repeats.spreadPct.toFixed(0)}%)`}, virtual ${Math.round(row.virtual.makespanMs.p50)} ms (${row.virtual.makespanErrorPct.toFixed(1)}%), closed-form ${Math.round(row.closedForm.makespanMs.p50)} ms (${row.closedForm.makespanErrorPct.toFixed(1)}%)${row.flagged ? ' [>2x calibrated]' : ''}, load ${row.measured.loadAverage1m}${model.startupPerPairRunMs === undefined ? '' : `, predicted for a pair that served ${pairRuns} runs before`}`);
    if (row.operations !== undefined) log(`validate:   settle transactions busy ${((row.settleBusyShare ?? 0) * 100).toFixed(0)}% of makespan x units; operations, model / held-out: ${renderChecks(row.operations)}`);
  }
  const totals = totalsOf(rows);
  return {
    schemaVersion: 1,
    backend: o.backend,
    size: o.size,
    calibration: { cases: given === undefined ? plan.calibration : [], rounds: given === undefined ? (plan.calibrationRounds ?? 1) : 0, ...(given === undefined ? {} : { given: given.name }), maxUsers, model: { target: model.target, measuredAt: model.measuredAt, sources: model.sources, calibratedMax: model.calibratedMax }, skew, wallMs: calibrationMs },
    rows,
    totals,
    verdict: verdictOf(rows, totals, o.size === 'full'),
    wallMs: Math.round(performance.now() - start),
  };
}
