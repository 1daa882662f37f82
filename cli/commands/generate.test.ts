// Proves the `raceday generate` command line: with --out - the data goes to stdout and the --json
// summary to stderr; with a file the file holds the same bytes and the summary goes to stdout;
// an invalid scenario file exits 2 naming the field and range. It runs the real CLI in a child process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'raceday.mjs');
const run = (args: string[]) => spawnSync(process.execPath, [bin, 'generate', ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' }, maxBuffer: 64 << 20 });

describe('raceday generate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'raceday-generate-'));
  const scenario = join(dir, 'tiny.json');
  writeFileSync(scenario, JSON.stringify({ name: 'tiny', users: 50, tickets: 500, races: [{ venue: 'kawasaki', sport: 'keirin', riders: 7, postMinute: 600 }] }));

  it('streams JSON Lines to stdout with the summary on stderr, and the same bytes to a file', () => {
    const piped = run(['--scenario', scenario, '--seed', '9', '--out', '-', '--json']);
    expect(piped.status).toBe(0);
    const lines = piped.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { kind: string });
    expect(lines.filter((l) => l.kind === 'ticket')).toHaveLength(500);
    const summary = JSON.parse(piped.stderr) as { tickets: number; ticketsPerSecond: number; rssMbMax: number };
    expect(summary.tickets).toBe(500);
    expect(summary.ticketsPerSecond).toBeGreaterThan(0);
    expect(summary.rssMbMax).toBeGreaterThan(0);
    const out = join(dir, 'day.jsonl');
    const toFile = run(['--scenario', scenario, '--seed', '9', '--out', out, '--json']);
    expect(toFile.status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(piped.stdout);
    expect((JSON.parse(toFile.stdout) as { out: string }).out).toBe(out);
  });

  it('exits 2 naming the field of a bad scenario, and on a missing --out', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'bad', users: 50, tickets: 500, races: [{ venue: 'x', sport: 'pist6', riders: 9, postMinute: 600 }] }));
    const r = run(['--scenario', bad, '--out', '-']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('races[0].riders: must be 6 for pist6');
    const missing = run(['--scenario', scenario]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--out is required');
  });
});
