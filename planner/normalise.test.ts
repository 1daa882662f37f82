// Normalisation: the fitted costs' common scale (and a fixed start-up) set from the calibration
// runs themselves, so the virtual model reproduces them. Checked against runs made by a known
// model: normalising the unscaled model must recover the scale and the start-up.
import { describe, expect, it } from 'vitest';
import { BASE_CONFIGURATION, EMULATOR_MODEL, MEMORY_MODEL } from './_fixtures/cost-models.ts';
import type { CostModel } from './contracts.ts';
import { closedForm } from './queueing.ts';
import { configurationOfRun, fitScale, medianPerConfiguration, normaliseToRuns, runsOfUslLevels, scaleCosts } from './normalise.ts';
import type { RunProfile } from './profile.ts';
import { predictVirtual } from './virtual.ts';

describe('fitScale', () => {
  it('recovers measured = startup + factor x predicted, and falls back to the median ratio on one size', () => {
    const pairs = [100, 200, 400, 800].map((p) => ({ predicted: p, measured: 50 + 0.5 * p }));
    const f = fitScale(pairs);
    expect(f.factor).toBeCloseTo(0.5, 6);
    expect(f.startupMs).toBeCloseTo(50, 6);
    const same = fitScale([{ predicted: 100, measured: 300 }, { predicted: 100, measured: 200 }, { predicted: 101, measured: 250 }]);
    expect(same.startupMs).toBe(0);
    expect(same.factor).toBeCloseTo(250 / 101, 6); // the median of 3, 2 and 250/101
    expect(fitScale([])).toEqual({ factor: 1, startupMs: 0, startupPerPairRunMs: 0 });
  });
});

describe('normaliseToRuns', () => {
  const run = (model: CostModel, workers: number, maxInFlight: number, users: number, makespanMs: number): Pick<RunProfile, 'knobs' | 'run'> => ({
    knobs: { workers, maxInFlight, shards: 1, settlementsPerCommit: model.target === 'memory' ? 1 : 25 },
    run: { users, tickets: users * 3, settledUsers: users, makespanMs, throughputUsersPerSecond: (users / makespanMs) * 1000 },
  });

  it('finds the scale and start-up of runs made by a model 3x dearer with a 400 ms start', async () => {
    const truth: CostModel = { ...scaleCosts(EMULATOR_MODEL, 3), startupMs: 400 };
    const shapes = [[1, 16, 400], [1, 64, 800], [2, 64, 1_200], [1, 256, 1_600]] as const;
    const runs = [];
    for (const [w, m, u] of shapes) {
      const p = await predictVirtual(truth, { ...BASE_CONFIGURATION, settleWorkers: w, postSettleWorkers: w, notifyWorkers: w, maxInFlight: m }, { users: u, tickets: 3 * u }, { samples: 1 });
      runs.push(run(EMULATOR_MODEL, w, m, u, p.makespanMs.p50));
    }
    const n = await normaliseToRuns(EMULATOR_MODEL, runs);
    expect(n.factor).toBeGreaterThan(2.7);
    expect(n.factor).toBeLessThan(3.3);
    expect(n.startupMs).toBeGreaterThan(250);
    expect(n.startupMs).toBeLessThan(550);
    expect(n.model.startupMs).toBeCloseTo(n.startupMs, 0);
    expect(n.model.operations['settle.commit']?.baseUs).toBeCloseTo((EMULATOR_MODEL.operations['settle.commit']?.baseUs ?? 0) * n.factor, 6);
    expect(n.model.sources.at(-1)).toMatch(/^normalised: every operation's cost x\d/);
    expect(n.runSpread).toBeLessThan(0.05); // runs the model made itself scatter hardly at all
    // The same runs measured 30% slower and faster in turn: the scatter is seen and kept.
    const noisy = await normaliseToRuns(EMULATOR_MODEL, runs.map((r, i) => ({ ...r, run: { ...r.run, makespanMs: r.run.makespanMs * (i % 2 === 0 ? 1.3 : 0.7) } })));
    expect(noisy.runSpread).toBeGreaterThan(0.2);
    expect(noisy.model.runSpread).toBeCloseTo(noisy.runSpread, 2);
  });

  it('takes each configuration\'s median run, so one round slowed by load does not set the scale', async () => {
    const truth: CostModel = { ...scaleCosts(EMULATOR_MODEL, 3), startupMs: 400 };
    const runs: Pick<RunProfile, 'knobs' | 'run'>[] = [];
    for (const round of [0, 1, 2]) {
      for (const [w, m, u] of [[1, 16, 400], [1, 64, 800], [2, 64, 1_200], [1, 256, 1_600], [2, 256, 300]] as const) {
        const p = await predictVirtual(truth, { ...BASE_CONFIGURATION, settleWorkers: w, postSettleWorkers: w, notifyWorkers: w, maxInFlight: m }, { users: u, tickets: 3 * u }, { samples: 1 });
        // The second round ran while something else loaded the machine: its runs of 800 and 1,600 users took 2.5x as long.
        const slowed = round === 1 && (u === 800 || u === 1_600) ? 2.5 : 1;
        runs.push(run(EMULATOR_MODEL, w, m, u, p.makespanMs.p50 * slowed * (1 + 0.01 * round)));
      }
    }
    const medians = medianPerConfiguration(runs);
    expect(medians).toHaveLength(5);
    // The middle of three (each round 1% slower than the one before): round 2's run, or round 3's
    // where round 2's was slowed; never a slowed one.
    expect(medians.map((r) => runs.indexOf(r))).toEqual([5, 11, 7, 13, 9]);
    const n = await normaliseToRuns(EMULATOR_MODEL, medians);
    expect(n.factor).toBeGreaterThan(2.7);
    expect(n.factor).toBeLessThan(3.3);
    expect(n.runSpread).toBeLessThan(0.05);
    // Against every run, the slowed round pulls the fit and its scatter shows.
    const all = await normaliseToRuns(EMULATOR_MODEL, runs);
    expect(all.runSpread).toBeGreaterThan(0.2);
    // Of two runs, the faster; configurations that differ in any knob stay apart.
    const a = run(EMULATOR_MODEL, 1, 64, 800, 900);
    const b = run(EMULATOR_MODEL, 1, 64, 800, 700);
    const c = { ...run(EMULATOR_MODEL, 1, 64, 800, 500), knobs: { ...a.knobs, shards: 2 } };
    expect(medianPerConfiguration([a, b, c])).toEqual([b, c]);
  });

  it('fits the emulator process capacity from runs over several shard counts', async () => {
    // Runs made by a model whose one process runs 3 transactions at full speed; normalising the same
    // costs without a shard USL must find 3 among the capacities it tries.
    const noUsl: CostModel = { ...EMULATOR_MODEL, usl: [] };
    const truth: CostModel = { ...noUsl, parallelism: { ...noUsl.parallelism, processCapacity: 3 } };
    const runs = [];
    for (const shards of [1, 2, 3, 4, 6]) {
      // The truth's run of the very configuration the run's knobs say (as normalisation will predict it).
      const knobs = { workers: 2, maxInFlight: 256, shards, settlementsPerCommit: 25 };
      const p = await predictVirtual(truth, configurationOfRun({ knobs }), { users: 3_000, tickets: 9_000 }, { samples: 1 });
      runs.push({ ...run(noUsl, 2, 256, 3_000, p.makespanMs.p50), knobs });
    }
    const n = await normaliseToRuns(noUsl, runs);
    expect(n.processCapacity).toBe(3);
    expect(n.model.parallelism.processCapacity).toBe(3);
    expect(n.runSpread).toBeLessThan(0.1); // the start-up and scale absorb a little of the shape
    expect(n.model.sources.at(-1)).toContain('the emulator process runs 3 transactions at full speed at once');
  });

  it('widens the prediction interval by twice the runs scatter, in both predictors', async () => {
    const w = { users: 2_000, tickets: 6_000 };
    const tight = await predictVirtual(EMULATOR_MODEL, BASE_CONFIGURATION, w, { samples: 1 });
    const wide = await predictVirtual({ ...EMULATOR_MODEL, runSpread: 0.2 }, BASE_CONFIGURATION, w, { samples: 1 });
    expect(wide.makespanMs.p50).toBe(tight.makespanMs.p50);
    expect(wide.makespanMs.high / wide.makespanMs.p50 - tight.makespanMs.high / tight.makespanMs.p50).toBeCloseTo(0.4, 1);
    const cf = closedForm({ ...EMULATOR_MODEL, runSpread: 0.2 }, BASE_CONFIGURATION, w);
    const cf0 = closedForm(EMULATOR_MODEL, BASE_CONFIGURATION, w);
    expect(cf.makespanMs.high / cf.makespanMs.p50 - cf0.makespanMs.high / cf0.makespanMs.p50).toBeCloseTo(0.4, 1);
  });

  it('leaves a model that already reproduces its runs about as it is (memory)', async () => {
    const runs = [];
    for (const [w, m, u] of [[1, 16, 500], [1, 64, 1_000], [2, 256, 2_000]] as const) {
      const p = await predictVirtual(MEMORY_MODEL, { ...BASE_CONFIGURATION, settlementsPerCommit: 1, settleWorkers: w, postSettleWorkers: w, notifyWorkers: w, maxInFlight: m }, { users: u, tickets: 3 * u }, { samples: 1 });
      runs.push(run(MEMORY_MODEL, w, m, u, p.makespanMs.p50));
    }
    const n = await normaliseToRuns(MEMORY_MODEL, runs);
    expect(n.factor).toBeGreaterThan(0.95);
    expect(n.factor).toBeLessThan(1.05);
    expect(n.startupMs).toBeLessThan(5);
  });

  it('a start-up delays the whole prediction, in both predictors', async () => {
    const w = { users: 3_000, tickets: 9_000 };
    const base = await predictVirtual(EMULATOR_MODEL, BASE_CONFIGURATION, w, { samples: 1 });
    const late = await predictVirtual({ ...EMULATOR_MODEL, startupMs: 2_000 }, BASE_CONFIGURATION, w, { samples: 1 });
    expect(late.makespanMs.p50 - base.makespanMs.p50).toBeGreaterThan(1_900);
    expect(late.makespanMs.p50 - base.makespanMs.p50).toBeLessThan(2_100);
    const cf = closedForm(EMULATOR_MODEL, BASE_CONFIGURATION, w);
    expect(closedForm({ ...EMULATOR_MODEL, startupMs: 2_000 }, BASE_CONFIGURATION, w).makespanMs.p50 - cf.makespanMs.p50).toBeCloseTo(2_000, 0);
  });

  it('rebuilds the runs a model USL levels record', () => {
    const model: CostModel = {
      ...EMULATOR_MODEL,
      calibratedMax: { users: 1_000, tickets: 2_500 },
      usl: [
        { concurrency: 'settle workers x maxInFlight', throughput: 'users settled per second', lambda: 1, sigma: 0, kappa: 0, peakN: Infinity, r2: 1, levels: [{ n: 64, throughput: 100 }, { n: 512, throughput: 200 }] },
        { concurrency: 'spanner shards', throughput: 'users settled per second', lambda: 1, sigma: 0, kappa: 0, peakN: Infinity, r2: 1, levels: [{ n: 1, throughput: 200 }, { n: 3, throughput: 250 }] },
      ],
    };
    const runs = runsOfUslLevels(model, 25);
    expect(runs.map((r) => [r.knobs.maxInFlight, r.knobs.shards, r.run.makespanMs])).toEqual([[64, 1, 10_000], [512, 1, 5_000], [512, 3, 4_000]]);
  });
});
