// The closed-form model: Erlang C against known values, and agreement with the virtual-time model
// on configurations where its assumptions hold (a race many times the slots in flight, one
// bottleneck, steady group commit). Where they do not hold, the two are expected to differ and
// are not compared: a race smaller than the flow-control slots (all fill and drain, no steady
// state), many shards with few slots each (group-commit batches of one or two users whose size
// the closed form only estimates), and a fan-out of fewer pages than a handful (the fan-out is
// then fill rather than a rate).
import { describe, expect, it } from 'vitest';
import { BASE_CONFIGURATION, EMULATOR_MODEL, GOOGLE_MODEL, MEMORY_MODEL, scaled } from './_fixtures/cost-models.ts';
import type { CostModel, PlanConfiguration } from './contracts.ts';
import { erlangC, mmcWaitMs, predictClosedForm, usersPerShard } from './queueing.ts';
import { predictVirtual } from './virtual.ts';

/** Agreement where the assumptions hold: makespan and notify p99 within this share of the virtual model's. */
const TOLERANCE = 0.12;

describe('Erlang C and M/M/c', () => {
  it('matches known values', () => {
    expect(erlangC(1, 0.5)).toBeCloseTo(0.5, 9); // M/M/1: the chance to wait is rho
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3, 9);
    expect(erlangC(3, 3)).toBe(1);
    expect(mmcWaitMs(1, 0.5, 1)).toBeCloseTo(1, 9); // rho / (1 - rho) x service
    expect(mmcWaitMs(1, 1, 1)).toBe(Infinity);
  });

  it('shards users as the Spanner store does, every user once', () => {
    const counts = usersPerShard(10_000, 4);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(Math.min(...counts)).toBeGreaterThan(2_300);
  });
});

const CASES: readonly { name: string; model: CostModel; configuration: PlanConfiguration; bottleneck: RegExp }[] = [
  { name: 'emulators, 1 shard', model: EMULATOR_MODEL, configuration: BASE_CONFIGURATION, bottleneck: /^db:s0$/ },
  { name: 'emulators, 4 shards', model: EMULATOR_MODEL, configuration: { ...BASE_CONFIGURATION, spannerShards: 4 }, bottleneck: /^db:s\d$/ },
  { name: 'emulators, user-batch:10', model: EMULATOR_MODEL, configuration: { ...BASE_CONFIGURATION, fanout: 'user-batch:10' }, bottleneck: /^db:s0$/ },
  { name: 'emulators, slow settle', model: scaled(EMULATOR_MODEL, 'settle.commit', 2), configuration: BASE_CONFIGURATION, bottleneck: /^db:s0$/ },
  { name: 'memory', model: MEMORY_MODEL, configuration: { ...BASE_CONFIGURATION, settlementsPerCommit: 1 }, bottleneck: /^cpu$/ },
  { name: 'google, 1 node', model: GOOGLE_MODEL, configuration: { ...BASE_CONFIGURATION, settlementsPerCommit: 1, spannerNodes: 1 }, bottleneck: /^spanner\.writes$/ },
  { name: 'google, notify lagging behind settlements', model: GOOGLE_MODEL, configuration: { ...BASE_CONFIGURATION, settlementsPerCommit: 1, spannerNodes: 4, settleWorkers: 16, notifyWorkers: 2 }, bottleneck: /^spanner\.writes$/ },
  { name: 'emulators, too few slots', model: EMULATOR_MODEL, configuration: { ...BASE_CONFIGURATION, settleWorkers: 1, maxInFlight: 2, spannerShards: 8 }, bottleneck: /^settle\.slots$/ },
];

describe('closed form against the virtual-time model', () => {
  const w = { users: 4_000, tickets: 20_000 };
  for (const c of CASES) {
    it(`agrees within ${TOLERANCE * 100}% on ${c.name}, and names the same bottleneck`, async () => {
      const v = await predictVirtual(c.model, c.configuration, w, { samples: 1 });
      const q = await predictClosedForm(c.model, c.configuration, w);
      expect(q.method).toBe('closed-form');
      expect(v.bottleneck).toMatch(c.bottleneck);
      expect(q.bottleneck).toMatch(c.bottleneck);
      expect(Math.abs(q.makespanMs.p50 - v.makespanMs.p50) / v.makespanMs.p50).toBeLessThan(TOLERANCE);
      expect(Math.abs(q.notifyLatencyMs.p99 - v.notifyLatencyMs.p99) / v.notifyLatencyMs.p99).toBeLessThan(TOLERANCE);
    });
  }

  it('prices post-settle batches at what its slots can hold while settlements run (commits of 0.1 s + 2 ms a user)', async () => {
    // Post-settle commits as dear as the emulators measured: in a race longer than the 8 s the
    // background lane yields, each 8 s brings one batch of each kind, of at most the post-settle
    // slots on the shard (4 x 16 = 64), never the 500 a commit could hold.
    const dear: CostModel = { ...EMULATOR_MODEL, operations: { ...EMULATOR_MODEL.operations, 'postSettle.commit': { baseUs: 100_000, perUs: { users: 2_000 }, cv: 0, samples: 30 } } };
    const big = { users: 12_000, tickets: 60_000 };
    const v = await predictVirtual(dear, BASE_CONFIGURATION, big, { samples: 1 });
    const q = await predictClosedForm(dear, BASE_CONFIGURATION, big);
    expect(v.makespanMs.p50).toBeGreaterThan(8_000 * 2); // long enough for post-settle to take its turns
    expect(q.bottleneck).toBe(v.bottleneck);
    expect(Math.abs(q.makespanMs.p50 - v.makespanMs.p50) / v.makespanMs.p50).toBeLessThan(TOLERANCE);
  });

  it('flags extrapolation beyond twice the calibrated race', async () => {
    const p = await predictClosedForm(EMULATOR_MODEL, BASE_CONFIGURATION, { users: 30_000, tickets: 150_000 });
    expect(p.extrapolation).toBe(3);
    expect(p.warnings.some((x) => x.startsWith('PLAN.EXTRAPOLATED'))).toBe(true);
  });
});
