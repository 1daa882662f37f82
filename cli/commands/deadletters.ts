// `raceday deadletters list|redrive --topic T`: what a topic's dead-letter topic holds (reason and
// delivery attempts per letter), and re-driving it to the topic after a fix. Reads the dead-letter
// audit subscription of a running project on the emulators. The memory bus lives inside one
// process, so its dead letters are operated from that process (pipeline/dead-letter-admin.ts).
import { createPubSubBus } from '../../backends/google/pubsub-bus.ts';
import { createRealClock } from '../../backends/memory/index.ts';
import { TOPICS } from '../../core/topology.ts';
import { emulatorDir, readState } from '../../emulators/index.ts';
import { DEFAULT_PROJECT_ID } from '../../emulators/limits.ts';
import { DEAD_LETTER_ADMIN_LIMITS, listDeadLetters, redriveDeadLetters, type DeadLetterEntry } from '../../pipeline/dead-letter-admin.ts';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import type { CommandModule } from '../main.ts';

const TOPIC_NAMES: readonly string[] = Object.values(TOPICS);

const usage = `usage: raceday deadletters list|redrive --topic T [--backend emulators] [--project ID] [--json]

  list      show the dead letters of topic T: message id, delivery attempts, reason, user, data;
            they stay where they are
  redrive   publish every dead letter of T back to T (after the fix), without the dead-letter
            attributes, and remove it from the dead letters; settlement is exactly once per user,
            so a re-driven request that was already settled changes nothing

options:
  --topic T           one of ${TOPIC_NAMES.join(', ')} (its dead-letter topic is T-dead-letter)
  --backend B         emulators (default); memory dead letters live inside the process that ran
                      the pipeline and are read there
  --project ID        the project whose dead letters to read (default ${DEFAULT_PROJECT_ID}, the one
                      \`raceday emulators start\` provisions); the Pub/Sub emulator is
                      PUBSUB_EMULATOR_HOST, else the one \`raceday emulators start\` recorded
  --quiet-ms N        stop reading once nothing new arrived for N ms (default ${DEAD_LETTER_ADMIN_LIMITS.quietMs}; before the first
                      letter it waits at least ${DEAD_LETTER_ADMIN_LIMITS.firstWaitMs} ms)
  --json              one JSON object`;

const spec = {
  topic: { type: 'string', choices: TOPIC_NAMES },
  backend: { type: 'string', choices: ['emulators', 'memory'] },
  project: { type: 'string' },
  'quiet-ms': { type: 'int', min: 1, max: 600_000 },
  json: { type: 'boolean' },
} as const;

function pubsubHost(): string {
  const fromEnv = process.env.PUBSUB_EMULATOR_HOST;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const host = readState(emulatorDir())?.pubsubHost;
  if (host === undefined) throw new UsageError('no Pub/Sub emulator: run `raceday emulators start` or export PUBSUB_EMULATOR_HOST=host:port');
  return host;
}

function formatEntries(topic: string, action: string, entries: readonly DeadLetterEntry[]): string {
  const lines = [`${entries.length} dead letter${entries.length === 1 ? '' : 's'} of ${topic} ${action === 'list' ? 'listed' : `re-driven to ${topic}`}`];
  for (const e of entries) {
    const attempts = e.attempts === undefined ? '?' : String(e.attempts);
    lines.push(`  ${e.messageId}  attempts ${attempts}  ${e.userId === undefined ? '' : `user ${e.userId}  `}${e.reason}`);
    lines.push(`    ${e.data.length > 160 ? `${e.data.slice(0, 160)}...` : e.data}`);
  }
  return lines.join('\n');
}

async function run(argv: readonly string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, spec, { positionals: 1 });
  const [action] = positionals;
  if (action !== 'list' && action !== 'redrive') throw new UsageError(`say list or redrive, got ${action === undefined ? 'nothing' : `"${action}"`}`);
  const topic = flags['topic'];
  if (typeof topic !== 'string') throw new UsageError(`--topic is required (one of ${TOPIC_NAMES.join(', ')})`);
  if (flags['backend'] === 'memory') throw new UsageError('the memory bus lives inside the process that ran the pipeline: read its dead letters there (pipeline/dead-letter-admin.ts); from the command line use --backend emulators');
  process.env.METADATA_SERVER_DETECTION = 'none';
  const projectId = typeof flags['project'] === 'string' ? flags['project'] : DEFAULT_PROJECT_ID;
  const bus = createPubSubBus({ projectId, emulatorHost: pubsubHost(), onError: (sub, e) => process.stderr.write(`raceday: ${sub}: ${e.message}\n`) });
  try {
    const options = typeof flags['quiet-ms'] === 'number' ? { quietMs: flags['quiet-ms'] } : {};
    const entries = action === 'list' ? await listDeadLetters(bus, createRealClock(), topic, options) : await redriveDeadLetters(bus, createRealClock(), topic, options);
    if (flags['json'] === true) process.stdout.write(`${JSON.stringify({ action, topic, project: projectId, deadLetters: entries })}\n`);
    else process.stdout.write(`${formatEntries(topic, action, entries)}\n`);
    return 0;
  } finally {
    await bus.close();
  }
}

export const command: CommandModule = {
  summary: 'list the dead letters of a topic with reasons and attempts, or re-drive them after a fix',
  usage,
  run: (argv) => withUsage(usage, () => run(argv)),
};
