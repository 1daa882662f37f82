// A small calibration on the official emulators (started or reused; never skipped silently): six
// profiled runs of 100 users at six settle concurrency levels, fitted into a cost model that
// prices every operation and carries a USL over those six levels. Kept small (about a minute):
// the shipped calibration is measured by `raceday plan calibrate`, not here.
import { expect, it } from 'vitest';
import { describeWithEmulators, useEmulators } from '../emulators/test-support.ts';
import { calibrate } from './calibrate.ts';
import { parseCostModel, costModelJson } from './calibration.ts';
import { OPERATION_TERMS } from './profile.ts';

describeWithEmulators('plan calibrate on the emulators', () => {
  useEmulators();

  it('fits a model with every priced operation and a USL over 6 levels from real profiled runs', async () => {
    const levels = [4, 8, 16, 32, 64, 128];
    const lines: string[] = [];
    const r = await calibrate({ target: 'emulators', levels, users: 100, shards: 1, command: 'test', progress: (l) => void lines.push(l) });
    if (!r.ok) throw new Error(r.error.message);
    const { model, runs } = r.value;
    expect(lines).toHaveLength(8); // the discarded warm-up's, a line per run, then the normalisation's
    expect(lines[0]).toMatch(/^plan calibrate: warm-up run \(N = 1 x 4, discarded\)/);
    expect(lines[7]).toMatch(/^plan calibrate: costs x\d/);
    expect(model.sources.some((l) => l.startsWith('normalised: '))).toBe(true);
    expect(runs.map((p) => p.concurrency)).toEqual(levels);
    for (const op of Object.keys(OPERATION_TERMS)) expect(model.operations[op as keyof typeof model.operations], op).toBeDefined();
    const usl = model.usl[0];
    expect(usl?.levels.map((l) => l.n)).toEqual(levels);
    expect(usl?.sigma).toBeGreaterThanOrEqual(0);
    expect(usl?.kappa).toBeGreaterThanOrEqual(0);
    expect(model.parallelism.transactionsPerUnit).toBe(1);
    for (const p of runs) {
      // Group commits: every settled user is in exactly one settle.commit group (the reservoir keeps all at this size).
      const settle = p.operations['settle.commit'];
      expect(settle?.samples.reduce((a, s) => a + (s.sizes['users'] ?? 0), 0)).toBe(p.run.settledUsers);
      expect(settle?.count).toBeLessThanOrEqual(p.run.settledUsers);
      // The settled check: two reads per settled user (post-settle's, notify's), each in exactly one group (one coalesced read).
      const checks = p.operations['settled.check'];
      expect(checks?.samples.reduce((a, s) => a + (s.sizes['users'] ?? 0), 0)).toBe(2 * p.run.settledUsers);
      expect(p.knobs.settlementsPerCommit).toBe(25);
      expect(p.run.settledUsers).toBe(p.run.users);
    }
    // What the command writes is a model the planner reads back.
    expect(parseCostModel(JSON.parse(costModelJson(model))).ok).toBe(true);
  }, 180_000);
});
