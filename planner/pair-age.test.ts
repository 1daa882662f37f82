// The emulator pair's age: the Spanner emulator's reads slow down with every transaction it has
// served, so a run's start path (reads) is slower on a pair that served more runs before it.
// Normalisation fits that growth from the calibration runs' ages (startupPerPairRunMs), and the
// validation predicts each held-out case at the age its own runs will meet. Checked against runs
// made by a known model: the growth must be recovered, and must not be invented where there is none.
import { describe, expect, it } from 'vitest';
import { BASE_CONFIGURATION, EMULATOR_MODEL, MEMORY_MODEL } from './_fixtures/cost-models.ts';
import type { CostModel, Prediction } from './contracts.ts';
import { atPairAge, configurationOfRun, fitScale, medianPerConfiguration, normaliseToRuns, scaleCosts, scaleRuns, type NormaliseRun } from './normalise.ts';
import { parseCostModel } from './calibration.ts';
import type { MeasuredRun } from './real-run.ts';
import { runValidation, type ValidationPlan } from './validate.ts';
import { predictVirtual } from './virtual.ts';

describe('fitScale with the pair age', () => {
  it('recovers measured = startup + perRun x age + factor x predicted', () => {
    const pairs = [100, 200, 400, 800, 300, 600].map((p, i) => ({ predicted: p, measured: 40 + 6 * (i + 1) + 0.5 * p, pairRuns: i + 1 }));
    const f = fitScale(pairs);
    expect(f.factor).toBeCloseTo(0.5, 6);
    expect(f.startupMs).toBeCloseTo(40, 4);
    expect(f.startupPerPairRunMs).toBeCloseTo(6, 4);
  });

  it('invents no growth: none without ages, none when the ages are all alike, none when the runs do not slow', () => {
    const plain = [100, 200, 400, 800].map((p) => ({ predicted: p, measured: 50 + 0.5 * p }));
    expect(fitScale(plain).startupPerPairRunMs).toBe(0);
    expect(fitScale(plain.map((p) => ({ ...p, pairRuns: 7 }))).startupPerPairRunMs).toBe(0);
    const flat = fitScale(plain.map((p, i) => ({ ...p, pairRuns: i + 1 })));
    expect(flat.startupPerPairRunMs).toBeCloseTo(0, 6);
    expect(flat.startupMs).toBeCloseTo(50, 4);
    expect(flat.factor).toBeCloseTo(0.5, 6);
  });
});

describe('atPairAge', () => {
  const model: CostModel = { ...EMULATOR_MODEL, startupMs: 100, startupPerPairRunMs: 4 };

  it('grows the start-up by the runs the pair served, once', () => {
    const at = atPairAge(model, 25);
    expect(at.startupMs).toBe(200);
    expect(at.startupPerPairRunMs).toBeUndefined();
    expect(atPairAge(at, 25).startupMs).toBe(200); // the growth is spent: applied twice it adds nothing
    expect(atPairAge(model, 0).startupMs).toBe(100);
    expect(atPairAge(EMULATOR_MODEL, 25)).toBe(EMULATOR_MODEL); // no term: the model as it is
  });

  it('delays both predictors by the grown start-up', async () => {
    const w = { users: 2_000, tickets: 6_000 };
    const young = await predictVirtual(atPairAge(model, 0), BASE_CONFIGURATION, w, { samples: 1 });
    const old = await predictVirtual(atPairAge(model, 50), BASE_CONFIGURATION, w, { samples: 1 });
    expect(old.makespanMs.p50 - young.makespanMs.p50).toBeCloseTo(200, 0);
  });

  it('travels in a model file', () => {
    const parsed = parseCostModel(JSON.parse(JSON.stringify({ ...model, usl: [] })));
    expect(parsed.ok && parsed.value.startupPerPairRunMs).toBe(4);
    const bad = parseCostModel(JSON.parse(JSON.stringify({ ...model, usl: [], startupPerPairRunMs: -1 })));
    expect(bad.ok ? '' : bad.error.message).toMatch(/^startupPerPairRunMs: /);
  });
});

describe('normaliseToRuns with the pair age', () => {
  const run = (workers: number, maxInFlight: number, users: number, makespanMs: number, pairRuns: number): NormaliseRun => ({
    knobs: { workers, maxInFlight, shards: 1, settlementsPerCommit: 25 },
    run: { users, tickets: users * 3, settledUsers: users, makespanMs, throughputUsersPerSecond: (users / makespanMs) * 1000 },
    pairRuns,
  });
  const shapes = [[1, 16, 400], [1, 64, 800], [2, 64, 1_200], [1, 256, 1_600], [2, 256, 300]] as const;

  /** Three rounds of the shapes, measured on a pair whose start-up grows by `perRun` ms a run. */
  async function rounds(truth: CostModel, perRun: number): Promise<NormaliseRun[]> {
    const runs: NormaliseRun[] = [];
    for (let round = 0; round < 3; round++) {
      for (const [w, m, u] of shapes) {
        const age = 1 + runs.length;
        const knobs = { workers: w, maxInFlight: m, shards: 1, settlementsPerCommit: 25 };
        const p = await predictVirtual({ ...truth, startupMs: (truth.startupMs ?? 0) + perRun * age }, configurationOfRun({ knobs }), { users: u, tickets: 3 * u }, { samples: 1 });
        runs.push(run(w, m, u, p.makespanMs.p50, age));
      }
    }
    return runs;
  }

  it('finds a start-up that grows 20 ms a run from the rounds of a calibration, where medians cannot', async () => {
    const truth: CostModel = { ...scaleCosts(EMULATOR_MODEL, 3), startupMs: 150 };
    const runs = await rounds(truth, 20);
    expect(scaleRuns(runs)).toHaveLength(runs.length); // every run has its age: all of them
    const n = await normaliseToRuns(EMULATOR_MODEL, scaleRuns(runs));
    expect(n.startupPerPairRunMs).toBeGreaterThan(15);
    expect(n.startupPerPairRunMs).toBeLessThan(25);
    expect(n.startupMs).toBeGreaterThan(50);
    expect(n.startupMs).toBeLessThan(250);
    expect(n.factor).toBeGreaterThan(2.7);
    expect(n.factor).toBeLessThan(3.3);
    expect(n.model.startupPerPairRunMs).toBeCloseTo(n.startupPerPairRunMs, 1);
    expect(n.model.sources.at(-1)).toMatch(/growing by \d+\.\d\d ms for each run the emulator pair served before/);
    // Its prediction of a small run late on the pair (age 40) is right; one that ignores the age is not.
    const knobs = { workers: 2, maxInFlight: 256, shards: 1, settlementsPerCommit: 25 };
    const w = { users: 300, tickets: 900 };
    const late = await predictVirtual({ ...truth, startupMs: 150 + 20 * 40 }, configurationOfRun({ knobs }), w, { samples: 1 });
    const aged = await predictVirtual(atPairAge(n.model, 40), configurationOfRun({ knobs }), w, { samples: 1 });
    const agedError = Math.abs(aged.makespanMs.p50 / late.makespanMs.p50 - 1);
    expect(agedError).toBeLessThan(0.05);
    // Normalised against each configuration's median run instead (the method without ages), the
    // drift is averaged into a constant start-up and the late run is predicted too fast.
    const plain = await normaliseToRuns(EMULATOR_MODEL, medianPerConfiguration(runs.map(({ pairRuns: _a, ...r }) => r)));
    expect(plain.startupPerPairRunMs).toBe(0);
    const constant = await predictVirtual(plain.model, configurationOfRun({ knobs }), w, { samples: 1 });
    expect(constant.makespanMs.p50 / late.makespanMs.p50).toBeLessThan(0.85);
    expect(1 - constant.makespanMs.p50 / late.makespanMs.p50).toBeGreaterThan(3 * agedError);
  });

  it('fits no growth to runs whose pair did not slow, and keeps the medians where ages are unknown', async () => {
    const truth: CostModel = { ...scaleCosts(EMULATOR_MODEL, 3), startupMs: 150 };
    const n = await normaliseToRuns(EMULATOR_MODEL, scaleRuns(await rounds(truth, 0)));
    // A little of the shapes' misfit may lean on the age (the rounds repeat the shapes in order): far below the 20 ms above.
    expect(n.startupPerPairRunMs).toBeLessThan(3);
    expect(n.model.startupPerPairRunMs ?? 0).toBeLessThan(3);
    const unaged = [run(1, 16, 400, 900, 1), { ...run(1, 16, 400, 700, 2), pairRuns: undefined }, run(1, 16, 400, 800, 3)];
    expect(scaleRuns(unaged)).toHaveLength(1);
    // Every run on a Spanner emulator of its own (age 0 for all): nothing to fit, so the medians.
    const young = [run(1, 16, 400, 900, 0), run(1, 16, 400, 700, 0), run(1, 16, 400, 800, 0)];
    expect(scaleRuns(young)).toEqual([young[2]]);
  });
});

describe('raceday plan --validate predicts each held-out case at its pair age', () => {
  const plan: ValidationPlan = {
    calibration: [
      { users: 200, workers: 1, shards: 1, maxInFlight: 256 },
      { users: 500, workers: 2, shards: 1, maxInFlight: 256 },
    ],
    calibrationRounds: 3,
    heldOut: [
      { users: 1_000, workers: 2, shards: 1, maxInFlight: 256 },
      { users: 2_000, workers: 2, shards: 2, maxInFlight: 256 },
      { users: 800, workers: 3, shards: 4, maxInFlight: 256 },
    ],
  };
  const measured = (users: number): MeasuredRun => ({ users, tickets: users * 3, settledUsers: users, makespanMs: 1_000, notifyMakespanMs: 1_100, throughputUsersPerSecond: users, wallMs: 2_000, ok: true, transactionsCommitted: 10, loadAverage1m: 1 });

  async function startups(model: CostModel, given: boolean, backend: 'emulators' | 'memory'): Promise<{ startups: number[]; before: number[] }> {
    const seen: number[] = [];
    const before: number[] = [];
    const predict = async (m: CostModel): Promise<Prediction> => {
      seen.push(m.startupMs ?? 0);
      return predictVirtual(m, { ...BASE_CONFIGURATION, settlementsPerCommit: backend === 'memory' ? 1 : 25 }, { users: 100, tickets: 300 }, { samples: 1 });
    };
    await runValidation({
      backend,
      size: 'small',
      plan,
      repeat: 3,
      calibrate: async (o) => {
        before.push(o.pairRunsBefore ?? -1);
        return model;
      },
      predictVirtual: predict,
      predictClosedForm: async (m) => predict(m),
      run: async (_b, c) => measured(c.users),
      ...(given ? { model: { model, name: 'a given model' } } : {}),
    });
    // Each case is predicted twice (virtual, closed form): one start-up per case.
    return { startups: seen.filter((_, i) => i % 2 === 0), before };
  }

  it('the warm-up is the pair run 0; the calibration 1..6; case i the middle of its own 3 runs', async () => {
    const model: CostModel = { ...EMULATOR_MODEL, startupMs: 100, startupPerPairRunMs: 10 };
    const r = await startups(model, false, 'emulators');
    expect(r.before).toEqual([1]);
    // Ages 1 + 6 + 3i + 1: 8, 11, 14.
    expect(r.startups).toEqual([180, 210, 240]);
    // A given model (no calibration runs): 1 + 3i + 1.
    expect((await startups(model, true, 'emulators')).startups).toEqual([120, 150, 180]);
    // A model without the term is predicted as it is, at every age.
    expect((await startups({ ...MEMORY_MODEL, startupMs: 5 }, false, 'memory')).startups).toEqual([5, 5, 5]);
  });
});
