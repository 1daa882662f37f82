// `raceday worker --role R --project P`: one pipeline stage as its own OS process, attached to an
// emulator project a run or a fleet provisioned (chaos/worker.ts). See docs/worker-processes.md.
import { WORKER_ROLES, type WorkerRole } from '../../chaos/contracts.ts';
import { runWorker, WORKER_DEFAULTS } from '../../chaos/worker.ts';
import { RECONCILE_DEFAULTS } from '../../pipeline/reconcile.ts';
import { BROKEN_BEHAVIOURS, type BrokenBehaviour, type PipelineVariants } from '../../pipeline/settings.ts';
import { pipelineVariantsOf } from '../variant-flags.ts';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import type { CommandModule } from '../main.ts';

/** The broken behaviours the pipeline itself implements (the others are faults of the memory store). */
const PIPELINE_BROKEN = BROKEN_BEHAVIOURS.filter((b) => b !== 'no-exactly-once' && b !== 'bonus-twice');

const usage = `usage: raceday worker --role ${WORKER_ROLES.join('|')} --project P [options]

Runs one stage of the pipeline in this process on an emulator project that is already provisioned
(a run's or a fleet's; nothing is provisioned here). The emulators are reached at PUBSUB_EMULATOR_HOST
and SPANNER_EMULATOR_HOST when set (a proxy may stand in), else at the running pair raceday recorded.
Prints {"ready":true,"role","pid",...} once subscribed, then {"status":{...}} lines; see docs/worker-processes.md.

  --role R                  ${WORKER_ROLES.join(', ')}; ingest answers POST /results
                            on 127.0.0.1 (the official result as JSON) and prints its "url"
  --project P               the provisioned emulator project (required)
  --spanner-shards N        its shard databases (default 1)
  --spanner-instance I      its Spanner instance (default raceday)
  --workers K               subscribers of the stage in this process (default ${WORKER_DEFAULTS.workers})
  --max-in-flight M         handler slots per subscriber (default ${WORKER_DEFAULTS.maxInFlight}; fanout 1)
  --ack-deadline-ms N       lease per renewal: how soon a killed process's messages come back
                            (default ${WORKER_DEFAULTS.ackDeadlineMs}, at least 10000)
  --drain-timeout-ms N      SIGTERM: wait this long for running handlers (default ${WORKER_DEFAULTS.drainTimeoutMs})
  --status-interval-ms N    a status line at most this often (default ${WORKER_DEFAULTS.statusIntervalMs})
  --port P                  ingest: the port of POST /results (default 0: any free port)
  --pull MODE               how the stage pulls from Pub/Sub: unary (default; Pull requests, so a
                            killed process's messages come back after their deadline) or streaming
  --reconcile-stall-ms N    ingest: re-drive a race whose progress stopped for N ms (default
                            ${RECONCILE_DEFAULTS.stallMs}; 0 turns the reconciler off; docs/reconciler.md)
  --fanout V                per-user (default), user-batch:N or single-worker
  --notify V                after-commit (default) or outbox
  --settlements-per-commit N  settle: users group-committed per transaction (default the store's)
  --broken B                a deliberately broken behaviour of the pipeline (${PIPELINE_BROKEN.join(', ')}),
                            only to prove a chaos run's checkers catch it

SIGTERM or SIGINT: stop taking work, let running handlers finish and ack, close, exit 0.
Exit code 2 on a usage error.`;

const spec = {
  role: { type: 'string', choices: WORKER_ROLES },
  project: { type: 'string' },
  'spanner-shards': { type: 'int', min: 1, max: 64 },
  'spanner-instance': { type: 'string' },
  workers: { type: 'int', min: 1, max: 64 },
  'max-in-flight': { type: 'int', min: 1, max: 10_000 },
  'ack-deadline-ms': { type: 'int', min: 10_000, max: 600_000 },
  'drain-timeout-ms': { type: 'int', min: 0, max: 600_000 },
  'status-interval-ms': { type: 'int', min: 50, max: 60_000 },
  port: { type: 'int', min: 0, max: 65_535 },
  'reconcile-stall-ms': { type: 'int', min: 0, max: 3_600_000 },
  pull: { type: 'string', choices: ['unary', 'streaming'] },
  fanout: { type: 'string' },
  notify: { type: 'string' },
  'settlements-per-commit': { type: 'int', min: 1, max: 1_000 },
  broken: { type: 'string', choices: PIPELINE_BROKEN },
} as const;

function variantsOf(flags: Record<string, unknown>): PipelineVariants {
  const v = pipelineVariantsOf(flags);
  return typeof flags['broken'] === 'string' ? { ...v, broken: flags['broken'] as BrokenBehaviour } : v;
}

async function run(argv: readonly string[]): Promise<number> {
  const { flags } = parseArgs(argv, spec);
  const role = flags['role'] as WorkerRole | undefined;
  if (role === undefined) throw new UsageError(`--role is required: one of ${WORKER_ROLES.join(', ')}`);
  const projectId = flags['project'];
  if (typeof projectId !== 'string' || projectId === '') throw new UsageError('--project P is required: the emulator project a run or a fleet provisioned (a worker never provisions one)');
  for (const ingestOnly of ['port', 'reconcile-stall-ms']) if (flags[ingestOnly] !== undefined && role !== 'ingest') throw new UsageError(`--${ingestOnly} applies to --role ingest only`);
  const int = (name: string): number | undefined => (typeof flags[name] === 'number' ? flags[name] : undefined);
  const opt = <K extends string>(key: K, v: number | undefined): Partial<Record<K, number>> => (v === undefined ? {} : ({ [key]: v } as Record<K, number>));
  try {
    return await runWorker({
      role,
      projectId,
      spannerShards: int('spanner-shards') ?? 1,
      ...(typeof flags['spanner-instance'] === 'string' ? { spannerInstance: flags['spanner-instance'] } : {}),
      ...opt('workers', int('workers')),
      ...opt('maxInFlight', int('max-in-flight')),
      ...opt('ackDeadlineMs', int('ack-deadline-ms')),
      ...opt('drainTimeoutMs', int('drain-timeout-ms')),
      ...opt('statusIntervalMs', int('status-interval-ms')),
      ...opt('port', int('port')),
      ...opt('reconcileStallMs', int('reconcile-stall-ms')),
      ...(flags['pull'] === 'unary' || flags['pull'] === 'streaming' ? { pull: flags['pull'] } : {}),
      ...opt('settlementsPerCommitMax', int('settlements-per-commit')),
      variants: variantsOf(flags),
    });
  } finally {
    // The Google clients may keep handles open after close: a worker that stopped, or was refused
    // after opening them, must not linger (main sets the exit code meanwhile).
    setTimeout(() => process.exit(), 1_000).unref();
  }
}

export const command: CommandModule = {
  summary: 'one pipeline stage as its own process on a provisioned emulator project',
  usage,
  run: (argv) => withUsage(usage, () => run(argv)),
};
