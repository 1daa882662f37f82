// `raceday chaos`: race days on worker processes behind Toxiproxy, with seeded kills, network
// faults, rolling restarts and a gateway restart; every checker afterwards; the reliability
// figures printed and recorded (chaos/run.ts). `--soak MINUTES` replays typical-day in a loop
// with faults at a steady rate and reports memory and latency drift (chaos/soak.ts). `--fuzz`
// hands over to the input fuzzers (`raceday chaos-fuzz`).
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import type { CommandModule } from '../main.ts';
import { figuresText } from '../../chaos/figures.ts';
import { finishChaosRecord, recordReliability, reliabilitySection } from '../../chaos/record.ts';
import { CHAOS_RECONCILE_STALL_MS, runChaos } from '../../chaos/run.ts';
import { FAULT_CHOICES, parseFaults, type FaultChoice } from '../../chaos/schedule.ts';
import { runSoak, soakText, SOAK_DEFAULTS, type SoakReport } from '../../chaos/soak.ts';
import { installInterruptHandlers } from '../../chaos/interrupt.ts';
import { startRecording } from '../run-record.ts';

const usage = `usage: raceday chaos --backend emulators [--scenario smoke] [--faults LIST] [--seed N] [--runs K] [--users N] [--json] [--out DIR]
       raceday chaos --backend emulators --soak MINUTES [--scenario typical-day|FILE] [--users N] [--faults LIST] [--json] [--out DIR]
       raceday chaos --fuzz [options of raceday chaos-fuzz]

Runs race days on the pipeline's stages as OS processes (raceday worker --role R) that reach the
Pub/Sub and Spanner emulators only through Toxiproxy, and strikes a seeded schedule of faults as
the pipeline's phases arrive: SIGKILLs during the fan-out, inside settlement transactions and at
the barrier; latency, bandwidth limits, timeouts, resets and half-open connections on the
emulator proxies; rolling restarts of every role, one instance at a time; a gateway restarted
under subscribed clients (which recover missed notifications by sequence number). Afterwards
every checker judges Spanner's final state and the clients' records.

  --backend emulators  required: the memory backend has its own fault simulator (raceday sim)
  --scenario S         smoke (default) for chaos runs; the soak replays typical-day (default)
                       or a scenario file, scaled to --users
  --faults LIST        comma-separated: ${FAULT_CHOICES.join(', ')};
                       "network" for every network fault, "all" for everything (default all)
  --seed N             first seed (default 1); the schedule is the same for the same seed
  --runs K             K runs, seeds N..N+K-1, totalled (default 1)
  --users N            users of each day (default 300 for runs, ${SOAK_DEFAULTS.users} for the soak)
  --timeout-s S        chaos runs: the longest a day may take before the checkers judge what it
                       left (default 300)
  --reconcile-stall-ms N
                       the ingest process's reconciler re-drives a race whose progress stopped
                       for N ms (default ${CHAOS_RECONCILE_STALL_MS}); 0 runs none, to watch the bus
                       lose messages unaided (docs/reconciler.md)
  --soak MINUTES       replay the day in a loop for MINUTES with a fault every ${SOAK_DEFAULTS.faultEveryMs / 1000} s; sample
                       every process's resident memory and the notification and ranking p99 per
                       window; report each one's drift (slope per minute, 95% interval, verdict)
  --fuzz               run the input fuzzers instead (raceday chaos-fuzz; the other options go to it)
  --json               one JSON object: the figures of every run and the totals
  --out DIR            also write the run record DIR/metrics.json with its reliability section,
                       and every output made from it (summary.md, report.html, ...); chaos runs
                       append each run's figures to DIR/runs.jsonl as it ends

Prints per run: faults injected by kind, tickets, settled exactly once, lost, doubled,
dead-lettered by reason, notifications lost or duplicated after recovery, time to recover from
each fault. Exit code 1 on any loss, double or checker violation (or, for the soak, growth).`;

const SPEC = {
  backend: { type: 'string' },
  scenario: { type: 'string' },
  faults: { type: 'string' },
  seed: { type: 'int', min: 0, max: 2 ** 31 },
  runs: { type: 'int', min: 1, max: 1000 },
  users: { type: 'int', min: 1, max: 100_000 },
  soak: { type: 'int', min: 1, max: 24 * 60 },
  'timeout-s': { type: 'int', min: 10, max: 3_600 },
  'reconcile-stall-ms': { type: 'int', min: 0, max: 3_600_000 },
  json: { type: 'boolean' },
  out: { type: 'string' },
} as const;

const stderr = (line: string): void => void process.stderr.write(`${line}\n`);

/** The fuzzers' command module, when this tree has it. */
async function fuzzCommand(): Promise<CommandModule | undefined> {
  const file = join(import.meta.dirname, 'chaos-fuzz.ts');
  if (!existsSync(file)) return undefined;
  const mod = (await import(file)) as { chaosFuzz?: CommandModule; command?: CommandModule };
  return mod.chaosFuzz ?? mod.command;
}

function faultsOf(flags: Record<string, unknown>): readonly FaultChoice[] {
  const parsed = parseFaults(typeof flags['faults'] === 'string' ? flags['faults'] : 'all');
  if (!parsed.ok) throw new UsageError(`${parsed.error.code}: ${parsed.error.message}`);
  return parsed.value;
}

function stallOf(flags: Record<string, unknown>): { reconcileStallMs?: number } {
  return typeof flags['reconcile-stall-ms'] === 'number' ? { reconcileStallMs: flags['reconcile-stall-ms'] } : {};
}

function checkBackend(flags: Record<string, unknown>): void {
  const backend = flags['backend'];
  if (backend === undefined) throw new UsageError('--backend emulators is required: chaos runs real processes on the emulators');
  if (backend !== 'emulators') {
    throw new UsageError(`--backend ${String(backend)} is not for chaos: only --backend emulators is accepted (the memory backend has its own fault simulator: raceday sim --seeds N)`);
  }
}

async function chaosRuns(flags: Record<string, unknown>, argv: readonly string[]): Promise<number> {
  const scenario = typeof flags['scenario'] === 'string' ? flags['scenario'] : 'smoke';
  if (scenario !== 'smoke') throw new UsageError(`--scenario ${scenario}: chaos runs settle the smoke day on the fleet; typical-day and scenario files are replayed by --soak`);
  const faults = faultsOf(flags);
  const seed = typeof flags['seed'] === 'number' ? flags['seed'] : 1;
  const runs = typeof flags['runs'] === 'number' ? flags['runs'] : 1;
  const json = flags['json'] === true;
  const out = typeof flags['out'] === 'string' ? flags['out'] : undefined;
  const rec = out === undefined ? undefined : startRecording({ command: 'chaos', argv, scenario, backend: 'emulators', seed, configuration: { faults: faults.join(','), runs, ...(typeof flags['users'] === 'number' ? { users: flags['users'] } : {}) } });
  // Each run's figures as it ends (DIR/runs.jsonl): a long series interrupted keeps what it measured.
  if (out !== undefined) mkdirSync(out, { recursive: true });
  const keep = (line: object): void => {
    if (out !== undefined) appendFileSync(join(out, 'runs.jsonl'), `${JSON.stringify(line)}\n`);
  };
  const result = await runChaos({
    scenario,
    faults,
    seed,
    runs,
    ...(typeof flags['users'] === 'number' ? { users: flags['users'] } : {}),
    ...(typeof flags['timeout-s'] === 'number' ? { dayTimeoutMs: flags['timeout-s'] * 1000 } : {}),
    ...stallOf(flags),
    log: (l) => stderr(l),
    onRun: (f, d) => {
      keep({ figures: f, detail: d });
      stderr(`chaos: run ${f.seed - seed + 1}/${runs} (seed ${f.seed}) ${f.ok ? 'OK' : 'FAILED'} in ${Math.round(d.wallMs / 1000)} s: ${f.faults.length} faults, ${f.lost} lost, ${f.doubled} doubled${d.notInjected.length > 0 ? `; ${d.notInjected.length} planned faults found the day over` : ''}${f.ok ? '' : `; ${f.violations.slice(0, 3).join(' | ')}`}`);
    },
  });
  if (rec !== undefined && out !== undefined) {
    recordReliability(rec, result.runs, result.totals);
    const { written } = await finishChaosRecord(rec, result.totals.ok, reliabilitySection(result.runs, result.totals), out);
    stderr(`chaos: wrote ${written.files.join(', ')} to ${out}`);
  }
  if (json) process.stdout.write(`${JSON.stringify({ runs: result.runs, totals: result.totals, details: result.details })}\n`);
  else process.stdout.write(`${figuresText(result.runs, result.totals)}\n`);
  return result.totals.ok ? 0 : 1;
}

async function soak(flags: Record<string, unknown>, argv: readonly string[]): Promise<number> {
  if (flags['runs'] !== undefined) throw new UsageError('--runs applies to chaos runs; --soak runs for a time instead');
  const minutes = flags['soak'] as number;
  const scenario = typeof flags['scenario'] === 'string' ? flags['scenario'] : 'typical-day';
  const faults = faultsOf(flags);
  const seed = typeof flags['seed'] === 'number' ? flags['seed'] : 1;
  const out = typeof flags['out'] === 'string' ? flags['out'] : undefined;
  const rec = out === undefined ? undefined : startRecording({ command: 'chaos', argv, scenario, backend: 'emulators', seed, configuration: { soakMinutes: minutes, faults: faults.join(',') } });
  const write = async (report: SoakReport): Promise<void> => {
    if (rec !== undefined && out !== undefined) {
      recordReliability(rec, report.runs, report.totals);
      rec.figures(Object.fromEntries(report.soak.drift.map((d) => [`soak.${d.metric.replace(/\s+/g, '-')}.slopePerMin`, d.slopePerMin])));
      const { written } = await finishChaosRecord(rec, report.ok, reliabilitySection(report.runs, report.totals, report.soak), out);
      stderr(`chaos: wrote ${written.files.join(', ')} to ${out}`);
    }
    if (flags['json'] === true) process.stdout.write(`${JSON.stringify({ soak: { ...report.soak, samples: undefined }, runs: report.runs, totals: report.totals, ok: report.ok })}\n`);
    else process.stdout.write(`${soakText(report)}\n`);
  };
  const report = await runSoak({ minutes, scenario, faults, seed, ...(typeof flags['users'] === 'number' ? { users: flags['users'] } : {}), ...stallOf(flags), log: stderr, onReport: write });
  return report.ok ? 0 : 1;
}

export const command: CommandModule = {
  summary: 'race days on worker processes under seeded kills, network faults and restarts; reliability figures; --soak drift',
  usage,
  async helpFor(argv) {
    return argv.includes('--fuzz') ? (await fuzzCommand())?.usage : undefined;
  },
  async run(argv) {
    if (argv.includes('--fuzz')) {
      const fuzz = await fuzzCommand();
      if (fuzz === undefined) {
        stderr('raceday chaos: CHAOS.FUZZ_NOT_AVAILABLE: the input fuzzers (raceday chaos-fuzz) are not part of this build');
        return 2;
      }
      return fuzz.run(argv.filter((a) => a !== '--fuzz'));
    }
    return withUsage(usage, async () => {
      const { flags } = parseArgs(argv, SPEC);
      checkBackend(flags);
      // SIGTERM/SIGINT stop the fleet, the gateway and Toxiproxy, then exit 143/130 (chaos/interrupt.ts).
      const uninstall = installInterruptHandlers({ log: stderr });
      try {
        return await (typeof flags['soak'] === 'number' ? soak(flags, argv) : chaosRuns(flags, argv));
      } finally {
        uninstall();
      }
    });
  },
};
