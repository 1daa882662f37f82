// Proves the `raceday load` command line end to end in child processes: misuse exits 2 with one
// line naming the option; the stall probe, a tiny deadline rush and a tiny swarm each print one
// JSON object whose figures hold (backpressure seen; the Store check passed; healthy clients got
// everything, stalled ones nothing).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'raceday.mjs');
const run = (args: string[]) => spawnSync(process.execPath, [bin, 'load', ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' }, maxBuffer: 64 << 20, timeout: 120_000 });

describe('raceday load', () => {
  it('refuses misuse with one line and exit 2', () => {
    expect(run([]).status).toBe(2);
    const unknown = run(['swarm']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown driver "swarm"/);
    const noSecret = run(['subscribers', '--url', 'ws://127.0.0.1:1/graphql']);
    expect(noSecret.status).toBe(2);
    expect(noSecret.stderr).toMatch(/--url needs --url and --secret/);
    const mixed = run(['subscribers', '--url', 'ws://127.0.0.1:1/graphql', '--secret', 's', '--policy', 'unbounded']);
    expect(mixed.stderr).toMatch(/--policy applies to the embedded gateway only/);
    const cohorts = run(['subscribers', '--users', '10', '--cohorts', 'stalled=20']);
    expect(cohorts.status).toBe(2);
    expect(cohorts.stderr).toMatch(/cohorts name 20 users but the swarm has 10/);
    expect(run(['bets', '--rate-start', '100', '--rate-peak', '10']).stderr).toMatch(/--rate-peak \(10\) must be at least --rate-start \(100\)/);
  });

  it('prints the help of each driver', () => {
    const help = run(['bets', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: raceday load bets/);
  });

  it('stall-probe: a stalled client absorbs bytes until backpressure', () => {
    const r = run(['stall-probe', '--json']);
    expect(r.status).toBe(0);
    const probe = JSON.parse(r.stdout) as Record<'gateway' | 'ws', { bytesAbsorbed: number; backpressure: boolean }>;
    for (const p of [probe.gateway, probe.ws]) {
      expect(p.backpressure).toBe(true);
      expect(p.bytesAbsorbed).toBeGreaterThan(0);
    }
  });

  it('bets: a small rush reconciles with the Store', () => {
    const r = run(['bets', '--users', '20', '--poor-users', '2', '--ramp-ms', '1000', '--stages', '1', '--rate-start', '60', '--rate-peak', '60', '--after-close-ms', '500', '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { rush: { accepted: number; rejectedByCode: Record<string, number> }; verification: { ok: boolean } };
    expect(report.verification.ok).toBe(true);
    expect(report.rush.accepted).toBeGreaterThan(0);
    expect(report.rush.rejectedByCode['BET.RACE_CLOSED']).toBeGreaterThan(0);
  });

  it('subscribers: healthy clients get every notification, stalled ones none', () => {
    const r = run(['subscribers', '--users', '20', '--cohorts', 'stalled=2', '--notifications', '2', '--round-ms', '100', '--odds-rate', '5', '--drain-ms', '300', '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { expectedFrom: string; swarm: { cohorts: Record<string, { delivery: { expected: number; received: number; lost: number } }> } };
    expect(report.expectedFrom).toBe('store');
    expect(report.swarm.cohorts.healthy?.delivery).toMatchObject({ expected: 36, received: 36, lost: 0 });
    expect(report.swarm.cohorts.stalled?.delivery).toMatchObject({ expected: 4, received: 0, lost: 4 });
  });
});
