// The validation's calibration runs every case round after round: every run's profile reaches the
// cost fit, and the model is normalised against each case's median run. Real runs on the memory
// backend (a few hundred users: milliseconds each).
import { describe, expect, it } from 'vitest';
import type { KeptCalibration } from './validate.ts';
import { validationCalibrator } from './validate-calibrate.ts';

describe('validationCalibrator', () => {
  it('runs each case once per round and fits the model from every run', async () => {
    const lines: string[] = [];
    let kept: KeptCalibration | undefined;
    const cases = [
      { users: 100, workers: 1, shards: 1, maxInFlight: 16 },
      { users: 200, workers: 1, shards: 1, maxInFlight: 64 },
    ];
    const model = await validationCalibrator({ backend: 'memory', cases, rounds: 3, log: (l) => lines.push(l), keep: (k) => (kept = k) });
    expect(kept?.profiles).toHaveLength(6);
    expect(kept?.profiles.map((p) => p.run.users)).toEqual([100, 200, 100, 200, 100, 200]);
    expect(lines.filter((l) => /^validate: calibration \d\/2 \(round \d\/3\)/.test(l))).toHaveLength(6);
    expect(lines.some((l) => l.startsWith('validate: calibration 2/2 (round 3/3) 200u/1w/1s/64f'))).toBe(true);
    // Every run's samples were fitted: the settlement commits of 3 x 300 users.
    expect(model.operations['settle.commit']?.samples).toBe(900);
    expect(model.sources[0]).toContain('3 rounds');
    expect(model.sources.at(-1)).toMatch(/^normalised: .* the 2 calibration runs' makespans/);
  });
});
