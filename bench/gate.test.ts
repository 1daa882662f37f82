// `raceday bench gate` prints one JSON object with the A/A and A/B verdicts; kept tiny here (one
// gate each, 40 users, 2 samples a side): the real figures come from running the bench itself.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { capture } from '../cli/_fixtures/capture.ts';
import { runBench } from './gate.ts';

afterEach(() => vi.restoreAllMocks());

describe('raceday bench gate', () => {
  it('runs the A/A and A/B gates and reports the verdicts per rule', async () => {
    const { code, out, err } = await capture(() => runBench(['--runs', '1', '--users', '40', '--repeat', '2', '--max-repeat', '2', '--json']));
    expect(code).toBe(0);
    const r = JSON.parse(out) as { command: string; aa: { gates: number; samplesPerSide: number[]; perRule: Record<string, { verdicts: Record<string, number> }> }; ab: { gates: number } };
    expect(r.command).toBe('raceday bench gate --runs 1 --users 40 --slowdown 0.25 --repeat 2 --max-repeat 2');
    expect(r.aa.gates).toBe(1);
    expect(r.ab.gates).toBe(1);
    expect(r.aa.samplesPerSide).toEqual([2]);
    // Two samples a side are below the rules' 8: every statistical rule is inconclusive.
    expect(r.aa.perRule['settle makespan']?.verdicts).toEqual({ inconclusive: 1 });
    expect(err).toMatch(/bench gate AB 1\/1: exit 0, 2 samples a side/);
  }, 60_000);

  it('refuses a cap below the start', async () => {
    const { code, err } = await capture(() => runBench(['--repeat', '8', '--max-repeat', '4']));
    expect(code).toBe(2);
    expect(err).toMatch(/--max-repeat 4 is below --repeat 8/);
  });
});
