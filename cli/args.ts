// A small, strict argument parser shared by every command: unknown flags and bad values are
// usage errors (exit 2) that name the flag, never silently ignored.

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface FlagSpec {
  readonly type: 'string' | 'boolean' | 'int';
  /** Inclusive bounds for `int` flags. */
  readonly min?: number;
  readonly max?: number;
}

export type ParsedFlags = Record<string, string | boolean | number | undefined>;

export interface ParsedArgs {
  readonly flags: ParsedFlags;
  readonly positionals: string[];
}

export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>): ParsedArgs {
  const flags: ParsedFlags = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const s = spec[name];
    if (s === undefined) throw new UsageError(`unknown option --${name}`);
    if (s.type === 'boolean') {
      if (eq !== -1) throw new UsageError(`option --${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) throw new UsageError(`option --${name} needs a value`);
    if (s.type === 'string') {
      flags[name] = value;
      continue;
    }
    if (!/^-?\d+$/.test(value)) throw new UsageError(`option --${name} must be an integer, got "${value}"`);
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new UsageError(`option --${name} is out of range: ${value}`);
    if (s.min !== undefined && n < s.min) throw new UsageError(`option --${name} must be at least ${s.min}, got ${n}`);
    if (s.max !== undefined && n > s.max) throw new UsageError(`option --${name} must be at most ${s.max}, got ${n}`);
    flags[name] = n;
  }
  return { flags, positionals };
}

/** Runs a command body, turning UsageError into exit code 2 with the usage text. */
export async function withUsage(usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`raceday: ${e.message}\n\n${usage}\n`);
      return 2;
    }
    throw e;
  }
}
