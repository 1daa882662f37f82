// `raceday chaos-fuzz` (the --fuzz mode of `raceday chaos`) end to end: the real command, a short
// run of the message and bet fuzzers on the memory backend, prints one JSON object with its
// counts and exits 0; usage errors exit 2 with one line naming the option.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');

function raceday(args: string[]) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'raceday.mjs'), ...args], { cwd: root, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('raceday chaos-fuzz', () => {
  it('runs the message and bet fuzzers and prints their counts as one JSON object', () => {
    const r = raceday(['chaos-fuzz', '--fuzz', '--classes', 'messages,bets', '--runs', '2', '--seed', '3', '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; tried: number; refused: number; crashes: number; lost: number; accepted: number; messages: { cells: unknown[] }; bets: { cells: unknown[] }; graphql?: unknown };
    expect({ ok: report.ok, crashes: report.crashes, lost: report.lost, accepted: report.accepted }).toEqual({ ok: true, crashes: 0, lost: 0, accepted: 0 });
    expect(report.refused).toBe(report.tried);
    expect(report.messages.cells.length).toBeGreaterThan(40);
    expect(report.bets.cells.length).toBe(18);
    expect(report.graphql).toBeUndefined();
    expect(r.stderr).toMatch(/fuzz messages: \d+ malformed messages/);
  });

  it('refuses an unknown class and a bad run count with a usage error', () => {
    const bad = raceday(['chaos-fuzz', '--classes', 'messages,nope']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--classes: unknown class "nope"; the classes are messages, bets, graphql/);
    expect(raceday(['chaos-fuzz', '--runs', '0']).status).toBe(2);
  });

  it('answers --help with its usage', () => {
    const r = raceday(['chaos-fuzz', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: raceday chaos --fuzz/);
  });
});
