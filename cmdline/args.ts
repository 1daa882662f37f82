// The one argument parser of every command (cli/commands/*, bench/*): each command declares its
// options (flag, integer or string value, allowed values, repeatable or not) and every misuse is
// a usage error (exit 2) with one line that names the option and says what to do. Nothing is
// silently ignored or overwritten: an unknown option, a repeated option, a value that is missing
// or is itself an option (`--scenario --json`), and a stray argument are all refused.

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface FlagSpec {
  readonly type: 'string' | 'boolean' | 'int';
  /** Inclusive bounds for `int` flags. */
  readonly min?: number;
  readonly max?: number;
  /** `string` flags: the only values accepted. */
  readonly choices?: readonly string[];
  /** May be given more than once; every value is kept in `ParsedArgs.lists` (the flag holds the last). */
  readonly repeatable?: boolean;
}

export type ParsedFlags = Record<string, string | boolean | number | undefined>;

export interface ParsedArgs {
  readonly flags: ParsedFlags;
  readonly positionals: string[];
  /** Every value of a repeatable option, in the order given. */
  readonly lists: Record<string, (string | number)[]>;
}

export interface ParseOptions {
  /** Positional arguments accepted (default 0: any positional is "unexpected argument"). */
  readonly positionals?: number;
}

/** A value that is itself an option: `--scenario --json` is a missing value, not the scenario "--json". */
const looksLikeOption = (s: string): boolean => s.startsWith('--') && s.length > 2;

function intValue(name: string, s: FlagSpec, value: string): number {
  if (!/^-?\d+$/.test(value)) throw new UsageError(`option --${name} must be an integer, got "${value}"`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new UsageError(`option --${name} is out of range: ${value}`);
  if (s.min !== undefined && n < s.min) throw new UsageError(`option --${name} must be at least ${s.min}, got ${n}`);
  if (s.max !== undefined && n > s.max) throw new UsageError(`option --${name} must be at most ${s.max}, got ${n}`);
  return n;
}

function stringValue(name: string, s: FlagSpec, value: string): string {
  if (s.choices !== undefined && !s.choices.includes(value)) {
    throw new UsageError(`option --${name} must be one of ${s.choices.join(', ')}, got "${value}"`);
  }
  return value;
}

export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>, options: ParseOptions = {}): ParsedArgs {
  const flags: ParsedFlags = {};
  const positionals: string[] = [];
  const lists: Record<string, (string | number)[]> = {};
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!looksLikeOption(arg)) {
      if (positionals.length >= (options.positionals ?? 0)) {
        throw new UsageError(`unexpected argument "${arg}"${arg.startsWith('-') && arg !== '-' ? ' (options start with --)' : ''}`);
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const s = spec[name];
    if (s === undefined) throw new UsageError(`unknown option --${name}`);
    if (seen.has(name) && s.repeatable !== true) throw new UsageError(`option --${name} given more than once; give it once`);
    seen.add(name);
    if (s.type === 'boolean') {
      if (eq !== -1) throw new UsageError(`option --${name} takes no value`);
      flags[name] = true;
      continue;
    }
    const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`option --${name} needs a value`);
    if (eq === -1 && looksLikeOption(value)) {
      throw new UsageError(`option --${name} needs a value, got the option ${value} (write --${name}=${value} if you mean it as the value)`);
    }
    const parsed = s.type === 'int' ? intValue(name, s, value) : stringValue(name, s, value);
    flags[name] = parsed;
    (lists[name] ??= []).push(parsed);
  }
  return { flags, positionals, lists };
}

/** "raceday run" from a usage text that starts "usage: raceday run ...". */
function commandOf(usage: string): string {
  return /^usage: (raceday(?: [a-z-]+)?)/.exec(usage)?.[1] ?? 'raceday';
}

/**
 * Runs a command body, turning UsageError into exit code 2 and ONE line on stderr: the problem and
 * where to read the options (the full usage text would bury the line that matters).
 */
export async function withUsage(usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      const cmd = commandOf(usage);
      const help = cmd === 'raceday' ? 'raceday help' : `raceday help ${cmd.slice('raceday '.length)}`;
      process.stderr.write(`${cmd}: ${e.message} (${help} lists the options)\n`);
      return 2;
    }
    throw e;
  }
}
