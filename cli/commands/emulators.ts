// `raceday emulators start|status|env|stop`: background emulators recorded in a state file, so
// tests and `raceday run --backend emulators` reuse them and a shell can `eval` their environment.
import { shardDatabaseIds } from '../../backends/google/spanner-admin.ts';
import {
  emulatorDir,
  emulatorEnv,
  EmulatorsUnavailableError,
  ensureEmulators,
  provisionPubSub,
  provisionSpanner,
  readState,
  stateIsLive,
  STRATEGIES,
  stopRecorded,
  type StrategyChoice,
} from '../../emulators/index.ts';
import { DEFAULT_PROJECT_ID } from '../../emulators/limits.ts';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import type { CommandModule } from '../main.ts';

const usage = `usage: raceday emulators <start|status|env|stop> [options]

  start    start the Pub/Sub and Spanner emulators in the background (or reuse running ones),
           provision topics, subscriptions, the Spanner instance and databases, record them in
           .raceday/emulators/state.json (RACEDAY_STATE_DIR overrides .raceday)
  status   say whether the recorded emulators run and answer (exit 1 if not)
  env      print export lines for a shell: eval "$(raceday emulators env)"
  stop     stop the emulators that start recorded (only processes it started)

options:
  --strategy auto|local|containers|external   how to get emulators (default auto: the installed
                 emulators, then Docker containers, then PUBSUB_EMULATOR_HOST/SPANNER_EMULATOR_HOST;
                 endpoints given in the environment are tried first)
  --project ID          project id for the emulators (default ${DEFAULT_PROJECT_ID})
  --spanner-shards N    databases to create on start (default 1; emulator-only sharding)
  --no-provision        start only, create nothing
  --json                status as JSON`;

const spec = {
  strategy: { type: 'string', choices: STRATEGIES },
  project: { type: 'string' },
  'spanner-shards': { type: 'int', min: 1, max: 64 },
  'no-provision': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

const DEFAULT_DATABASE = 'raceday';
const say = (line: string) => process.stderr.write(`${line}\n`);

/** Single-quotes a value for POSIX shells. */
function shellQuote(value: string): string {
  return /^[A-Za-z0-9_.:/-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

async function start(strategy: StrategyChoice, projectId: string | undefined, shards: number, provision: boolean): Promise<number> {
  const recorded = readState(emulatorDir());
  if (recorded !== undefined && !(await stateIsLive(recorded))) {
    say('emulators: the recorded emulators no longer answer; cleaning up before starting new ones');
    await stopRecorded();
  }
  let handle;
  try {
    handle = await ensureEmulators({ strategy, projectId, background: true, log: say });
  } catch (e) {
    if (!(e instanceof EmulatorsUnavailableError)) throw e;
    say(`raceday emulators: ${e.message}`);
    return 1;
  }
  if (handle.reused) say('emulators: already running (raceday emulators stop to stop them)');
  else say(`emulators: started ${handle.strategy}; startup ms ${JSON.stringify(handle.startupMs)}; logs in ${emulatorDir()}`);
  if (provision) {
    try {
      const ps = await provisionPubSub(handle);
      const sp = await provisionSpanner(handle, shardDatabaseIds(DEFAULT_DATABASE, shards));
      say(`emulators: provisioned ${ps.topicsCreated.length} topics, ${ps.subscriptionsCreated.length} subscriptions, instance ${handle.spannerInstance}${sp.instanceCreated ? ' (new)' : ''}, databases created: ${sp.databasesCreated.join(', ') || 'none (all existed)'}`);
    } catch (e) {
      say(`emulators: provisioning failed (the emulators keep running): ${(e as Error).message}`);
      return 1;
    }
  }
  say('emulators: eval "$(raceday emulators env)" to point clients at them');
  return 0;
}

async function status(json: boolean): Promise<number> {
  const state = readState(emulatorDir());
  const live = state !== undefined && (await stateIsLive(state));
  if (json) {
    process.stdout.write(`${JSON.stringify({ running: live, stateFile: emulatorDir(), state: state ?? null })}\n`);
    return live ? 0 : 1;
  }
  if (state === undefined) {
    process.stdout.write('emulators: not running (nothing recorded; raceday emulators start)\n');
    return 1;
  }
  const lines = [
    `emulators: ${live ? 'running' : 'recorded but NOT answering (raceday emulators stop cleans up)'} (${state.strategy}, since ${state.startedAt})`,
    `  project ${state.projectId}, Spanner instance ${state.spannerInstance}`,
    ...(state.pubsubHost !== undefined ? [`  Pub/Sub  ${state.pubsubHost}`] : []),
    ...(state.spannerHost !== undefined ? [`  Spanner  ${state.spannerHost}`] : []),
    ...state.processes.map((p) => `  ${p.name} pid ${p.pid}, log ${p.logFile}`),
    ...state.containerIds.map((id) => `  container ${id.slice(0, 12)}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return live ? 0 : 1;
}

async function env(): Promise<number> {
  const state = readState(emulatorDir());
  if (state === undefined || !(await stateIsLive(state))) {
    say('emulators: none running; start them with: raceday emulators start');
    return 1;
  }
  const vars = emulatorEnv(state.projectId, state.pubsubHost, state.spannerHost);
  process.stdout.write(Object.entries(vars).map(([k, v]) => `export ${k}=${shellQuote(v)}\n`).join(''));
  return 0;
}

export const command: CommandModule = {
  summary: 'start, inspect, print the environment of, or stop the Pub/Sub and Spanner emulators',
  usage,
  run(argv) {
    return withUsage(usage, async () => {
      const { flags, positionals } = parseArgs(argv, spec, { positionals: 1 });
      const [action, ...extra] = positionals;
      if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
      const strategy = (flags.strategy ?? 'auto') as StrategyChoice;
      if (!STRATEGIES.includes(strategy)) throw new UsageError(`--strategy must be one of ${STRATEGIES.join(', ')}, got "${String(flags.strategy)}"`);
      // Options belong to one action each: given to another, they are refused, not ignored.
      const startOnly = ['strategy', 'project', 'spanner-shards', 'no-provision'].find((n) => flags[n] !== undefined);
      if (action !== undefined && action !== 'start' && startOnly !== undefined) throw new UsageError(`--${startOnly} applies to "emulators start" only`);
      if (action !== undefined && action !== 'status' && flags.json !== undefined) throw new UsageError('--json applies to "emulators status" only');
      switch (action) {
        case 'start':
          return start(strategy, flags.project as string | undefined, (flags['spanner-shards'] as number | undefined) ?? 1, flags['no-provision'] !== true);
        case 'status':
          return status(flags.json === true);
        case 'env':
          return env();
        case 'stop': {
          const stopped = await stopRecorded();
          say(stopped.length > 0 ? `emulators: stopped ${stopped.join(', ')}` : 'emulators: nothing of ours was running');
          return 0;
        }
        case undefined:
          throw new UsageError('missing action (start, status, env or stop)');
        default:
          throw new UsageError(`unknown action "${action}"`);
      }
    });
  },
};
