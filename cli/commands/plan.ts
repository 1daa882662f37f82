// `raceday plan --users U --tickets T --slo-seconds S`: the capacity planner's recommendation for
// a race (workers per stage, subscriber clients, flow control, group commit, shards or Spanner
// nodes, gateway instances), its predicted makespan and notification latency with intervals, the
// bottleneck and headroom, and makespan against the main knob, from the shipped calibration or
// the user's own runs (--calibrate). `raceday plan calibrate ...` and `raceday plan --validate ...`
// are the planner's other two commands, routed to their own modules.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeOutputs } from '../../reports/record/outputs.ts';
import { RunRecorder } from '../../reports/record/recorder.ts';
import { readRunRecord } from '../../reports/record/write.ts';
import type { RunRecord } from '../../reports/record/schema.ts';
import { defaultCostModel } from '../../planner/calibration.ts';
import { normalisedModelFromRecords } from '../../planner/normalise.ts';
import { defaultCloudParameters, googleCostModel, loadCloudParameters, ParametersError, type CloudParameters } from '../../planner/cloud-parameters.ts';
import type { CostModel, PlanTarget } from '../../planner/contracts.ts';
import { formatPlanError } from '../../planner/plan-error.ts';
import { capacityPlanSection, planRecord } from '../../planner/plan-record.ts';
import { planText } from '../../planner/plan-text.ts';
import { recommend, type PlanAnswer } from '../../planner/recommend.ts';
import { loadScenario, ScenarioError } from '../../scenarios/spec.ts';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import type { CommandModule } from '../main.ts';

const TARGETS = ['memory', 'emulators', 'google'] as const;
const CALIBRATIONS_MAX = 64;

const usage = `usage: raceday plan --users U --tickets T --slo-seconds S [--notify-p99-seconds P]
                    [--target emulators|google|memory] [--calibrate RUN.json ...] [--params FILE.json]
                    [--json] [--out DIR]
       raceday plan --preset grand-prix --slo-seconds S [...]
       raceday plan calibrate --backend memory|emulators ...   (fit a cost model from measured runs)
       raceday plan --validate ...                              (predict unseen runs, run them, report the error)

The cheapest configuration (settle, post-settle and notify workers, subscriber clients, flow
control, settlements per commit, Spanner shards on the emulators or Spanner nodes on Google,
gateway instances) whose predicted makespan (result published -> last user settled, high bound of
the prediction interval) meets the SLO; its predicted makespan and notification latency p50/p99
with intervals, the bottleneck, the headroom, and a chart of makespan against the main knob. A
target that cannot be met (the publish quota, the mutations per commit, the USL peak) is stated
plainly with the numbers. See docs/capacity-plan.md.

  --users U            users with tickets on the race (at least 1)
  --tickets T          tickets on the race
  --slo-seconds S      the makespan to meet, seconds (at least 1)
  --notify-p99-seconds P
                       also meet a notification-latency SLO: the notify latency p99 (result
                       published -> a user's notification stored, high bound) within P seconds;
                       the plan then sizes notify workers and the rest for it too
  --preset NAME        take users and tickets from a scenario preset (grand-prix: 2,000,000 and
                       20,000,000); not with --users or --tickets
  --target T           emulators (default: Spanner emulator shards), google (real Spanner nodes
                       and Pub/Sub quotas; per-operation costs from the measured model, assumed),
                       memory (the embedded backend)
  --calibrate RUN.json run records to fit the cost model from (raceday run --profile --out DIR
                       writes them); repeatable. Default: the shipped calibration of the target
                       (the emulators' for google)
  --params FILE.json   cloud parameters to override, by name (docs/cloud-parameters.md); every
                       parameter used is listed in the output
  --json               print the plan as one JSON object
  --out DIR            write the run record (metrics.json, command "plan", with its capacityPlan
                       section) and its outputs (report.html, summary.md, junit.xml, metrics.prom)

Exit code 0 when the SLOs can be met, 1 when they cannot (the reason is printed), 2 for a usage error.`;

const spec = {
  users: { type: 'int', min: 1, max: 1_000_000_000 },
  tickets: { type: 'int', min: 0, max: 100_000_000_000 },
  'slo-seconds': { type: 'int', min: 1, max: 86_400 },
  'notify-p99-seconds': { type: 'int', min: 1, max: 86_400 },
  preset: { type: 'string' },
  target: { type: 'string', choices: TARGETS },
  calibrate: { type: 'string', repeatable: true },
  params: { type: 'string' },
  json: { type: 'boolean' },
  out: { type: 'string' },
} as const;

const commandsDir = dirname(fileURLToPath(import.meta.url));

/** A planner sub-command in its own module (plan-calibrate.ts, plan-validate.ts), or a clear error when this tree lacks it. */
async function subCommand(file: string, exportName: string, what: string): Promise<CommandModule> {
  const path = join(commandsDir, file);
  if (!existsSync(path)) throw new UsageError(`${what} is not available in this build (cli/commands/${file} is missing)`);
  const mod = (await import(path)) as Record<string, CommandModule | undefined>;
  const found = mod[exportName] ?? mod['command'];
  if (found === undefined) throw new UsageError(`${what} is not available in this build (cli/commands/${file} exports no ${exportName})`);
  return found;
}

const isCalibrate = (argv: readonly string[]): boolean => argv[0] === 'calibrate';
const isValidate = (argv: readonly string[]): boolean => argv.includes('--validate');

async function workloadOf(flags: Record<string, unknown>): Promise<{ users: number; tickets: number; scenario: string }> {
  const preset = flags['preset'];
  if (typeof preset === 'string') {
    if (flags['users'] !== undefined || flags['tickets'] !== undefined) throw new UsageError('--preset sets users and tickets; give either --preset or --users and --tickets, not both');
    try {
      const s = loadScenario(preset);
      const users = (s as unknown as { users?: number }).users;
      const tickets = (s as unknown as { tickets?: number }).tickets;
      if (typeof users !== 'number' || typeof tickets !== 'number') throw new UsageError(`--preset ${preset} states no users and tickets`);
      return { users, tickets, scenario: preset };
    } catch (e) {
      if (e instanceof ScenarioError) throw new UsageError(`--preset: ${e.message}`);
      throw e;
    }
  }
  if (typeof flags['users'] !== 'number') throw new UsageError('--users U is required (or --preset NAME): the users with tickets on the race');
  if (typeof flags['tickets'] !== 'number') throw new UsageError('--tickets T is required (or --preset NAME): the tickets on the race');
  if (flags['tickets'] < flags['users']) throw new UsageError(`--tickets must be at least --users (every user holds a ticket), got ${flags['tickets']} tickets for ${flags['users']} users`);
  return { users: flags['users'], tickets: flags['tickets'], scenario: 'custom' };
}

async function modelOf(target: PlanTarget, calibrate: readonly string[], params: CloudParameters, ticketsPerUser: number): Promise<{ model: CostModel; note?: string }> {
  let measured: CostModel;
  let note: string | undefined;
  if (calibrate.length > 0) {
    const records: RunRecord[] = [];
    for (const path of calibrate) {
      const r = await readRunRecord(path);
      if (!r.ok) throw new UsageError(`--calibrate ${r.error.message} [${r.error.code}]`);
      records.push(r.value);
    }
    const m = await normalisedModelFromRecords(records);
    if (!m.ok) throw new UsageError(`--calibrate: ${formatPlanError(m.error)}`);
    measured = m.value;
    const base = target === 'google' ? 'emulators' : target;
    if (measured.target !== base) note = `the calibration runs were measured on ${measured.target}, not ${base}: their service times are used as they are`;
  } else measured = defaultCostModel(target === 'memory' ? 'memory' : 'emulators');
  const model = target === 'google' ? googleCostModel(params, measured, ticketsPerUser) : measured;
  return note === undefined ? { model } : { model, note };
}

async function planCommand(argv: readonly string[]): Promise<number> {
  const { flags, lists } = parseArgs(argv, spec);
  const { users, tickets, scenario } = await workloadOf(flags);
  if (typeof flags['slo-seconds'] !== 'number') throw new UsageError('--slo-seconds S is required: the makespan the plan must meet');
  const calibrate = (lists['calibrate'] ?? []) as string[];
  if (calibrate.length > CALIBRATIONS_MAX) throw new UsageError(`--calibrate takes at most ${CALIBRATIONS_MAX} run records`);
  const target = (flags['target'] ?? 'emulators') as PlanTarget;
  let params = defaultCloudParameters();
  if (typeof flags['params'] === 'string') {
    try {
      params = await loadCloudParameters(flags['params']);
    } catch (e) {
      if (e instanceof ParametersError) throw new UsageError(`--params ${e.message}`);
      throw e;
    }
  }
  // Started before the work, so the record's wall time is what the plan took.
  const recorder = typeof flags['out'] === 'string' ? new RunRecorder({ command: 'plan', argv, scenario, backend: target, seed: null, clock: 'virtual' }).start() : undefined;
  const { model, note } = await modelOf(target, calibrate, params, tickets / users);
  // Progress goes to stderr so --json stays one object on stdout.
  const progress = (line: string): void => void process.stderr.write(`raceday plan: ${line}\n`);
  // A worker's CPU per user, from the shipped memory calibration, bounds workers on the other targets.
  const workerCpu = target === 'memory' ? undefined : defaultCostModel('memory');
  const notify = flags['notify-p99-seconds'];
  const raw = await recommend({ users, tickets, sloSeconds: flags['slo-seconds'], ...(typeof notify === 'number' ? { notifyP99Seconds: notify } : {}), target, model, params, progress, ...(workerCpu === undefined ? {} : { workerCpu }) });
  const answer: PlanAnswer = note === undefined ? raw : { ...raw, warnings: [note, ...raw.warnings] };
  let written: string[] = [];
  if (typeof flags['out'] === 'string') {
    const record = planRecord({ answer, model, argv, scenario, ...(recorder === undefined ? {} : { recorder }) });
    written = [...(await writeOutputs(flags['out'], { records: [record] }, undefined, record)).files];
  }
  if (flags['json'] === true) {
    process.stdout.write(`${JSON.stringify({ ...capacityPlanSection(answer, model), limits: answer.limits, searched: answer.searched, ...(written.length > 0 ? { out: flags['out'], files: written } : {}) })}\n`);
  } else {
    process.stdout.write(planText(answer));
    if (written.length > 0) process.stdout.write(`\nwrote ${written.join(', ')} to ${String(flags['out'])}\n`);
  }
  return answer.feasible ? 0 : 1;
}

export const command: CommandModule = {
  summary: 'the capacity planner: the cheapest configuration meeting a settlement SLO (calibrate, --validate)',
  usage,
  run: async (argv) =>
    withUsage(usage, async () => {
      if (isCalibrate(argv)) return (await subCommand('plan-calibrate.ts', 'planCalibrate', 'raceday plan calibrate')).run(argv);
      if (isValidate(argv)) return (await subCommand('plan-validate.ts', 'planValidate', 'raceday plan --validate')).run(argv);
      return planCommand(argv);
    }),
  helpFor: async (argv) => {
    try {
      if (isCalibrate(argv)) return (await subCommand('plan-calibrate.ts', 'planCalibrate', 'raceday plan calibrate')).usage;
      if (isValidate(argv)) return (await subCommand('plan-validate.ts', 'planValidate', 'raceday plan --validate')).usage;
    } catch (e) {
      if (e instanceof UsageError) return `raceday plan: ${e.message}\n\n${usage}`;
      throw e;
    }
    return usage;
  },
};
