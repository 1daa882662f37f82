// Proves the `raceday sim` and `raceday run` contracts by running the commands in-process and
// parsing what they print: the exploration JSON has seeds, violations (with replay commands) and
// seedsPerMinute; a replayed seed prints the same trace hash twice; a broken pipeline exits 1 and
// its replay command reproduces the violation; `run` settles a small day with every invariant ok.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { command as run } from './run.ts';
import { command as sim } from './sim.ts';
import { capture } from '../_fixtures/capture.ts';

afterEach(() => vi.restoreAllMocks());

describe('raceday sim', () => {
  it('prints seeds, violations and seedsPerMinute as JSON', async () => {
    const { code, out } = await capture(() => sim.run(['--scenario', 'smoke', '--seeds', '5', '--json']));
    const summary = JSON.parse(out) as { seeds: number; violations: unknown[]; seedsPerMinute: number };
    expect(code).toBe(0);
    expect(summary.seeds).toBe(5);
    expect(summary.violations).toEqual([]);
    expect(summary.seedsPerMinute).toBeGreaterThan(0);
  });

  it('replays one seed with the same trace hash every time', async () => {
    const a = await capture(() => sim.run(['--seed', '11', '--scenario', 'smoke']));
    const b = await capture(() => sim.run(['--seed', '11', '--scenario', 'smoke']));
    const hash = /trace ([0-9a-f]{64})/.exec(a.out)?.[1];
    expect(hash).toBeDefined();
    expect(b.out).toContain(`trace ${hash}`);
  });

  it('exits 1 on a broken pipeline and names a replay command that reproduces it', async () => {
    const { code, out } = await capture(() => sim.run(['--seeds', '3', '--broken', 'no-barrier', '--json']));
    const summary = JSON.parse(out) as { violations: { seed: number; replay: string; traceHash: string }[] };
    expect(code).toBe(1);
    const first = summary.violations[0];
    expect(first?.replay).toBe(`raceday sim --scenario smoke --seed ${first?.seed} --broken no-barrier`);
    const argv = (first?.replay ?? '').split(' ').slice(2);
    const replay = await capture(() => sim.run([...argv, '--json']));
    expect(replay.code).toBe(1);
    expect((JSON.parse(replay.out) as { traceHash: string }).traceHash).toBe(first?.traceHash);
  });

  it('refuses unknown flags with exit code 2', async () => {
    const { code } = await capture(() => sim.run(['--seeds', '2', '--bogus']));
    expect(code).toBe(2);
  });
});

describe('raceday run', () => {
  it('settles a small race day with every invariant ok', async () => {
    const { code, out } = await capture(() => run.run(['--scenario', 'smoke', '--users', '150', '--json', '--fanout', 'user-batch:10', '--notify', 'outbox']));
    const s = JSON.parse(out) as { ok: boolean; settledUsers: number; users: number; invariants: { ok: boolean }[]; settleLatencyMs: { p50: number; max: number } };
    expect(code).toBe(0);
    expect(s.ok).toBe(true);
    expect(s.settledUsers).toBe(s.users);
    expect(s.invariants.every((i) => i.ok)).toBe(true);
    expect(s.settleLatencyMs.max).toBeGreaterThanOrEqual(s.settleLatencyMs.p50);
  });

  it('refuses an unknown backend as a usage error (the emulators backend is proven in run-emulators.test.ts)', async () => {
    const { code } = await capture(() => run.run(['--backend', 'nowhere']));
    expect(code).toBe(2);
  });
});
