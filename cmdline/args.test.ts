// The parser every command uses: values, choices, bounds, repeatable options and positionals.
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from './args.ts';

const spec = {
  name: { type: 'string' },
  mode: { type: 'string', choices: ['a', 'b'] },
  count: { type: 'int', min: 1, max: 9 },
  tag: { type: 'string', repeatable: true },
  json: { type: 'boolean' },
} as const;

const refused = (argv: string[], message: RegExp, positionals = 0): void => {
  expect(() => parseArgs(argv, spec, { positionals })).toThrow(UsageError);
  expect(() => parseArgs(argv, spec, { positionals })).toThrow(message);
};

describe('parseArgs', () => {
  it('reads values in both spellings, keeps every value of a repeatable option, and allowed positionals', () => {
    const r = parseArgs(['go', '--name', 'x', '--mode=b', '--count', '3', '--tag', 'p', '--tag=q', '--json', '-'], spec, { positionals: 2 });
    expect(r.flags).toEqual({ name: 'x', mode: 'b', count: 3, tag: 'q', json: true });
    expect(r.lists['tag']).toEqual(['p', 'q']);
    expect(r.positionals).toEqual(['go', '-']);
  });

  it('an option as the value of another is a missing value; --name=--json is the literal value', () => {
    refused(['--name', '--json'], /--name needs a value, got the option --json/);
    expect(parseArgs(['--name=--json'], spec).flags['name']).toBe('--json');
  });

  it('refuses repeats, unknown options, values outside the choices or bounds, and stray arguments', () => {
    refused(['--count', '1', '--count', '2'], /--count given more than once/);
    refused(['--json', '--json'], /--json given more than once/);
    refused(['--nope'], /unknown option --nope/);
    refused(['--mode', 'c'], /--mode must be one of a, b, got "c"/);
    refused(['--count', '10'], /at most 9/);
    refused(['--count', 'x'], /must be an integer/);
    refused(['--json=1'], /takes no value/);
    refused(['extra'], /unexpected argument "extra"/);
    refused(['-x'], /unexpected argument "-x" \(options start with --\)/);
    refused(['a', 'b'], /unexpected argument "b"/, 1);
  });
});
