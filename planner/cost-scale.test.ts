// The concurrency scale: fitted by normalisation when the calibration runs' makespans against the
// raw model's predictions change with settle concurrency, applied by both predictors at the
// predicted configuration's concurrency (held inside the calibrated range), and checked on load.
import { describe, expect, it } from 'vitest';
import { BASE_CONFIGURATION, EMULATOR_MODEL } from './_fixtures/cost-models.ts';
import { parseCostModel, costModelJson } from './calibration.ts';
import type { CostModel, PlanConfiguration } from './contracts.ts';
import { atConcurrency, concurrencyFactor, scaleCosts, settleConcurrency } from './cost-scale.ts';
import { fitScale, type ScalePair } from './normalise.ts';
import { closedForm } from './queueing.ts';
import { predictVirtual } from './virtual.ts';

const at = (workers: number, maxInFlight: number): PlanConfiguration => ({ ...BASE_CONFIGURATION, settleWorkers: workers, postSettleWorkers: workers, notifyWorkers: workers, maxInFlight });

describe('fitScale with a concurrency scale', () => {
  // Runs whose measured makespan is 0.6 x (N / 128)^-0.1 x the raw prediction, plus a 40 ms start.
  const levels = [16, 64, 128, 256, 512, 1024];
  const truth = (n: number, predicted: number): number => 40 + 0.6 * (n / 128) ** -0.1 * predicted;
  // Two race sizes at every level (the prediction stands in for the size).
  const pairs: ScalePair[] = levels.flatMap((n) => [400, 900].map((predicted) => ({ predicted, measured: truth(n, predicted), concurrency: n, users: predicted })));

  it('recovers the exponent, and with it reproduces every run', () => {
    const f = fitScale(pairs, { concurrency: true });
    expect(f.concurrency?.exponent).toBeCloseTo(-0.1, 6);
    expect(f.concurrency?.minN).toBe(16);
    expect(f.concurrency?.maxN).toBe(1024);
    expect(f.startupMs).toBeCloseTo(40, 3);
    for (const p of pairs) {
      const predicted = f.startupMs + f.factor * concurrencyFactor(f.concurrency!, p.concurrency!) * p.predicted;
      expect(predicted / p.measured).toBeCloseTo(1, 6);
    }
    // Without the term one factor cannot: the runs at 16 and 1,024 sit apart.
    const plain = fitScale(pairs);
    expect(plain.concurrency).toBeUndefined();
    const worst = Math.max(...pairs.map((p) => Math.abs((plain.startupMs + plain.factor * p.predicted) / p.measured - 1)));
    expect(worst).toBeGreaterThan(0.1);
  });

  it('fits none when the runs do not change with concurrency, or cover too few levels', () => {
    const flat = pairs.map((p) => ({ ...p, measured: 40 + 0.6 * p.predicted }));
    expect(fitScale(flat, { concurrency: true }).concurrency).toBeUndefined();
    const twoLevels = pairs.filter((p) => p.concurrency === 16 || p.concurrency === 1024);
    expect(fitScale([...twoLevels, ...twoLevels], { concurrency: true }).concurrency).toBeUndefined();
    const narrow = pairs.filter((p) => (p.concurrency ?? 0) >= 128 && (p.concurrency ?? 0) <= 256).map((p, i) => ({ ...p, concurrency: 128 + i * 20 }));
    expect(fitScale(narrow, { concurrency: true }).concurrency).toBeUndefined(); // 128..228: under 4x
    // One race size: a start-up and a scale with concurrency cannot be told apart, so none is fitted.
    const oneSize = pairs.map((p) => ({ ...p, users: 1_000 }));
    expect(fitScale(oneSize, { concurrency: true }).concurrency).toBeUndefined();
  });
});

describe('atConcurrency', () => {
  const scale = { exponent: -0.2, referenceN: 256, minN: 16, maxN: 1024 };
  const model: CostModel = { ...EMULATOR_MODEL, concurrencyScale: scale };
  const settle = (m: CostModel): number => m.operations['settle.commit']?.baseUs ?? Number.NaN;

  it('scales every cost by (N / reference)^exponent, N held inside the calibrated range', () => {
    expect(settleConcurrency(at(2, 256))).toBe(512);
    expect(settle(atConcurrency(model, at(2, 256))) / settle(EMULATOR_MODEL)).toBeCloseTo(2 ** -0.2, 9);
    expect(settle(atConcurrency(model, at(1, 256)))).toBeCloseTo(settle(EMULATOR_MODEL), 9);
    // Outside the calibrated range the factor stops at its edge.
    expect(settle(atConcurrency(model, at(16, 256))) / settle(EMULATOR_MODEL)).toBeCloseTo(4 ** -0.2, 9);
    expect(settle(atConcurrency(model, at(1, 1))) / settle(EMULATOR_MODEL)).toBeCloseTo((16 / 256) ** -0.2, 9);
    // Applied once: the result carries no scale of its own.
    expect(atConcurrency(model, at(2, 256)).concurrencyScale).toBeUndefined();
    expect(atConcurrency(EMULATOR_MODEL, at(2, 256))).toBe(EMULATOR_MODEL);
  });

  it('both predictors price a configuration at its own concurrency', async () => {
    const workload = { users: 2_000, tickets: 5_000 };
    for (const [w, m] of [[1, 64], [4, 256]] as const) {
      const by = scaleCosts(EMULATOR_MODEL, concurrencyFactor(scale, w * m));
      expect((await predictVirtual(model, at(w, m), workload, { samples: 1 })).makespanMs.p50).toBeCloseTo((await predictVirtual(by, at(w, m), workload, { samples: 1 })).makespanMs.p50, 6);
      expect(closedForm(model, at(w, m), workload).makespanMs.p50).toBeCloseTo(closedForm(by, at(w, m), workload).makespanMs.p50, 6);
    }
    // And the scale changes the prediction: the dearer end is slower.
    const low = (await predictVirtual(model, at(1, 16), workload, { samples: 1 })).makespanMs.p50;
    const same = (await predictVirtual(EMULATOR_MODEL, at(1, 16), workload, { samples: 1 })).makespanMs.p50;
    expect(low).toBeGreaterThan(same * 1.3);
  });

  it('a model file keeps its scale, and one with an impossible scale is refused', () => {
    const back = parseCostModel(JSON.parse(costModelJson(model)));
    if (!back.ok) throw new Error(back.error.message);
    expect(back.value.concurrencyScale).toEqual(scale);
    const bad = parseCostModel(JSON.parse(costModelJson({ ...model, concurrencyScale: { ...scale, minN: 2048 } })));
    expect(bad.ok).toBe(false);
    const steep = parseCostModel(JSON.parse(costModelJson({ ...model, concurrencyScale: { ...scale, exponent: 3 } })));
    expect(steep.ok).toBe(false);
  });
});
