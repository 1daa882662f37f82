// The virtual-time predictor: deterministic per seed, moved by the cost model the way a queueing
// system should be, and really running the pipeline (every user settled exactly once, read back
// through the store). Races are small (a few thousand users: well under a second of wall time each).
import { describe, expect, it } from 'vitest';
import { BASE_CONFIGURATION, EMULATOR_MODEL, GOOGLE_MODEL, MEMORY_MODEL, scaled } from './_fixtures/cost-models.ts';
import type { CostModel } from './contracts.ts';
import { predictVirtual, samplesFor, scaleRun, steadyRate } from './virtual.ts';
import { runVirtual } from './virtual-run.ts';

const W = { users: 3_000, tickets: 15_000 };
const ONE = { samples: 1 } as const;

describe('predictVirtual', () => {
  it('gives the same prediction for the same seed, and another for another seed', async () => {
    const seen: [number, number][] = [];
    const a = await predictVirtual(EMULATOR_MODEL, BASE_CONFIGURATION, W, { seed: 7, samples: 2, onProgress: (done, total) => void seen.push([done, total]) });
    expect(seen.at(-1)).toEqual([6_000, 6_000]);
    expect(seen.length).toBe(200);
    const b = await predictVirtual(EMULATOR_MODEL, BASE_CONFIGURATION, W, { seed: 7, samples: 2 });
    const c = await predictVirtual(EMULATOR_MODEL, BASE_CONFIGURATION, W, { seed: 8, samples: 2 });
    expect(b).toEqual(a);
    expect(c.makespanMs.p50).not.toBe(a.makespanMs.p50);
    expect(a.method).toBe('virtual-time');
    expect(a.makespanMs.low).toBeLessThanOrEqual(a.makespanMs.p50);
    expect(a.makespanMs.high).toBeGreaterThanOrEqual(a.makespanMs.p50);
  });

  it('runs a small race more times than a large one by default: 20,000 simulated users at least, 3 to 25 runs', async () => {
    expect([100, 800, 1_000, 3_000, 6_667, 40_000].map(samplesFor)).toEqual([25, 25, 20, 7, 3, 3]);
    // What a default prediction runs: its progress counts every run's users.
    let total = 0;
    await predictVirtual(EMULATOR_MODEL, BASE_CONFIGURATION, { users: 1_000, tickets: 3_000 }, { onProgress: (_done, t) => void (total = t) });
    expect(total).toBe(20 * 1_000);
    await predictVirtual(EMULATOR_MODEL, BASE_CONFIGURATION, W, { onProgress: (_done, t) => void (total = t) });
    expect(total).toBe(7 * W.users);
  });

  it('roughly doubles a settle-bound makespan when the settlement commit takes twice as long', async () => {
    const base = await predictVirtual(EMULATOR_MODEL, BASE_CONFIGURATION, W, ONE);
    const slow = await predictVirtual(scaled(EMULATOR_MODEL, 'settle.commit', 2), BASE_CONFIGURATION, W, ONE);
    expect(base.bottleneck).toMatch(/^db:s/);
    // The database also commits the notification appends (about a fifth of its time here), which do not double.
    const ratio = slow.makespanMs.p50 / base.makespanMs.p50;
    expect(ratio).toBeGreaterThan(1.6);
    expect(ratio).toBeLessThan(2.1);
  });

  it('shortens the makespan with more shards on the emulators until the fan-out binds', async () => {
    // A slow fan-out (a page of 5,000 users every 3 s: about 1.7 users/ms), so a few shards
    // overtake it; the race spans a few pages, or the fan-out would be fill rather than a rate.
    const model = scaled(EMULATOR_MODEL, 'fanout.page', 25);
    const w = { users: 12_000, tickets: 36_000 };
    const at = async (spannerShards: number) => predictVirtual(model, { ...BASE_CONFIGURATION, spannerShards }, w, ONE);
    const [s1, s2, s8, s16] = [await at(1), await at(2), await at(8), await at(16)];
    expect(s2.makespanMs.p50).toBeLessThan(0.8 * s1.makespanMs.p50);
    expect(s8.makespanMs.p50).toBeLessThan(0.8 * s2.makespanMs.p50);
    expect(s1.bottleneck).toMatch(/^db:s/);
    expect(s16.bottleneck).toBe('fanout');
    expect(Math.abs(s16.makespanMs.p50 - s8.makespanMs.p50) / s8.makespanMs.p50).toBeLessThan(0.1);
  });

  it('names the bottleneck the configuration has', async () => {
    const few = await predictVirtual(EMULATOR_MODEL, { ...BASE_CONFIGURATION, spannerShards: 8, settleWorkers: 1, maxInFlight: 2 }, W, ONE);
    expect(few.bottleneck).toBe('settle.slots');
    const memory = await predictVirtual(MEMORY_MODEL, { ...BASE_CONFIGURATION, settlementsPerCommit: 1 }, W, ONE);
    expect(memory.bottleneck).toBe('cpu');
    const google = await predictVirtual(GOOGLE_MODEL, { ...BASE_CONFIGURATION, settlementsPerCommit: 1, spannerNodes: 1 }, W, ONE);
    expect(google.bottleneck).toBe('spanner.writes');
    const bigger = await predictVirtual(GOOGLE_MODEL, { ...BASE_CONFIGURATION, settlementsPerCommit: 1, spannerNodes: 40 }, W, ONE);
    expect(bigger.bottleneck).not.toBe('spanner.writes');
    expect(bigger.makespanMs.p50).toBeLessThan(google.makespanMs.p50 / 3);
  });

  it('flags a race more than twice the largest calibrated one', async () => {
    const small: CostModel = { ...MEMORY_MODEL, calibratedMax: { users: 1_000, tickets: 5_000 } };
    const p = await predictVirtual(small, { ...BASE_CONFIGURATION, settlementsPerCommit: 1 }, W, ONE);
    expect(p.extrapolation).toBe(3);
    expect(p.warnings.some((w) => w.startsWith('PLAN.EXTRAPOLATED'))).toBe(true);
    const ok = await predictVirtual(MEMORY_MODEL, { ...BASE_CONFIGURATION, settlementsPerCommit: 1 }, W, ONE);
    expect(ok.warnings.some((w) => w.startsWith('PLAN.EXTRAPOLATED'))).toBe(false);
  });

  it('refuses a google model without node rates, and a workload without tickets for every user', async () => {
    const bare: CostModel = { ...GOOGLE_MODEL, parallelism: { transactionsPerUnit: 1 } };
    await expect(predictVirtual(bare, BASE_CONFIGURATION, W, ONE)).rejects.toThrow(/PLAN.MODEL_INCOMPLETE/);
    await expect(predictVirtual(EMULATOR_MODEL, BASE_CONFIGURATION, { users: 10, tickets: 5 }, ONE)).rejects.toThrow(/PLAN.INPUT_INVALID/);
  });
});

describe('the virtual run', () => {
  it('runs the real pipeline: every user settled exactly once and notified, read back through the store', async () => {
    const run = await runVirtual(EMULATOR_MODEL, { ...BASE_CONFIGURATION, fanout: 'user-batch:10', spannerShards: 2 }, 1_200, 4_000, 3);
    expect(run.idle).toBe(true);
    expect(run.handlerErrors).toEqual([]);
    const markers = await run.store.readback.settlementMarkers(run.raceId);
    expect(markers).toHaveLength(1_200);
    expect(new Set(markers.map((m) => m.userId)).size).toBe(1_200);
    expect(markers.every((m) => m.applications === 1)).toBe(true);
    let open = 0;
    let tickets = 0;
    for await (const t of run.store.readback.ticketsOfRace(run.raceId)) {
      tickets++;
      if (t.status === 'open') open++;
    }
    expect(tickets).toBe(4_000);
    expect(open).toBe(0);
    expect(run.shownMs).toHaveLength(1_200);
    expect(run.usersPerCommit).toBeGreaterThan(1); // group commit formed on the busy shards
  });
});

describe('slices', () => {
  it('steadyRate measures users per ms between the 10th and 90th percentile', () => {
    expect(steadyRate([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100])).toBeCloseTo(0.1, 6);
    expect(steadyRate([5])).toBe(Infinity);
  });

  it('scales a slice to the whole race within 10% of running it whole', async () => {
    const whole = await predictVirtual(EMULATOR_MODEL, BASE_CONFIGURATION, { users: 6_000, tickets: 30_000 }, { ...ONE, sliceUsers: 6_000 });
    const sliced = await predictVirtual(EMULATOR_MODEL, BASE_CONFIGURATION, { users: 6_000, tickets: 30_000 }, { ...ONE, sliceUsers: 2_000 });
    expect(sliced.warnings.some((w) => w.startsWith('PLAN.SLICED'))).toBe(true);
    expect(whole.warnings.some((w) => w.startsWith('PLAN.SLICED'))).toBe(false);
    for (const k of ['makespanMs', 'notifyMakespanMs'] as const) expect(Math.abs(sliced[k].p50 - whole[k].p50) / whole[k].p50).toBeLessThan(0.1);
    expect(Math.abs(sliced.notifyLatencyMs.p99 - whole.notifyLatencyMs.p99) / whole.notifyLatencyMs.p99).toBeLessThan(0.1);
  });

  it('scales a notify stage that lags behind the settlements in two phases, within 10% of the whole race', async () => {
    // Few notify slots whose appends queue FIFO behind many settle requests at the write rate:
    // notify falls behind while settlements run and catches up once they end.
    const c = { ...BASE_CONFIGURATION, settlementsPerCommit: 1, spannerNodes: 4, settleWorkers: 16, maxInFlight: 16, notifyWorkers: 2 };
    const w = { users: 8_000, tickets: 80_000 };
    const whole = await predictVirtual(GOOGLE_MODEL, c, w, { ...ONE, sliceUsers: 8_000 });
    const sliced = await predictVirtual(GOOGLE_MODEL, c, w, { ...ONE, sliceUsers: 2_000 });
    expect(whole.notifyMakespanMs.p50).toBeGreaterThan(1.15 * whole.makespanMs.p50); // it does lag
    expect(Math.abs(sliced.notifyMakespanMs.p50 - whole.notifyMakespanMs.p50) / whole.notifyMakespanMs.p50).toBeLessThan(0.1);
    expect(Math.abs(sliced.notifyLatencyMs.p50 - whole.notifyLatencyMs.p50) / whole.notifyLatencyMs.p50).toBeLessThan(0.1);
  });

  it('adds the extra users at the steady rate, later users waiting longer', () => {
    const run = { users: 3, commitsMs: [10, 20, 30], shownMs: [12, 22, 32], makespanMs: 30, notifyMakespanMs: 32 };
    const s = scaleRun(run, 103);
    expect(s.makespanMs).toBeCloseTo(30 + 100 * 10, 6);
    expect(s.notifyMakespanMs).toBeCloseTo(32 + 100 * 10, 6);
    expect(s.latencyP99Ms).toBeGreaterThan(1000);
    expect(scaleRun(run, 3).makespanMs).toBe(30);
  });
});
