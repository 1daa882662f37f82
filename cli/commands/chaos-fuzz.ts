// `raceday chaos --fuzz`: hostile and malformed input, generated (chaos/fuzz/): malformed messages
// on every topic while a race settles, invalid bets through a real gateway, GraphQL abuse against
// `raceday gateway` in a child process. Exits 1 on any crash, lost message, or input answered
// other than documented. `raceday chaos` hands `--fuzz` here; `raceday chaos-fuzz` runs it directly.
import { FUZZ_CLASSES, formatFuzzReport, runFuzz, type FuzzClass } from '../../chaos/fuzz/run.ts';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import type { CommandModule } from '../main.ts';

const RUNS_DEFAULT = 25;

const usage = `usage: raceday chaos --fuzz [--classes ${FUZZ_CLASSES.join(',')}] [--runs N] [--seed S] [--backend memory|emulators] [--json]

Hostile and malformed input, generated with fast-check (docs/input-fuzzing.md):
  messages  malformed and schema-violating messages on every topic the pipeline reads, published
            while a real race settles: each must land in its dead-letter topic with a reason, the
            race must settle with every checker passing, and no handler may throw
  bets      invalid placeBet inputs through a real gateway: each must be refused with its precise
            code, and balances and tickets must reconcile exactly afterwards
  graphql   deep and costly queries, forged tokens, cross-user attempts, oversized frames, floods,
            too many subscriptions and connections, missing connection_init, slowloris, against
            \`raceday gateway\` in a child process, which must be alive and answer /healthz after each

options:
  --classes LIST    comma-separated, of ${FUZZ_CLASSES.join(', ')} (default all)
  --runs N          generated inputs per kind (default ${RUNS_DEFAULT}; slow GraphQL classes run a quarter)
  --seed S          the seed: the same seed generates the same inputs (default 1)
  --backend B       memory (default) or emulators (the Pub/Sub and Spanner emulators, started or
                    reused; each run provisions a fresh project)
  --json            one JSON object: per class and kind, tried, refused or dead-lettered, crashes, lost

Exit code 0 when everything was refused or dead-lettered as documented; 1 on any crash, lost
message, or input accepted that should not be; 2 on a usage error.`;

const spec = {
  fuzz: { type: 'boolean' },
  classes: { type: 'string' },
  runs: { type: 'int', min: 1, max: 10_000 },
  seed: { type: 'int', min: 0, max: 2 ** 31 - 1 },
  backend: { type: 'string', choices: ['memory', 'emulators'] },
  json: { type: 'boolean' },
} as const;

function classesOf(flag: unknown): FuzzClass[] {
  if (typeof flag !== 'string') return [...FUZZ_CLASSES];
  const names = flag.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new UsageError(`--classes needs at least one of ${FUZZ_CLASSES.join(', ')}`);
  for (const n of names) if (!(FUZZ_CLASSES as readonly string[]).includes(n)) throw new UsageError(`--classes: unknown class "${n}"; the classes are ${FUZZ_CLASSES.join(', ')}`);
  return [...new Set(names)] as FuzzClass[];
}

async function run(argv: readonly string[]): Promise<number> {
  const { flags } = parseArgs(argv, spec);
  const json = flags['json'] === true;
  const report = await runFuzz({
    classes: classesOf(flags['classes']),
    runs: (flags['runs'] as number | undefined) ?? RUNS_DEFAULT,
    seed: (flags['seed'] as number | undefined) ?? 1,
    backend: (flags['backend'] as 'memory' | 'emulators' | undefined) ?? 'memory',
    // Progress on stderr, so --json's stdout stays one object.
    log: (line) => void process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${json ? JSON.stringify(report) : formatFuzzReport(report)}\n`);
  return report.ok ? 0 : 1;
}

export const chaosFuzz: CommandModule = {
  summary: 'generated hostile input: malformed messages, invalid bets, GraphQL abuse (chaos --fuzz)',
  usage,
  run: (argv) => withUsage(usage, () => run(argv)),
};

export const command: CommandModule = chaosFuzz;
