// `raceday run --backend emulators --processes`: the smoke day with every stage in a process of its
// own (a fleet of `raceday worker` processes, chaos/fleet-run.ts), no faults, checked invariant by
// invariant like the in-process run. See docs/worker-processes.md.
import { FLEET_DAY_COUNTS, runDayOnFleet, type FleetDayResult } from '../chaos/fleet-run.ts';
import { exitOnInterrupt } from '../sim/open-backend.ts';
import { UsageError } from './args.ts';

/** Options of the in-process smoke run that a fleet day does not take: refused, not ignored. */
const NOT_WITH_PROCESSES = ['gateway', 'variant', 'repeat', 'project', 'strategy', 'spanner-instance', 'spanner-database', 'out'] as const;

function render(r: FleetDayResult, users: number): string {
  const members = Object.entries(FLEET_DAY_COUNTS).map(([role, n]) => `${role} x${n}`).join(', ');
  return [
    `raceday run: smoke on a fleet of processes (${members}), ${r.wallMs} ms end to end`,
    `  users ${users}, tickets ${r.tickets}, settled users ${r.settledUsers}, settled tickets ${r.settledTickets}, lost ${r.lost}, doubled ${r.doubled}`,
    `  phases ms: open ${r.phasesMs.open}, load ${r.phasesMs.load}, fleet start ${r.phasesMs.fleetStart}, day ${r.phasesMs.day} (ranking shown at ${r.rankingMakespanMs ?? 'never'}), sweep ${r.phasesMs.sweep}, check ${r.phasesMs.check}`,
    ...r.invariants.map((i) => `  ${i.ok ? 'ok  ' : 'FAIL'} ${i.name}${i.ok ? '' : `: ${i.violations.join('; ')}`}`),
  ].join('\n');
}

export async function runProcesses(backend: string, flags: Readonly<Record<string, unknown>>): Promise<number> {
  if (backend !== 'emulators') throw new UsageError('--processes runs every stage as its own process on the emulators: add --backend emulators');
  const given = NOT_WITH_PROCESSES.find((n) => flags[n] !== undefined);
  if (given !== undefined) throw new UsageError(`--${given} does not go with --processes (a fleet day provisions its own project and records nothing yet)`);
  const int = (name: string): number | undefined => (typeof flags[name] === 'number' ? flags[name] : undefined);
  const users = int('users') ?? 300;
  const variant = (name: string): string[] => (typeof flags[name] === 'string' ? [`--${name}`, flags[name]] : []);
  const perCommit = int('settlements-per-commit');
  const json = flags['json'] === true;
  const uninstall = exitOnInterrupt(async () => undefined);
  try {
    const r = await runDayOnFleet({
      users,
      seed: int('seed') ?? 1,
      spannerShards: int('spanner-shards') ?? 1,
      ...(int('workers') === undefined ? {} : { workers: int('workers') as number }),
      ...(int('max-in-flight') === undefined ? {} : { maxInFlight: int('max-in-flight') as number }),
      // The variants are the stages' own choices: the fan-out's shape, settle's notify path.
      args: { fanout: variant('fanout'), settle: [...variant('notify'), ...(perCommit === undefined ? [] : ['--settlements-per-commit', String(perCommit)])], 'post-settle': variant('notify') },
      log: json ? () => undefined : (line) => void process.stderr.write(`${line}\n`),
    });
    if (json) {
      const { activity, ...rest } = r;
      process.stdout.write(`${JSON.stringify({ scenario: 'smoke', backend: 'emulators', processes: FLEET_DAY_COUNTS, ...rest, counters: activity.counters })}\n`);
    } else process.stdout.write(`${render(r, users)}\n`);
    return r.ok ? 0 : 1;
  } finally {
    uninstall();
  }
}
