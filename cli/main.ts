// The `raceday` command line: one file per command under cli/commands/, loaded on demand so a
// command that needs the Google clients does not slow down `raceday payout`.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CommandModule {
  /** One line for `raceday help`. */
  readonly summary: string;
  /** Full usage text for `raceday help <command>` and for usage errors. */
  readonly usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: readonly string[]): Promise<number>;
  /** Usage of a sub-command named in argv (`raceday bench core --help`), where it has its own. */
  helpFor?(argv: readonly string[]): Promise<string | undefined>;
}

const commandsDir = join(dirname(fileURLToPath(import.meta.url)), 'commands');

function commandNames(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.startsWith('_'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function load(name: string): Promise<CommandModule> {
  const mod = (await import(join(commandsDir, `${name}.ts`))) as { command: CommandModule };
  return mod.command;
}

async function help(name?: string): Promise<number> {
  if (name !== undefined) {
    if (!commandNames().includes(name)) {
      process.stderr.write(`raceday: unknown command "${name}"\n`);
      return 2;
    }
    process.stdout.write(`${(await load(name)).usage}\n`);
    return 0;
  }
  const lines = ['usage: raceday <command> [options]', '', 'commands:'];
  for (const n of commandNames()) lines.push(`  ${n.padEnd(10)} ${(await load(n)).summary}`);
  lines.push('', 'raceday help <command> shows the options of one command.');
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') return help(rest[0]);
  if (!commandNames().includes(name)) {
    process.stderr.write(`raceday: unknown command "${name}" (try: raceday help)\n`);
    return 2;
  }
  const command = await load(name);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${(await command.helpFor?.(rest)) ?? command.usage}\n`);
    return 0;
  }
  return command.run(rest);
}
