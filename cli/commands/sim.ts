// `raceday sim`: the deterministic simulator. `--seeds N` explores N seeds (faults on) and lists
// every violation with the command that replays it; `--seed S` replays one seed and prints its
// trace hash (the same on every run), `--trace` the trace itself.
import { parseArgs, UsageError, withUsage } from '../args.ts';
import type { CommandModule } from '../main.ts';
import { parseFanoutVariant, parseNotifyVariant, BROKEN_BEHAVIOURS, type BrokenBehaviour } from '../../pipeline/settings.ts';
import { replayCommand, SCENARIOS, simulate, type SimOptions, type SimScenario } from '../../sim/simulate.ts';
import { CHECKERS } from '../../sim/checkers.ts';
import type { RunRecorder } from '../../reports/record/recorder.ts';
import { finishRecording, recordSim, startRecording } from '../run-record.ts';

/** `--out DIR`: the recorder of this run and where its outputs go. */
interface Recording {
  readonly dir: string;
  readonly rec: RunRecorder;
}

const usage = `usage: raceday sim --scenario smoke --seeds N [--from S] [--json] [options]
       raceday sim --scenario smoke --seed S [--trace] [--json] [options]

Runs the settlement pipeline on the memory backend in virtual time. One seed decides the race
day, the pipeline shape (variants, workers, flow control, ack deadlines), the faults (duplicate
delivery, reordering, lost acks, late delivery, crashes, restarts, transaction aborts, poison
messages) and the interleaving; checkers then verify the whole world.

  --scenario smoke     the built-in race day (default smoke)
  --seeds N            run seeds --from .. --from+N-1 (default from 1)
  --seed S             replay one seed; prints its trace hash
  --trace              with --seed: print the trace lines too
  --no-faults          no injected faults (the shape is still drawn from the seed)
  --fanout V           fix the fan-out variant: per-user, user-batch:N, single-worker
  --notify V           fix the notify variant: after-commit, outbox
  --settle-path P      fix the settle path: objects (reference pure settlement), columns
  --broken B           deliberately broken pipeline (checker self-test): ${BROKEN_BEHAVIOURS.join(', ')}
  --json               one JSON object
  --out DIR            also write the run record DIR/metrics.json (virtual time: exactly
                       reproducible) and every output made from it (see raceday report)

Exit code 1 when any violation was found.`;

const SEEDS_MAX = 10_000_000;

function commonOptions(flags: Record<string, unknown>): Omit<SimOptions, 'seed'> {
  const scenario = (flags['scenario'] ?? 'smoke') as string;
  if (!(SCENARIOS as readonly string[]).includes(scenario)) throw new UsageError(`--scenario must be one of ${SCENARIOS.join(', ')}, got "${scenario}"`);
  const opts: { -readonly [K in keyof Omit<SimOptions, 'seed'>]: Omit<SimOptions, 'seed'>[K] } = { scenario: scenario as SimScenario, faults: flags['no-faults'] !== true };
  if (typeof flags['fanout'] === 'string') {
    const v = parseFanoutVariant(flags['fanout']);
    if (!v.ok) throw new UsageError(v.error.message);
    opts.fanout = v.value;
  }
  if (typeof flags['notify'] === 'string') {
    const v = parseNotifyVariant(flags['notify']);
    if (!v.ok) throw new UsageError(v.error.message);
    opts.notify = v.value;
  }
  if (typeof flags['settle-path'] === 'string') {
    const p = flags['settle-path'];
    if (p !== 'objects' && p !== 'columns') throw new UsageError(`--settle-path must be objects or columns, got "${p}"`);
    opts.settlePath = p;
  }
  if (typeof flags['broken'] === 'string') {
    if (!(BROKEN_BEHAVIOURS as readonly string[]).includes(flags['broken'])) throw new UsageError(`--broken must be one of ${BROKEN_BEHAVIOURS.join(', ')}`);
    opts.broken = flags['broken'] as BrokenBehaviour;
  }
  return opts;
}

async function replayOne(seed: number, base: Omit<SimOptions, 'seed'>, showTrace: boolean, json: boolean, out?: Recording): Promise<number> {
  const r = await simulate({ ...base, seed, keepTrace: showTrace });
  if (out !== undefined) {
    recordSim(out.rec, CHECKERS, r.violations.map((v) => ({ ...v, seed })), { users: r.users, tickets: r.tickets, events: r.events, virtualMs: r.virtualMs, violations: r.violations.length, duplicateDeliveries: r.duplicateDeliveries, exhaustedUsers: r.exhaustedUsers, exhaustedLeftOut: r.exhaustedLeftOut });
    out.rec.configure({ variants: r.variants, traceHash: r.traceHash, faults: base.faults !== false });
    await finishRecording(out.rec, r.violations.length === 0, out.dir);
  }
  const replay = replayCommand({ ...base, seed });
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...r, replay })}\n`);
  } else {
    if (showTrace) process.stdout.write(`${(r.trace ?? []).join('\n')}\n`);
    const lines = [
      `seed ${seed}: ${r.users} users, ${r.tickets} tickets, ${r.variants}, ${r.events} events, ${r.virtualMs} virtual ms`,
      `trace ${r.traceHash}`,
      r.violations.length === 0 ? 'violations: none' : `violations (${r.violations.length}):`,
      ...r.violations.map((v) => `  [${v.checker}] ${v.message}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return r.violations.length === 0 ? 0 : 1;
}

async function explore(from: number, count: number, base: Omit<SimOptions, 'seed'>, json: boolean, out?: Recording): Promise<number> {
  const started = performance.now();
  const failed: { seed: number; replay: string; traceHash: string; violations: readonly { checker: string; message: string }[] }[] = [];
  let events = 0;
  // Users whose deliveries ran out and the dead-letter intake made terminal (and of them, the never settled).
  const exhausted = { users: 0, leftOut: 0, seeds: 0 };
  for (let seed = from; seed < from + count; seed++) {
    const r = await simulate({ ...base, seed });
    events += r.events;
    exhausted.users += r.exhaustedUsers;
    exhausted.leftOut += r.exhaustedLeftOut;
    if (r.exhaustedUsers > 0) exhausted.seeds++;
    if (r.violations.length > 0) {
      failed.push({ seed, replay: replayCommand({ ...base, seed }), traceHash: r.traceHash, violations: r.violations });
      if (!json) process.stderr.write(`seed ${seed}: ${r.violations.length} violation(s); replay: ${replayCommand({ ...base, seed })}\n`);
    }
  }
  const elapsedMs = performance.now() - started;
  const summary = {
    scenario: base.scenario ?? 'smoke',
    seeds: count,
    seedsFrom: from,
    faults: base.faults !== false,
    ...(base.broken !== undefined ? { broken: base.broken } : {}),
    violations: failed,
    seedsWithViolations: failed.length,
    exhaustedAndDeadLettered: exhausted,
    events,
    elapsedMs: Math.round(elapsedMs),
    seedsPerMinute: Math.round((count / elapsedMs) * 60_000),
  };
  if (out !== undefined) {
    const { violations: _v, scenario: _s, faults, broken, exhaustedAndDeadLettered: ex, ...figures } = summary;
    recordSim(out.rec, CHECKERS, failed.flatMap((f) => f.violations.map((v) => ({ ...v, seed: f.seed }))), { ...figures, exhaustedUsers: ex.users, exhaustedLeftOut: ex.leftOut, exhaustedSeeds: ex.seeds });
    out.rec.configure({ faults, ...(broken === undefined ? {} : { broken }) });
    await finishRecording(out.rec, failed.length === 0, out.dir);
  }
  if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else {
    process.stdout.write(
      `${count} seeds (${summary.scenario}, faults ${summary.faults ? 'on' : 'off'}) in ${summary.elapsedMs} ms: ${summary.seedsPerMinute} seeds/minute, ${failed.length} with violations; ${exhausted.users} users out of delivery attempts dead-lettered in ${exhausted.seeds} seeds (${exhausted.leftOut} never settled, left out of their ranking)\n`,
    );
  }
  return failed.length === 0 ? 0 : 1;
}

export const command: CommandModule = {
  summary: 'deterministic simulation with faults and invariant checkers (seeded, replayable)',
  usage,
  run: (argv) =>
    withUsage(usage, async () => {
      const { flags, positionals } = parseArgs(argv, {
        scenario: { type: 'string', choices: SCENARIOS },
        seeds: { type: 'int', min: 1, max: SEEDS_MAX },
        from: { type: 'int', min: 0, max: 2 ** 31 },
        seed: { type: 'int', min: 0, max: 2 ** 31 },
        trace: { type: 'boolean' },
        'no-faults': { type: 'boolean' },
        fanout: { type: 'string' },
        notify: { type: 'string' },
        broken: { type: 'string', choices: BROKEN_BEHAVIOURS },
        'settle-path': { type: 'string', choices: ['objects', 'columns'] },
        json: { type: 'boolean' },
        out: { type: 'string' },
      });
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const base = commonOptions(flags);
      const json = flags['json'] === true;
      const seed = typeof flags['seed'] === 'number' ? flags['seed'] : null;
      const out: Recording | undefined = typeof flags['out'] === 'string' ? { dir: flags['out'], rec: startRecording({ command: 'sim', argv, scenario: base.scenario ?? 'smoke', backend: 'sim', seed, clock: 'virtual' }) } : undefined;
      if (typeof flags['seed'] === 'number') {
        if (flags['seeds'] !== undefined) throw new UsageError('give either --seed or --seeds, not both');
        if (flags['from'] !== undefined) throw new UsageError('--from applies to --seeds; --seed S replays one seed');
        return replayOne(flags['seed'], base, flags['trace'] === true, json, out);
      }
      if (flags['trace'] === true) throw new UsageError('--trace needs --seed');
      const count = typeof flags['seeds'] === 'number' ? flags['seeds'] : 100;
      return explore(typeof flags['from'] === 'number' ? flags['from'] : 1, count, base, json, out);
    }),
};
