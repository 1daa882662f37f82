import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RunRecorder } from '../reports/record/recorder.ts';
import type { RunRecord } from '../reports/record/schema.ts';
import { costModelFromRecords, costModelJson, defaultCostModel, fittedFromRecords, loadCostModel, parseCostModel } from './calibration.ts';
import type { CostModel } from './contracts.ts';
import { uslThroughput } from './fit.ts';
import { OPERATION_TERMS, type ProfileSample, type RunProfile } from './profile.ts';
import { profileSection } from './profile-record.ts';

const TRUE_USL = { lambda: 40, sigma: 0.05, kappa: 0.0004 };

/** A synthetic profiled run at concurrency n: settle commits priced exactly 5,000 + 900/user + 40/ticket. */
function syntheticRun(n: number, target: RunProfile['target'] = 'emulators'): RunProfile {
  const settle: ProfileSample[] = [];
  for (let users = 1; users <= 10; users++) {
    const tickets = users * 2 + (users % 3);
    const us = 5_000 + 900 * users + 40 * tickets;
    settle.push({ durationUs: us, latencyUs: us * 2, sizes: { users, tickets } });
  }
  const op = (samples: ProfileSample[]) => ({ count: samples.length, sumDurationUs: samples.reduce((a, s) => a + s.durationUs, 0), samples });
  const flat = (us: number, sizes: Record<string, number> = {}): ProfileSample[] => [{ durationUs: us, latencyUs: us, sizes }];
  return {
    target,
    knobs: { workers: 1, maxInFlight: n, shards: 1, settlementsPerCommit: 25 },
    concurrency: n,
    run: { users: 500, tickets: 1_200, settledUsers: 500, makespanMs: 1_000, throughputUsersPerSecond: uslThroughput(TRUE_USL, n) },
    operations: {
      'settle.commit': op(settle),
      'postSettle.commit': op(flat(3_000, { users: 2, writes: 2 })),
      'notify.append': op(flat(2_000, { notifications: 1 })),
      'fanout.page': op(flat(9_000, { users: 500 })),
      'publish.batch': op(flat(1_500, { messages: 3 })),
      'deliver.message': op([...flat(1_000), ...flat(1_200), ...flat(50_000), ...flat(80_000)]),
      'ingest.result': op(flat(20_000, { tickets: 1_200 })),
      'ranking.claim': op(flat(30_000, { users: 1_000 })),
      'settled.check': op(flat(2_500, { users: 4 })),
    },
  };
}

function recordOf(runs: readonly RunProfile[] | undefined, backend = 'emulators'): RunRecord {
  const rec = new RunRecorder({ command: 'run', argv: ['run', '--profile'], scenario: 'smoke', backend, seed: 1 }).start().stop(true);
  return runs === undefined ? rec : { ...rec, profile: JSON.parse(JSON.stringify(profileSection(runs))) as RunRecord['profile'] };
}

describe('cost models from run records', () => {
  it('fits every operation and the USL from records holding 6 concurrency levels', () => {
    const r = fittedFromRecords([recordOf([1, 2, 4].map((n) => syntheticRun(n))), recordOf([8, 16, 32].map((n) => syntheticRun(n)))]);
    if (!r.ok) throw new Error(r.error.message);
    const { model, warnings } = r.value;
    expect(warnings).toEqual([]);
    expect(Object.keys(model.operations).sort()).toEqual(Object.keys(OPERATION_TERMS).sort());
    const settle = model.operations['settle.commit'];
    expect(settle?.baseUs).toBeCloseTo(5_000, 3);
    expect(settle?.perUs['users']).toBeCloseTo(900, 3);
    expect(settle?.perUs['tickets']).toBeCloseTo(40, 3);
    // The bus's own overhead: the fast half of the deliveries, not the backlog-laden ones.
    expect(model.operations['deliver.message']?.baseUs).toBeCloseTo(1_100, 6);
    expect(model.usl).toHaveLength(1);
    expect(model.usl[0]?.sigma).toBeCloseTo(TRUE_USL.sigma, 4);
    expect(model.usl[0]?.kappa).toBeCloseTo(TRUE_USL.kappa, 6);
    expect(model.usl[0]?.levels).toHaveLength(6);
    expect(model.calibratedMax).toEqual({ users: 500, tickets: 1_200 });
    expect(model.sources.join('\n')).toContain('raceday run --profile');
  });

  it('with fewer than 6 levels fits the costs, takes the USL from the shipped default and says so', () => {
    const r = fittedFromRecords([recordOf([1, 2, 4].map((n) => syntheticRun(n)))]);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.warnings).toHaveLength(1);
    expect(r.value.warnings[0]).toContain('3 settle concurrency levels, fewer than the 6');
    expect(r.value.model.sources.some((s) => s.startsWith('warning: '))).toBe(true);
    expect(r.value.model.usl).toEqual(defaultCostModel('emulators').usl.filter((u) => u.concurrency === r.value.model.usl[0]?.concurrency));
    expect(r.value.model.usl.length).toBeGreaterThan(0);
    expect(r.value.model.operations['settle.commit']?.perUs['users']).toBeCloseTo(900, 3);
  });

  it('refuses a record without a profile, a broken profile, and mixed targets, with codes', () => {
    const none = costModelFromRecords([recordOf(undefined)]);
    expect(none.ok ? undefined : none.error.code).toBe('PLAN.NO_PROFILE');
    expect(none.ok ? '' : none.error.message).toContain('raceday run --profile --out DIR');
    const broken = recordOf([syntheticRun(1)]);
    const bad = costModelFromRecords([{ ...broken, profile: { schemaVersion: 1, runs: [{ ...syntheticRun(1), concurrency: -3 }] } as unknown as RunRecord['profile'] }]);
    expect(bad.ok ? '' : bad.error.message).toContain('profile.runs[0].concurrency');
    const mixed = costModelFromRecords([recordOf([syntheticRun(1)]), recordOf([syntheticRun(2, 'memory')], 'memory')]);
    expect(mixed.ok ? '' : mixed.error.message).toContain('mix targets');
  });
});

describe('cost model files', () => {
  it('the shipped defaults load and hold every operation the planner prices', () => {
    for (const target of ['memory', 'emulators'] as const) {
      const m = defaultCostModel(target);
      expect(m.target).toBe(target);
      for (const op of Object.keys(OPERATION_TERMS)) expect(m.operations[op as keyof CostModel['operations']], `${target} ${op}`).toBeDefined();
      expect(m.usl[0]?.levels.length).toBeGreaterThanOrEqual(6);
    }
  });

  it('round-trips through JSON, an unbounded peak included', () => {
    const m = defaultCostModel('emulators');
    const unbounded: CostModel = { ...m, usl: [{ ...(m.usl[0] as CostModel['usl'][number]), kappa: 0, peakN: Number.POSITIVE_INFINITY }] };
    const back = parseCostModel(JSON.parse(costModelJson(unbounded)));
    expect(back.ok ? back.value.usl[0]?.peakN : back.error.message).toBe(Number.POSITIVE_INFINITY);
    expect(back.ok ? back.value : undefined).toEqual(unbounded);
  });

  it('names the bad field of an invalid model', () => {
    const json = JSON.parse(costModelJson(defaultCostModel('emulators'))) as { operations: Record<string, { baseUs: unknown }> };
    (json.operations['settle.commit'] as { baseUs: unknown }).baseUs = -5;
    const r = parseCostModel(json);
    expect(r.ok ? undefined : r.error).toMatchObject({ code: 'PLAN.CALIBRATION_INVALID', path: 'operations.settle.commit.baseUs' });
    expect(r.ok ? '' : r.error.message).toMatch(/^operations\.settle\.commit\.baseUs: /);
    (json.operations['settle.commit'] as { baseUs: unknown }).baseUs = 5;
    const unknownOp = parseCostModel({ ...json, operations: { ...json.operations, 'settle.teleport': { baseUs: 1, perUs: {}, cv: 0, samples: 1 } } });
    expect(unknownOp.ok ? '' : unknownOp.error.message).toContain('unknown operation "settle.teleport"');
  });

  it('loadCostModel: unreadable and non-JSON files are PLAN.CALIBRATION_UNREADABLE, with the path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'raceday-cal-'));
    const missing = loadCostModel(join(dir, 'none.json'));
    expect(missing.ok ? undefined : missing.error.code).toBe('PLAN.CALIBRATION_UNREADABLE');
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    const bad = loadCostModel(join(dir, 'bad.json'));
    expect(bad.ok ? '' : bad.error.message).toContain('bad.json is not JSON');
    writeFileSync(join(dir, 'ok.json'), costModelJson(defaultCostModel('memory')));
    expect(loadCostModel(join(dir, 'ok.json')).ok).toBe(true);
  });
});
