// `raceday run --scenario smoke`: settles a small race day end to end on the embedded (memory)
// backend in real time and prints settled tickets, makespan, settle-latency percentiles and the
// invariant results (the same checkers as the simulator). Exit 1 when an invariant fails.
import { createMemoryBus, createMemoryStore, createRealClock } from '../../backends/memory/index.ts';
import { createRng } from '../../core/rng.ts';
import { raceDayOf } from '../../pipeline/post-settle.ts';
import { DEFAULT_VARIANTS, formatFanoutVariant, parseFanoutVariant, parseNotifyVariant, type PipelineVariants } from '../../pipeline/settings.ts';
import { CHECKERS, checkWorld } from '../../sim/checkers.ts';
import { expectedWorld } from '../../sim/expected.ts';
import { runRealtime, type Percentiles } from '../../sim/realtime.ts';
import { smokeRaceDay, type SmokeShape } from '../../sim/workload.ts';
import { loadDay } from '../../sim/world.ts';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import type { CommandModule } from '../main.ts';

const usage = `usage: raceday run --scenario smoke [--json] [options]

Settles a race day end to end on the embedded backend (in-process bus and store, real time):
fan-out, settlement, bonuses and missions, notifications and the day ranking, then checks every
invariant against the pure core.

  --scenario smoke          the built-in race day (default smoke)
  --seed S                  the race day's seed (default 1)
  --users N                 users in the race day (default ${2_000})
  --fanout V                per-user (default), user-batch:N, single-worker
  --notify V                after-commit (default), outbox
  --workers N               settle and post-settle workers (default 4)
  --max-in-flight N         flow control per worker (default 16)
  --backend B               memory (default) or emulators
  --json                    one JSON object

Exit code 1 when an invariant fails.`;

const RUN_TIMEOUT_MS = 300_000;

function runShape(users: number): SmokeShape {
  return { usersMin: users, usersMax: users, ticketsPerUserMax: 4, stakeUnitsMax: 10 };
}

function variantsOf(flags: Record<string, unknown>): PipelineVariants {
  let v = DEFAULT_VARIANTS;
  if (typeof flags['fanout'] === 'string') {
    const r = parseFanoutVariant(flags['fanout']);
    if (!r.ok) throw new UsageError(r.error.message);
    v = { ...v, fanout: r.value };
  }
  if (typeof flags['notify'] === 'string') {
    const r = parseNotifyVariant(flags['notify']);
    if (!r.ok) throw new UsageError(r.error.message);
    v = { ...v, notify: r.value };
  }
  return v;
}

async function runMemory(flags: Record<string, unknown>): Promise<number> {
  const seed = typeof flags['seed'] === 'number' ? flags['seed'] : 1;
  const users = typeof flags['users'] === 'number' ? flags['users'] : 2_000;
  const workers = typeof flags['workers'] === 'number' ? flags['workers'] : 4;
  const maxInFlight = typeof flags['max-in-flight'] === 'number' ? flags['max-in-flight'] : 16;
  const variants = variantsOf(flags);
  const day = smokeRaceDay(seed, createRng(`raceday-run/smoke/${seed}`).fork('workload'), runShape(users));
  const race = day.races[0];
  if (race === undefined) throw new Error('invariant violated: the smoke day has a race');
  const clock = createRealClock();
  const bus = createMemoryBus({ clock });
  const store = createMemoryStore({ clock });
  await loadDay(store, day);
  const stage = { workers, maxInFlight };
  const r = await runRealtime({
    store,
    bus,
    clock,
    pipeline: { variants, stages: { settle: stage, postSettle: stage } },
    result: { raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched },
    keepNotifications: true,
    timeoutMs: RUN_TIMEOUT_MS,
  });
  const expected = expectedWorld(day, raceDayOf(race.postAtMs));
  const violations = await checkWorld({ expected, store, bus, client: r.client.view, poison: [], handlerErrors: r.errors });
  if (r.timedOut) violations.push({ checker: 'nothing-unacked', message: `the pipeline was still busy after ${RUN_TIMEOUT_MS} ms` });
  const invariants = CHECKERS.map((name) => {
    const found = violations.filter((v) => v.checker === name);
    return { name, ok: found.length === 0, violations: found.map((v) => v.message) };
  });
  const ok = invariants.every((i) => i.ok);
  const summary = {
    scenario: 'smoke',
    backend: 'memory',
    seed,
    variants: { fanout: formatFanoutVariant(variants.fanout), notify: variants.notify },
    workers,
    maxInFlight,
    users: day.users.length,
    tickets: day.ticketCount,
    settledUsers: r.settledUsers,
    settledTickets: expected.outcomeByTicket.size,
    makespanMs: r.makespanMs,
    notifyMakespanMs: r.notifyMakespanMs,
    settleLatencyMs: r.settleLatencyMs,
    counters: r.counters,
    invariants,
    ok,
  };
  if (flags['json'] === true) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(`${render(summary)}\n`);
  return ok ? 0 : 1;
}

function render(s: {
  users: number;
  tickets: number;
  settledTickets: number;
  variants: { fanout: string; notify: string };
  makespanMs: number;
  notifyMakespanMs: number;
  settleLatencyMs: Percentiles;
  invariants: readonly { name: string; ok: boolean; violations: readonly string[] }[];
}): string {
  const l = s.settleLatencyMs;
  const lines = [
    `raceday run: smoke on memory (${s.variants.fanout}, ${s.variants.notify})`,
    `  users ${s.users}, tickets ${s.tickets}, settled tickets ${s.settledTickets}`,
    `  makespan ${s.makespanMs} ms to the last settlement, ${s.notifyMakespanMs} ms to the last notification`,
    `  settle latency ms: p50 ${l['p50']}  p90 ${l['p90']}  p99 ${l['p99']}  p99.9 ${l['p99.9']}  max ${l['max']}`,
    '  invariants:',
    ...s.invariants.map((i) => `    ${i.ok ? 'ok  ' : 'FAIL'} ${i.name}${i.ok ? '' : `: ${i.violations.slice(0, 3).join('; ')}`}`),
  ];
  return lines.join('\n');
}

export const command: CommandModule = {
  summary: 'settle a race day end to end on the embedded backend and check every invariant',
  usage,
  run: (argv) =>
    withUsage(usage, async () => {
      const { flags, positionals } = parseArgs(argv, {
        scenario: { type: 'string' },
        seed: { type: 'int', min: 0, max: 2 ** 31 },
        users: { type: 'int', min: 1, max: 200_000 },
        fanout: { type: 'string' },
        notify: { type: 'string' },
        workers: { type: 'int', min: 1, max: 256 },
        'max-in-flight': { type: 'int', min: 1, max: 10_000 },
        backend: { type: 'string' },
        json: { type: 'boolean' },
      });
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const scenario = flags['scenario'] ?? 'smoke';
      if (scenario !== 'smoke') throw new UsageError(`--scenario must be smoke (more scenarios come with issue 5), got "${String(scenario)}"`);
      const backend = flags['backend'] ?? 'memory';
      if (backend === 'emulators') {
        process.stderr.write('raceday run: the emulators backend is not wired into `run` yet (see issue 4); use --backend memory\n');
        return 2;
      }
      if (backend !== 'memory') throw new UsageError(`--backend must be memory or emulators, got "${String(backend)}"`);
      return runMemory(flags);
    }),
};
