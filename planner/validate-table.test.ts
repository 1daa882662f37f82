// The validation's arithmetic: error percentages, the 2x extrapolation flag, the totals and the
// verdict on the targets, and the plans themselves (no held-out configuration calibrated,
// enough of them, up to 5x the largest calibration run). The real runs are proven in
// cli/commands/plan-validate.test.ts.
import { describe, expect, it } from 'vitest';
import type { CostModel, Prediction } from './contracts.ts';
import type { MeasuredRun, ValidationCase } from './real-run.ts';
import { errorPct, extrapolationOf, figuresOf, isFlagged, medianRun, spreadPct, totalsOf, VALIDATION_TARGETS, verdictOf, type ValidationRow } from './validate-table.ts';
import { checkPlan, skewModel, VALIDATION_PLANS } from './validate.ts';
import { checkOperations, modelCostUs, settleBusyShare } from './validate-diagnose.ts';

const measured = (makespanMs: number, users = 1_000): MeasuredRun => ({ users, tickets: users * 2, settledUsers: users, makespanMs, notifyMakespanMs: makespanMs, throughputUsersPerSecond: users / (makespanMs / 1000), wallMs: makespanMs * 2, ok: true, transactionsCommitted: users, loadAverage1m: 1 });

function prediction(makespanMs: number, users = 1_000): Prediction {
  return {
    configuration: { settleWorkers: 2, postSettleWorkers: 2, notifyWorkers: 2, maxInFlight: 256, spannerShards: 1, settlementsPerCommit: 25, fanout: 'per-user', gatewayInstances: 0, subscriberClients: 2 },
    workload: { users, tickets: users * 2 },
    makespanMs: { p50: makespanMs, low: makespanMs * 0.9, high: makespanMs * 1.1 },
    notifyMakespanMs: { p50: makespanMs, low: makespanMs, high: makespanMs },
    notifyLatencyMs: { p50: 1, p99: 2, p99High: 3 },
    throughputUsersPerSecond: users / (makespanMs / 1000),
    bottleneck: 'settle.commit',
    utilisation: {},
    method: 'virtual-time',
    extrapolation: 1,
    warnings: [],
  };
}

const kase = (users: number): ValidationCase => ({ users, workers: 2, shards: 1, maxInFlight: 256 });

function row(users: number, measuredMs: number, predictedMs: number, maxUsers = 1_000): ValidationRow {
  const m = measured(measuredMs, users);
  const extrapolation = extrapolationOf(users, maxUsers);
  return { case: kase(users), tickets: users * 2, measured: m, extrapolation, flagged: isFlagged(extrapolation), virtual: figuresOf(prediction(predictedMs, users), m), closedForm: figuresOf({ ...prediction(predictedMs * 2, users), method: 'closed-form' }, m) };
}

describe('validation arithmetic', () => {
  it('errors are (predicted - measured) / measured, signed, for makespan and throughput alike', () => {
    expect(errorPct(1_200, 1_000)).toBeCloseTo(20, 10);
    expect(errorPct(800, 1_000)).toBeCloseTo(-20, 10);
    expect(errorPct(5, 0)).toBe(Number.POSITIVE_INFINITY);
    const f = figuresOf(prediction(1_250), measured(1_000));
    expect(f.makespanErrorPct).toBeCloseTo(25, 10);
    // Same users: a 25% longer makespan is a 20% lower throughput.
    expect(f.throughputErrorPct).toBeCloseTo(-20, 10);
    expect(f.withinInterval).toBe(false);
    expect(figuresOf(prediction(1_050), measured(1_000)).withinInterval).toBe(true);
  });

  it('totals: throughput MAPE, makespans within 20%, flagged rows', () => {
    const rows = [row(2_000, 1_000, 1_100), row(2_001, 1_000, 700), row(5_000, 1_000, 1_000)];
    const t = totalsOf(rows);
    expect(t.heldOut).toBe(3);
    expect(t.flagged).toBe(2);
    expect(t.virtual.makespansWithin20).toBe(2);
    const thr = [Math.abs(errorPct(1 / 1.1, 1)), Math.abs(errorPct(1 / 0.7, 1)), 0];
    expect(t.virtual.throughputMapePct).toBeCloseTo((thr[0]! + thr[1]! + thr[2]!) / 3, 10);
    expect(t.closedForm.makespansWithin20).toBe(0);
  });

  it('flags exactly the predictions more than 2x beyond the largest calibrated run', () => {
    expect(row(2_000, 1, 1).flagged).toBe(false);
    expect(row(2_001, 1, 1).flagged).toBe(true);
    expect(row(1_000, 1, 1).extrapolation).toBe(1);
    expect(() => extrapolationOf(10, 0)).toThrow(/largest run/);
  });

  it('the verdict names each missed target with its numbers, and passes a model that is right', () => {
    const good = Array.from({ length: 6 }, (_, i) => row(1_000 + i, 1_000, 1_050));
    expect(verdictOf(good, totalsOf(good), true)).toEqual({ met: true, missed: [] });
    const few = good.slice(0, 3);
    expect(verdictOf(few, totalsOf(few), true).missed).toEqual([`only 3 held-out configurations (at least ${VALIDATION_TARGETS.heldOutMin})`]);
    expect(verdictOf(few, totalsOf(few), false).met).toBe(true);
    const bad = [...good.slice(0, 5), row(3_000, 1_000, 2_500)];
    const v = verdictOf(bad, totalsOf(bad), true);
    expect(v.met).toBe(false);
    expect(v.missed[0]).toBe('makespan beyond 20% on 1 of 6: 3000u/2w/1s +150.0%');
    expect(v.missed[1]).toMatch(/^throughput MAPE \d+\.\d% > 10%$/);
    const failed = [{ ...good[0]!, measured: { ...good[0]!.measured, ok: false } }, ...good.slice(1)];
    expect(verdictOf(failed, totalsOf(failed), true).missed[0]).toMatch(/1 held-out run\(s\) failed an invariant/);
  });
});

describe('repeated measurements', () => {
  it('take the run of the median makespan and report the spread', () => {
    const runs = [measured(1_300), measured(1_000), measured(900)];
    expect(medianRun(runs).makespanMs).toBe(1_000);
    expect(medianRun([measured(700), measured(500)]).makespanMs).toBe(500);
    expect(spreadPct([1_300, 1_000, 900])).toBeCloseTo(40, 10);
    expect(spreadPct([5])).toBe(0);
    expect(() => medianRun([])).toThrow(/at least one run/);
  });
});

describe('diagnosis', () => {
  it("sets each operation's held-out samples against the model's cost at the same sizes, worst first", () => {
    const cost = { baseUs: 100, perUs: { users: 10 }, cv: 0, samples: 1 };
    expect(modelCostUs(cost, { users: 5, tickets: 9 })).toBe(150);
    const model: CostModel = { schemaVersion: 1, target: 'emulators', measuredAt: '2026-12-01T00:00:00Z', sources: ['x'], operations: { 'settle.commit': cost, 'publish.batch': { baseUs: 50, perUs: {}, cv: 0, samples: 1 } }, usl: [], parallelism: { transactionsPerUnit: 1 }, calibratedMax: { users: 1, tickets: 1 } };
    const sample = (durationUs: number, sizes: Record<string, number>) => ({ durationUs, latencyUs: durationUs, sizes });
    const checks = checkOperations(model, {
      target: 'emulators',
      knobs: { workers: 1, maxInFlight: 1, shards: 1, settlementsPerCommit: 1 },
      concurrency: 1,
      run: { users: 2, tickets: 2, settledUsers: 2, makespanMs: 1, throughputUsersPerSecond: 1 },
      operations: {
        'publish.batch': { count: 9, sumDurationUs: 0, samples: [sample(50, {}), sample(50, {})] },
        'settle.commit': { count: 4, sumDurationUs: 0, samples: [sample(50, { users: 1 }), sample(70, { users: 3 })] },
        'notify.append': { count: 1, sumDurationUs: 0, samples: [sample(1, {})] },
      },
    });
    expect(checks.map((c) => c.operation)).toEqual(['settle.commit', 'publish.batch']);
    expect(checks[0]).toEqual({ operation: 'settle.commit', count: 4, samples: 2, measuredMeanUs: 60, modelMeanUs: 120, ratio: 2 });
    expect(checks[1]?.ratio).toBe(1);
  });

  it('says when the settle samples overlap (summed service beyond makespan x units)', () => {
    const profile = { target: 'memory' as const, knobs: { workers: 1, maxInFlight: 1, shards: 1, settlementsPerCommit: 1 }, concurrency: 1, run: { users: 2, tickets: 2, settledUsers: 2, makespanMs: 10, throughputUsersPerSecond: 1 }, operations: { 'settle.commit': { count: 2, sumDurationUs: 30_000, samples: [] } } };
    expect(settleBusyShare(profile, 1)).toBeCloseTo(3, 10);
    expect(settleBusyShare(profile, 4)).toBeCloseTo(0.75, 10);
    expect(settleBusyShare({ ...profile, operations: {} }, 1)).toBe(0);
  });
});

describe('validation plans', () => {
  it('hold out at least 6 configurations (full), none calibrated, up to 5x the largest calibration run, other workers and shards', () => {
    for (const [backend, sizes] of Object.entries(VALIDATION_PLANS)) {
      for (const [size, plan] of Object.entries(sizes)) {
        expect(() => checkPlan(plan), `${backend} ${size}`).not.toThrow();
        const max = Math.max(...plan.calibration.map((k) => k.users));
        expect(Math.max(...plan.heldOut.map((k) => k.users)), `${backend} ${size}`).toBe(5 * max);
        expect(plan.heldOut.some((k) => k.users > 2 * max) && plan.heldOut.some((k) => k.users <= 2 * max), `${backend} ${size}: flagged and unflagged rows`).toBe(true);
        if (size === 'full') expect(plan.heldOut.length).toBeGreaterThanOrEqual(VALIDATION_TARGETS.heldOutMin);
        const calibratedWorkers = new Set(plan.calibration.map((k) => k.workers));
        expect(plan.heldOut.some((k) => !calibratedWorkers.has(k.workers)), `${backend} ${size}: an uncalibrated worker count`).toBe(true);
        if (backend === 'emulators') expect(new Set(plan.heldOut.map((k) => k.shards)).size).toBeGreaterThan(1);
      }
    }
  });

  it('refuses a plan whose held-out set overlaps its calibration', () => {
    expect(() => checkPlan({ calibration: [kase(100)], heldOut: [kase(200), kase(100)] })).toThrow('held-out configuration 100u/2w/1s is also in the calibration set');
  });

  it('skews an operation by a factor (base and per-size alike) and refuses one the model lacks', () => {
    const model: CostModel = { schemaVersion: 1, target: 'memory', measuredAt: '2026-12-01T00:00:00Z', sources: ['x'], operations: { 'settle.commit': { baseUs: 10, perUs: { users: 2, tickets: 1 }, cv: 0.1, samples: 5 } }, usl: [], parallelism: { transactionsPerUnit: 1 }, calibratedMax: { users: 1, tickets: 1 } };
    const s = skewModel(model, { 'settle.commit': 3 });
    expect(s.operations['settle.commit']).toEqual({ baseUs: 30, perUs: { users: 6, tickets: 3 }, cv: 0.1, samples: 5 });
    expect(s.sources).toHaveLength(2);
    expect(model.operations['settle.commit']?.baseUs).toBe(10);
    expect(() => skewModel(model, { 'notify.append': 2 })).toThrow(/no operation notify.append/);
  });

  it('skews the fitted start-up and its growth per pair run with startup, and leaves a model without one without one', () => {
    const model: CostModel = { schemaVersion: 1, target: 'emulators', measuredAt: '2026-12-01T00:00:00Z', sources: ['x'], operations: { 'settle.commit': { baseUs: 10, perUs: {}, cv: 0.1, samples: 5 } }, usl: [], parallelism: { transactionsPerUnit: 1 }, calibratedMax: { users: 1, tickets: 1 }, startupMs: 4, startupPerPairRunMs: 0.5 };
    const s = skewModel(model, { startup: 4 });
    expect([s.startupMs, s.startupPerPairRunMs]).toEqual([16, 2]);
    expect(s.operations).toEqual(model.operations);
    const { startupMs: _a, startupPerPairRunMs: _b, ...bare } = model;
    const t = skewModel(bare, { startup: 4, 'settle.commit': 2 });
    expect('startupMs' in t || 'startupPerPairRunMs' in t).toBe(false);
    expect(t.operations['settle.commit']?.baseUs).toBe(20);
  });
});
