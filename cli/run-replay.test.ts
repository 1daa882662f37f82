// Proves `raceday run --scenario <file>` replays a generated multi-race day through the pipeline on
// the embedded backend: every race completes, every user with tickets is settled once per race,
// and flags that only fit the other path are usage errors. It runs the real CLI in a child process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', 'bin', 'raceday.mjs');
const run = (args: string[]) => spawnSync(process.execPath, [bin, 'run', ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' }, maxBuffer: 64 << 20 });

interface Report {
  tickets: number;
  complete: boolean;
  racesComplete: number;
  races: { users: number; settledUsers: number; tickets: number; complete: boolean }[];
}

describe('raceday run --scenario (replay)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'raceday-run-replay-'));
  const scenario = join(dir, 'two-races.json');
  writeFileSync(
    scenario,
    JSON.stringify({
      name: 'two-races',
      users: 200,
      tickets: 2000,
      races: [
        { venue: 'kawasaki', sport: 'keirin', riders: 9, postMinute: 600 },
        { venue: 'kawaguchi', sport: 'autorace', riders: 8, postMinute: 640 },
      ],
    }),
  );

  it('settles every user of every race and reports per-race metrics', () => {
    const r = run(['--scenario', scenario, '--seed', '4', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.complete).toBe(true);
    expect(report.races).toHaveLength(2);
    expect(report.racesComplete).toBe(2);
    expect(report.races.reduce((s, x) => s + x.tickets, 0)).toBe(report.tickets);
    for (const race of report.races) {
      expect(race.users).toBeGreaterThan(0);
      expect(race.settledUsers).toBe(race.users);
    }
  });

  it('refuses replay-only flags on smoke and replays on other backends, naming the flag', () => {
    const smoke = run(['--scenario', 'smoke', '--speed', '10']);
    expect(smoke.status).toBe(2);
    expect(smoke.stderr).toMatch(/--speed applies to generated scenarios/);
    const emu = run(['--scenario', scenario, '--backend', 'emulators']);
    expect(emu.status).toBe(2);
    expect(emu.stderr).toMatch(/memory backend only/);
    const missing = run(['--scenario', join(dir, 'nope.json')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/neither a preset/);
  });
});
