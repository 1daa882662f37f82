// `raceday plan calibrate` (also `raceday plan-calibrate`): profiled real runs at several
// concurrency levels on the memory backend or the emulators, fitted into a cost model JSON (the
// service time of every operation the pipeline performs and the Universal Scalability Law).
import { writeFileSync } from 'node:fs';
import { CALIBRATION_DEFAULTS, CALIBRATION_TARGETS, calibrate, type CalibrationTarget } from '../../planner/calibrate.ts';
import { costModelJson } from '../../planner/calibration.ts';
import type { CostModel } from '../../planner/contracts.ts';
import { formatPlanError } from '../../planner/plan-error.ts';
import { finishProfiledRecording } from '../../planner/profile-run.ts';
import { RunRecorder } from '../../reports/record/recorder.ts';
import { planEmulators, stopOnInterrupt } from '../plan-interrupt.ts';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import type { CommandModule } from '../main.ts';

const usage = `usage: raceday plan calibrate --backend memory|emulators [--levels 1,2,3,4,6,8] [--users N]
                              [--shards S] [--shard-levels 1,2,3,4,5,6] [--out FILE.json]
                              [--repeat K] [--record DIR] [--shared-spanner] [--json]

Measures the pipeline for the capacity planner: settles the smoke race day once per concurrency
level, for real (the same code as "raceday run"), with every Store and bus operation profiled,
then fits a cost model: each operation's service time against its size (least squares) and the
Universal Scalability Law of throughput against concurrency (sigma, kappa, peak N). Progress goes
to stderr, one line per run.

  --backend B         memory or emulators (the official Pub/Sub and Spanner emulators, started or
                      reused as "raceday run --backend emulators" does; RACEDAY_STATE_DIR shares a pair)
  --levels L          settle concurrency levels N = workers x maxInFlight, comma separated, at least 6
                      (default memory ${CALIBRATION_DEFAULTS.levels.memory.join(',')}; emulators ${CALIBRATION_DEFAULTS.levels.emulators.join(',')});
                      each runs with 1 worker and maxInFlight N
  --users N           users of each run (default ${CALIBRATION_DEFAULTS.users})
  --shards S          emulators: Spanner shard databases of the level runs (default ${CALIBRATION_DEFAULTS.shards})
  --shard-levels L    emulators: also run these shard counts (at the largest level) and fit a second
                      USL over shards (at least 6 counts)
  --repeat K          run every level K times, round after round (default 1): on a busy machine
                      the fits then see each level's spread rather than one draw
  --seed S            the race day's seed (default ${CALIBRATION_DEFAULTS.seed})
  --out FILE.json     write the cost model there (planner/calibration.ts loadCostModel reads it; the
                      shipped defaults are planner/calibrations/memory.json and emulators.json)
  --record DIR        also write the runs as a run record, DIR/metrics.json with every run's profile
                      (and its outputs): "raceday plan --calibrate DIR/metrics.json" fits from it
  --shared-spanner    emulators: every run on the pair's one Spanner emulator, as it ages, instead of
                      a Spanner emulator of each run's own (the default where one can start: its reads
                      slow with every transaction it served, so later runs would start slower)
  --json              one JSON object: the model, its warnings, every run's figures, wall time

Exit code 0 on a fitted model, 1 when a run failed or too few levels were measured, 2 on a usage error;
143 after SIGTERM, 130 after Ctrl-C (no model file; the emulator pair it started is stopped).`;

const spec = {
  backend: { type: 'string', choices: CALIBRATION_TARGETS },
  levels: { type: 'string' },
  users: { type: 'int', min: 10, max: 200_000 },
  shards: { type: 'int', min: 1, max: 64 },
  'shard-levels': { type: 'string' },
  seed: { type: 'int', min: 0, max: 2 ** 31 },
  repeat: { type: 'int', min: 1, max: 20 },
  out: { type: 'string' },
  record: { type: 'string' },
  json: { type: 'boolean' },
  'shared-spanner': { type: 'boolean' },
} as const;

/** `1,2,3` -> [1, 2, 3]: positive integers, each at most `max`. */
export function parseLevels(text: string, flag: string, max: number): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > max) throw new UsageError(`--${flag} must be comma-separated integers 1..${max}, got "${p}" in "${text}"`);
    out.push(Number(p));
  }
  return out;
}

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** The model in a few lines: each operation's cost and each USL. */
export function renderModel(model: CostModel): string {
  const lines = [`cost model of ${model.target} (measured ${model.measuredAt}; largest run ${model.calibratedMax.users} users, ${model.calibratedMax.tickets} tickets)`, '  operation            base us   per unit us                      cv    samples'];
  for (const [op, c] of Object.entries(model.operations)) {
    if (c === undefined) continue;
    const per = Object.entries(c.perUs).map(([k, v]) => `${k} ${round(v)}`).join(', ');
    lines.push(`  ${op.padEnd(20)} ${String(round(c.baseUs)).padStart(8)}   ${per.padEnd(32)} ${String(round(c.cv, 2)).padStart(5)} ${String(c.samples).padStart(8)}`);
  }
  for (const u of model.usl) {
    lines.push(`  USL of ${u.throughput} against ${u.concurrency}: lambda ${round(u.lambda)}, sigma ${round(u.sigma, 4)}, kappa ${round(u.kappa, 5)}, peak N ${Number.isFinite(u.peakN) ? round(u.peakN) : 'unbounded'}, r2 ${round(u.r2, 3)}`);
    lines.push(`    levels: ${u.levels.map((l) => `N=${l.n}: ${round(l.throughput)}/s`).join(', ')}`);
  }
  return lines.join('\n');
}

export const planCalibrate: CommandModule = {
  summary: 'measure the pipeline at several concurrency levels and fit the capacity planner\'s cost model',
  usage,
  run: (argv) =>
    withUsage(usage, async () => {
      const { flags } = parseArgs(argv[0] === 'calibrate' ? argv.slice(1) : argv, spec);
      if (flags['backend'] === undefined) throw new UsageError('--backend memory|emulators is required (what to calibrate)');
      const target = flags['backend'] as CalibrationTarget;
      const levels = typeof flags['levels'] === 'string' ? parseLevels(flags['levels'], 'levels', 10_000) : [...CALIBRATION_DEFAULTS.levels[target]];
      const shardLevels = typeof flags['shard-levels'] === 'string' ? parseLevels(flags['shard-levels'], 'shard-levels', 64) : undefined;
      if (target === 'memory' && (shardLevels !== undefined || flags['shards'] !== undefined)) throw new UsageError('--shards and --shard-levels apply to --backend emulators (the memory backend has no shards)');
      const json = flags['json'] === true;
      const recorder = typeof flags['record'] === 'string' ? new RunRecorder({ command: 'plan calibrate', argv, scenario: 'smoke', backend: target, seed: typeof flags['seed'] === 'number' ? flags['seed'] : CALIBRATION_DEFAULTS.seed, configuration: { levels, ...(shardLevels === undefined ? {} : { shardLevels }) } }).start() : undefined;
      const progress = (line: string): void => void process.stderr.write(`${line}\n`);
      // One emulator pair for every run (reused when one runs already, else started here and stopped
      // at the end), each run with a Spanner emulator of its own beside it.
      const emulators = target === 'emulators' ? await planEmulators(flags['shared-spanner'] === true, progress) : undefined;
      const pair = emulators?.pair;
      const uninstall = stopOnInterrupt(pair, progress, { command: 'plan calibrate', lost: 'its model was fitted: no model file, no record' });
      const r = await calibrate({
        target,
        ...(emulators === undefined ? {} : { emulators }),
        levels,
        users: typeof flags['users'] === 'number' ? flags['users'] : CALIBRATION_DEFAULTS.users,
        shards: typeof flags['shards'] === 'number' ? flags['shards'] : CALIBRATION_DEFAULTS.shards,
        ...(shardLevels === undefined ? {} : { shardLevels }),
        ...(typeof flags['seed'] === 'number' ? { seed: flags['seed'] } : {}),
        ...(typeof flags['repeat'] === 'number' ? { repeat: flags['repeat'] } : {}),
        command: `raceday plan calibrate ${argv.filter((a) => a !== 'calibrate').join(' ')}`.trim(),
        progress,
      }).finally(async () => {
        uninstall();
        await pair?.stop();
      });
      if (!r.ok) {
        process.stderr.write(`raceday plan calibrate: ${formatPlanError(r.error)}\n`);
        if (json) process.stdout.write(`${JSON.stringify({ ok: false, error: r.error })}\n`);
        return 1;
      }
      const { model, warnings, runs, wallMs } = r.value;
      const out = flags['out'];
      if (typeof out === 'string') writeFileSync(out, costModelJson(model));
      if (recorder !== undefined && typeof flags['record'] === 'string') {
        runs.forEach((p, i) => recorder.figure(`throughputUsersPerSecond.run${i + 1}.n${p.concurrency}.shards${p.knobs.shards}`, p.run.throughputUsersPerSecond));
        await finishProfiledRecording(recorder, true, flags['record'], runs, json ? () => undefined : undefined);
      }
      for (const w of warnings) process.stderr.write(`raceday plan calibrate: warning: ${w}\n`);
      if (json) {
        const summary = runs.map((p) => ({ concurrency: p.concurrency, knobs: p.knobs, ...p.run }));
        process.stdout.write(`${JSON.stringify({ ok: true, wallMs, runs: summary, warnings, model: JSON.parse(costModelJson(model)) as unknown, ...(typeof out === 'string' ? { out } : {}) })}\n`);
      } else process.stdout.write(`${renderModel(model)}\n  ${runs.length} runs in ${round(wallMs / 1000)} s${typeof out === 'string' ? `; written to ${out}` : ''}\n`);
      return 0;
    }),
};

export const command = planCalibrate;
