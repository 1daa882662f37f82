// `raceday run --scenario <preset or file>` for generated race days (every scenario but `smoke`):
// replays the day through the pipeline on the embedded backend with the replay driver
// (scenarios/replay.ts), runs the invariant checkers over the final state, and prints per-race
// metrics and the checkers' verdicts. Progress goes to stderr: a bar on a terminal, a line every
// few seconds otherwise.
import { loadScenario, ScenarioError } from '../scenarios/spec.ts';
import { defaultProgressMode } from '../scenarios/replay-progress.ts';
import { replayInWorker } from '../scenarios/replay-worker.ts';
import type { ReplayReport } from '../scenarios/replay.ts';
import { UsageError } from './args.ts';
import { writeOutputs } from '../reports/record/outputs.ts';
import type { RunRecord } from '../reports/record/schema.ts';

/** Races listed in the text summary, slowest first. */
const SLOWEST_RACES_SHOWN = 5;

export interface ReplayFlags {
  readonly scenario: string;
  readonly seed: number;
  readonly speed: number;
  readonly bets: 'load' | 'place';
  readonly json: boolean;
  /** Write the run record and every output there. */
  readonly out?: string;
  /** The command's arguments, for the record. */
  readonly argv?: readonly string[];
}

function summary(r: ReplayReport): string {
  const settled = r.races.reduce((s, x) => s + x.settledUsers, 0);
  const users = r.races.reduce((s, x) => s + x.users, 0);
  const slowest = [...r.races].filter((x) => x.makespanMs !== null).sort((a, b) => (b.makespanMs ?? 0) - (a.makespanMs ?? 0));
  const lines = [
    `raceday run: ${r.scenario} (seed ${r.seed}) on memory, speed ${r.speed === 0 ? 'as fast as possible' : `x${r.speed}`}, bets ${r.bets}, ${r.wallSeconds} s`,
    `  races complete ${r.racesComplete}/${r.races.length}, tickets ${r.tickets}, settlements ${settled}/${users}, bets rejected ${r.betsRejected}`,
    `  slowest races (publish -> last settlement):`,
    ...slowest.slice(0, SLOWEST_RACES_SHOWN).map((x) => {
      const l = x.settleLatencyMs;
      return `    ${x.raceId.padEnd(24)} ${String(x.users).padStart(8)} users  makespan ${x.makespanMs} ms  p99 ${l?.p99 ?? '-'} ms`;
    }),
  ];
  const errors = [...r.driverErrors, ...r.pipeline.errors];
  if (errors.length > 0) lines.push(`  errors (${errors.length}): ${errors.slice(0, 3).join('; ')}`);
  lines.push(`  invariants (checked in ${(r.checkMs / 1000).toFixed(1)} s):`);
  lines.push(...r.invariants.map((i) => `    ${i.ok ? 'ok  ' : 'FAIL'} ${i.name}${i.ok ? '' : `: ${i.violations.slice(0, 3).join('; ')}`}`));
  return lines.join('\n');
}

export async function runReplay(f: ReplayFlags): Promise<number> {
  let spec;
  try {
    spec = loadScenario(f.scenario);
  } catch (e) {
    if (e instanceof ScenarioError) throw new UsageError(e.message);
    throw e;
  }
  const { record: recorded, ...report } = await replayInWorker({ spec, seed: f.seed, speed: f.speed, bets: f.bets, progress: defaultProgressMode(), ...(f.out === undefined ? {} : { record: true }) });
  const ok = report.invariants.every((i) => i.ok);
  process.stdout.write(`${f.json ? JSON.stringify({ ...report, ok }) : summary(report)}\n`);
  const failed = !report.complete || report.driverErrors.length > 0 || report.pipeline.errors.length > 0 || !ok;
  if (f.out !== undefined && recorded !== undefined) await writeReplayRecord(f.out, replayRecord(recorded, report, f.argv ?? [], !failed));
  return failed ? 1 : 0;
}

/** The worker's record completed with what the replay reported: invariants, counters, figures, errors. */
function replayRecord(record: RunRecord, r: Omit<ReplayReport, 'record'>, argv: readonly string[], ok: boolean): RunRecord {
  const counters = Object.fromEntries(Object.entries(r.pipeline.counters).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
  const perRace = Object.fromEntries(r.races.flatMap((x) => (x.makespanMs === null ? [] : [[`race.${x.raceId}.makespanMs`, x.makespanMs] as const])));
  const settled = r.races.reduce((n, x) => n + x.settledUsers, 0);
  return {
    ...record,
    argv: [...argv],
    ok,
    configuration: { ...record.configuration, loadPath: r.loadPath },
    invariants: r.invariants.map((i) => ({ name: i.name, ok: i.ok, violations: i.violations.slice(0, 100) })),
    counters: { ...record.counters, ...counters },
    figures: { ...record.figures, tickets: r.tickets, betsRejected: r.betsRejected, races: r.races.length, racesComplete: r.racesComplete, settlements: settled, wallMs: Math.round(r.wallSeconds * 1000), checkMs: r.checkMs, ...perRace },
    errors: [...r.driverErrors, ...r.pipeline.errors].slice(0, 1_000),
  };
}

async function writeReplayRecord(dir: string, record: RunRecord): Promise<void> {
  const w = await writeOutputs(dir, { records: [record] }, undefined, record);
  process.stderr.write(`run: wrote ${w.files.join(', ')} to ${dir} in ${w.ms} ms\n`);
}
