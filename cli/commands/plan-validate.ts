// `raceday plan --validate` (also `raceday plan-validate`): the capacity planner's own proof.
// Calibrates a cost model on small real runs, predicts held-out configurations it never saw with
// the virtual-time model and the closed-form cross-check, runs each for real, and prints the
// error of every prediction; exit 1 when the issue's targets are missed (each named).
import { OPERATIONS } from '../../planner/contracts.ts';
import { VALIDATION_BACKENDS, type ValidationBackend } from '../../planner/real-run.ts';
import { caseName, renderRows, VALIDATION_TARGETS } from '../../planner/validate-table.ts';
import { renderChecks } from '../../planner/validate-diagnose.ts';
import { runValidation, SKEW_TARGETS, type Calibrator, type KeptCalibration, type SkewTarget, type ValidationTable } from '../../planner/validate.ts';
import type { RunProfile } from '../../planner/profile.ts';
import { writeFile } from 'node:fs/promises';
import { planEmulators, stopOnInterrupt } from '../plan-interrupt.ts';
import { join } from 'node:path';
import type { CostModel, Predict } from '../../planner/contracts.ts';
import { defaultCostModel, loadCostModel } from '../../planner/calibration.ts';
import { formatPlanError } from '../../planner/plan-error.ts';
import { RunRecorder } from '../../reports/record/recorder.ts';
import { writeOutputs } from '../../reports/record/outputs.ts';
import type { RunRecord } from '../../reports/record/schema.ts';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import type { CommandModule } from '../main.ts';

const usage = `usage: raceday plan --validate [--backend memory|emulators] [--small] [--model shipped|FILE]
                               [--repeat K] [--diagnose] [--skew OP=FACTOR] [--shared-spanner]
                               [--json] [--out DIR]

The capacity planner's own proof: calibrates a cost model on small real runs (on the emulators
1,000 users at six settle concurrencies and over 1 to 6 shards, as the shipped calibration is
made; on memory 500 and 1,000 users), predicts held-out configurations it never saw (up to 5x the
users, other worker and shard counts) with the virtual-time model and the closed-form queueing
cross-check, runs each of them for real, and prints the error of every prediction.

  --backend B        memory (default) or emulators (the official Pub/Sub and Spanner emulators,
                     started or reused as "raceday run --backend emulators" does)
  --small            CI's size: 100-200-user calibration, three held-out runs up to 1,000 users (seconds)
  --skew OP=FACTOR   negative control: multiply an operation's fitted cost before predicting
                     (repeatable; OP one of ${OPERATIONS.join(', ')},
                     or startup: the fitted start-up)
  --model M          validate a cost model as it is instead of calibrating one: shipped (the
                     calibration raceday ships for the backend) or a cost model JSON file; the 2x
                     flag then counts from that model's largest calibrated run
  --repeat K         real runs per held-out configuration (default 1): the median makespan's run is
                     the measurement, and the spread (run-to-run noise) is printed beside it
  --diagnose         profile each held-out run and print, per operation, the model's cost of its
                     samples against what they cost (which operation's cost is off when a prediction misses)
  --shared-spanner   emulators: every run on the pair's one Spanner emulator, as it ages, instead
                     of a Spanner emulator of each run's own (the default where one can start: its
                     reads slow with every transaction it served, so later runs would start slower)
  --json             the table as one JSON object
  --out DIR          also write the run record DIR/metrics.json (the table in its capacityPlan
                     section, key "validation") and every output made from it

Targets (judged on the virtual-time model): every held-out makespan within ${VALIDATION_TARGETS.makespanErrorPct}%, throughput
MAPE <= ${VALIDATION_TARGETS.throughputMapePct}%, at least ${VALIDATION_TARGETS.heldOutMin} held-out configurations (full size). Predictions more than
${VALIDATION_TARGETS.extrapolationFlag}x the largest calibrated run are flagged. Progress goes to stderr.

Exit code 0 when the targets are met, 1 when one is missed (each named), 2 on a usage error;
143 after SIGTERM, 130 after Ctrl-C (no table; the emulator pair it started is stopped).`;

const spec = {
  validate: { type: 'boolean' },
  backend: { type: 'string', choices: VALIDATION_BACKENDS },
  small: { type: 'boolean' },
  skew: { type: 'string', repeatable: true },
  repeat: { type: 'int', min: 1, max: 9 },
  model: { type: 'string' },
  diagnose: { type: 'boolean' },
  'shared-spanner': { type: 'boolean' },
  json: { type: 'boolean' },
  out: { type: 'string' },
} as const;

/** What the validation needs from the planner: injected so a test can hand it a wrong model. */
export interface ValidateDeps {
  readonly calibrate: Calibrator;
  readonly predictVirtual: Predict;
  readonly predictClosedForm: Predict;
}

function parseSkews(values: readonly (string | number)[]): Partial<Record<SkewTarget, number>> {
  const out: Partial<Record<SkewTarget, number>> = {};
  for (const v of values) {
    const m = /^([a-zA-Z.]+)=(\d+(?:\.\d+)?)$/.exec(String(v));
    if (m === null) throw new UsageError(`option --skew must be OP=FACTOR (e.g. settle.commit=3), got "${v}"`);
    const op = m[1] as SkewTarget;
    if (!(SKEW_TARGETS as readonly string[]).includes(op)) throw new UsageError(`option --skew names an unknown operation "${op}" (one of ${SKEW_TARGETS.join(', ')})`);
    const factor = Number(m[2]);
    if (!(factor > 0)) throw new UsageError(`option --skew needs a factor above 0, got "${m[2]}"`);
    out[op] = factor;
  }
  return out;
}

/** `--model shipped|FILE`: the model to validate as it is; one of another target is refused. */
function givenModel(m: string, backend: ValidationBackend): { model: CostModel; name: string } {
  if (m === 'shipped') return { model: defaultCostModel(backend), name: `the shipped ${backend} calibration` };
  const r = loadCostModel(m);
  if (!r.ok) throw new UsageError(`option --model: ${formatPlanError(r.error)}`);
  if (r.value.target !== backend) throw new UsageError(`option --model: ${m} is a model of the ${r.value.target} backend; validate it with --backend ${r.value.target}`);
  return { model: r.value, name: m };
}

/** The table's numbers as record figures (finite ones only: an unjudgeable error is left out). */
function tableFigures(t: ValidationTable): Record<string, number> {
  const f: Record<string, number> = {
    heldOut: t.totals.heldOut,
    flagged: t.totals.flagged,
    throughputMapePct: t.totals.virtual.throughputMapePct,
    makespansWithin20: t.totals.virtual.makespansWithin20,
    closedFormThroughputMapePct: t.totals.closedForm.throughputMapePct,
    calibrationMs: t.calibration.wallMs,
  };
  for (const r of t.rows) {
    const k = `${r.case.users}u-${r.case.workers}w-${r.case.shards}s`;
    Object.assign(f, {
      [`${k}.measuredMakespanMs`]: r.measured.makespanMs,
      [`${k}.virtualMakespanMs`]: r.virtual.makespanMs.p50,
      [`${k}.virtualMakespanErrorPct`]: r.virtual.makespanErrorPct,
      [`${k}.closedFormMakespanErrorPct`]: r.closedForm.makespanErrorPct,
      [`${k}.throughputErrorPct`]: r.virtual.throughputErrorPct,
    });
  }
  return Object.fromEntries(Object.entries(f).filter(([, v]) => Number.isFinite(v)));
}

async function writeRecord(dir: string, argv: readonly string[], t: ValidationTable, rec: RunRecorder): Promise<void> {
  rec.figures(tableFigures(t));
  for (const r of t.rows) rec.invariant({ name: `held-out run ${r.case.users}u/${r.case.workers}w/${r.case.shards}s`, ok: r.measured.ok, violations: r.measured.ok ? [] : ['an invariant failed or the run timed out'] });
  const v = t.totals.virtual;
  rec.gate({ name: 'makespan-within-20pct', status: v.makespansWithin20 === t.totals.heldOut ? 'pass' : 'fail', metric: 'makespanErrorPct', message: `${v.makespansWithin20}/${t.totals.heldOut} held-out makespans within ${VALIDATION_TARGETS.makespanErrorPct}%`, values: { observed: v.makespansWithin20, threshold: t.totals.heldOut } });
  rec.gate({ name: 'throughput-mape', status: v.throughputMapePct <= VALIDATION_TARGETS.throughputMapePct ? 'pass' : 'fail', metric: 'throughputMapePct', message: `throughput MAPE ${v.throughputMapePct.toFixed(1)}% (target <= ${VALIDATION_TARGETS.throughputMapePct}%)`, values: { observed: Number.isFinite(v.throughputMapePct) ? v.throughputMapePct : -1, threshold: VALIDATION_TARGETS.throughputMapePct } });
  rec.configure({ backend: t.backend, size: t.size, model: t.calibration.given ?? 'calibrated', skew: JSON.parse(JSON.stringify(t.calibration.skew)) as RunRecord['configuration'][string] });
  const record: RunRecord = { ...rec.stop(t.verdict.met), argv: [...argv], capacityPlan: JSON.parse(JSON.stringify({ validation: t })) as RunRecord['capacityPlan'] };
  const written = await writeOutputs(dir, { records: [record] }, undefined, record);
  process.stderr.write(`plan --validate: wrote ${written.files.join(', ')} to ${dir} in ${written.ms} ms\n`);
}

/**
 * DIR/calibration.json: the calibration runs' profiles, the model fitted from them before
 * normalisation and (with --diagnose) the held-out runs' profiles, so a miss can be studied
 * offline (normaliseToRuns, checkOperations) without running anything again.
 */
async function keepCalibration(dir: string, kept: { calibration?: KeptCalibration; heldOut: RunProfile[] }): Promise<void> {
  if (kept.calibration === undefined && kept.heldOut.length === 0) return;
  await writeFile(join(dir, 'calibration.json'), `${JSON.stringify({ schemaVersion: 1, ...kept })}\n`);
  process.stderr.write(`plan --validate: wrote calibration.json (profiles of the calibration${kept.heldOut.length > 0 ? ' and held-out' : ''} runs) to ${dir}\n`);
}

export function renderTable(t: ValidationTable): string {
  const source = t.calibration.given === undefined ? `calibrated on ${t.calibration.cases.length} configurations${(t.calibration.rounds ?? 1) > 1 ? ` x ${t.calibration.rounds} rounds` : ''} up to ${t.calibration.maxUsers} users` : `${t.calibration.given} (up to ${t.calibration.maxUsers} users)`;
  const title = `capacity planner validation on ${t.backend}${t.size === 'small' ? ' (--small)' : ''}: ${source}, ${t.rows.length} held out (${(t.wallMs / 1000).toFixed(1)} s)`;
  const diagnosis = t.rows.filter((r) => r.operations !== undefined).map((r) => `  ${caseName(r.case)}: settle busy ${((r.settleBusyShare ?? 0) * 100).toFixed(0)}% of makespan x units; ${renderChecks(r.operations ?? [])}`);
  return [title, '', ...renderRows(t.rows, t.totals, t.verdict), ...(diagnosis.length === 0 ? [] : ['', 'operations, model cost / held-out cost of the same samples (worst first):', ...diagnosis])].join('\n');
}

/** The command's body with its planner pieces given: `command.run` passes the real ones. */
export async function validateCommand(argv: readonly string[], deps: ValidateDeps): Promise<number> {
  return withUsage(usage, async () => {
    const { flags, lists } = parseArgs(argv, spec);
    const backend = (flags['backend'] ?? 'memory') as ValidationBackend;
    const skew = parseSkews(lists['skew'] ?? []);
    const out = typeof flags['out'] === 'string' ? flags['out'] : undefined;
    const size = flags['small'] === true ? 'small' : 'full';
    const rec = out === undefined ? undefined : new RunRecorder({ command: 'plan --validate', argv, scenario: 'plan-validate', backend, seed: 1 }).start();
    const repeat = typeof flags['repeat'] === 'number' ? flags['repeat'] : 1;
    const given = typeof flags['model'] === 'string' ? givenModel(flags['model'], backend) : undefined;
    const kept: { calibration?: KeptCalibration; heldOut: RunProfile[] } = { heldOut: [] };
    const keep = { calibration: (k: KeptCalibration) => void (kept.calibration = k), heldOut: (p: RunProfile) => void kept.heldOut.push(p) };
    const log = (line: string): void => void process.stderr.write(`${line}\n`);
    // One emulator pair for every run of the validation (reused when one runs already, else
    // started here and stopped at the end), each run with a Spanner emulator of its own beside it.
    const emulators = backend === 'emulators' ? await planEmulators(flags['shared-spanner'] === true, log) : undefined;
    const pair = emulators?.pair;
    const uninstall = stopOnInterrupt(pair, log);
    let table: ValidationTable;
    try {
      table = await runValidation({ backend, size, ...deps, skew, repeat, keep, diagnose: flags['diagnose'] === true, ...(given === undefined ? {} : { model: given }), ...(emulators === undefined ? {} : { emulators }), log });
    } finally {
      uninstall();
      await pair?.stop();
    }
    if (flags['json'] === true) process.stdout.write(`${JSON.stringify(table)}\n`);
    else process.stdout.write(`${renderTable(table)}\n`);
    if (rec !== undefined && out !== undefined) {
      await writeRecord(out, argv, table, rec);
      await keepCalibration(out, kept);
    }
    if (!table.verdict.met) process.stderr.write(`plan --validate: targets missed: ${table.verdict.missed.join('; ')}\n`);
    return table.verdict.met ? 0 : 1;
  });
}

/** The planner's real pieces: p1's calibration of profiled runs, the virtual-time and closed-form predictors. */
export async function planValidateDeps(): Promise<ValidateDeps> {
  const [{ predictVirtual }, { predictClosedForm }, { validationCalibrator }] = await Promise.all([import('../../planner/virtual.ts'), import('../../planner/queueing.ts'), import('../../planner/validate-calibrate.ts')]);
  return { calibrate: validationCalibrator, predictVirtual, predictClosedForm };
}

export const planValidate: CommandModule = {
  summary: 'the capacity planner predicts runs it never saw, runs them, and reports its error',
  usage,
  run: async (argv) => validateCommand(argv, await planValidateDeps()),
};

/** Found by the command loader as `raceday plan-validate` until `raceday plan --validate` routes here. */
export const command = planValidate;
