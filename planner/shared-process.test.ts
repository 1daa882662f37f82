// The one emulator process every shard database runs in: processor sharing on the virtual clock,
// its capacity from the measured shard scaling, and what it does to predictions: with a flat
// shard USL (as measured here) more shards buy nothing; with shards that scale, they do.
import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../backends/memory/index.ts';
import { BASE_CONFIGURATION, EMULATOR_MODEL, EMULATOR_ONE_PROCESS_MODEL } from './_fixtures/cost-models.ts';
import type { CostModel } from './contracts.ts';
import { closedForm } from './queueing.ts';
import { emulatorProcessCapacity, SharedProcess } from './service-times.ts';
import { predictVirtual } from './virtual.ts';

async function finishTimes(capacity: number, jobs: readonly { at: number; ms: number }[]): Promise<number[]> {
  const clock = createVirtualClock();
  const proc = new SharedProcess('emulator', capacity, clock);
  const t0 = clock.nowMs();
  const done: number[] = new Array<number>(jobs.length).fill(-1);
  jobs.forEach((j, i) => void clock.sleep(j.at).then(() => proc.run(j.ms, 'settle.commit').then(() => (done[i] = clock.nowMs() - t0))));
  await clock.runUntilIdle({ maxSteps: 10_000 });
  return done;
}

describe('the shared emulator process (processor sharing)', () => {
  it('runs a lone job at its own speed, and shares capacity equally between jobs in progress', async () => {
    expect(await finishTimes(1, [{ at: 0, ms: 10 }])).toEqual([10]);
    const two = await finishTimes(1, [{ at: 0, ms: 10 }, { at: 0, ms: 10 }]);
    two.forEach((t) => expect(t).toBeCloseTo(20, 6));
    // B arrives halfway through A: A has 5 ms left, done at half speed by 15; B then runs alone to 20.
    const staggered = await finishTimes(1, [{ at: 0, ms: 10 }, { at: 5, ms: 10 }]);
    expect(staggered[0]).toBeCloseTo(15, 6);
    expect(staggered[1]).toBeCloseTo(20, 6);
  });

  it('never runs a job faster than its own service time, and keeps jobs apart up to its capacity', async () => {
    const two = await finishTimes(2, [{ at: 0, ms: 10 }, { at: 0, ms: 10 }]);
    two.forEach((t) => expect(t).toBeCloseTo(10, 6));
    const three = await finishTimes(1.5, [{ at: 0, ms: 9 }, { at: 0, ms: 9 }, { at: 0, ms: 9 }]);
    three.forEach((t) => expect(t).toBeCloseTo(18, 6)); // 27 ms of work at 1.5 per ms
  });

  it('takes its capacity from the shard USL: flat is 1, linear is the shard count, none is 1', () => {
    expect(emulatorProcessCapacity(EMULATOR_ONE_PROCESS_MODEL, 4)).toBeCloseTo(1, 6);
    expect(emulatorProcessCapacity(EMULATOR_MODEL, 4)).toBeCloseTo(4, 6);
    expect(emulatorProcessCapacity({ ...EMULATOR_MODEL, usl: [] }, 4)).toBe(1);
    const half: CostModel = { ...EMULATOR_MODEL, usl: [{ ...(EMULATOR_MODEL.usl[0] as CostModel['usl'][number]), sigma: 0.5 }] };
    expect(emulatorProcessCapacity(half, 3)).toBeCloseTo(3 / 2, 6); // X(3)/X(1) = 3 / (1 + 0.5 x 2)
  });
});

describe('predictions with one emulator process', () => {
  const w = { users: 6_000, tickets: 18_000 };
  const ONE = { samples: 1 };

  it('buys nothing with more shards when the shard USL is flat, in both predictors', async () => {
    const at = async (model: CostModel, spannerShards: number) => predictVirtual(model, { ...BASE_CONFIGURATION, spannerShards }, w, ONE);
    const flat1 = await at(EMULATOR_ONE_PROCESS_MODEL, 1);
    const flat4 = await at(EMULATOR_ONE_PROCESS_MODEL, 4);
    expect(flat4.makespanMs.p50).toBeGreaterThan(0.85 * flat1.makespanMs.p50);
    expect(flat4.bottleneck).toBe('emulator');
    const cf1 = closedForm(EMULATOR_ONE_PROCESS_MODEL, BASE_CONFIGURATION, w);
    const cf4 = closedForm(EMULATOR_ONE_PROCESS_MODEL, { ...BASE_CONFIGURATION, spannerShards: 4 }, w);
    expect(cf4.makespanMs.p50).toBeGreaterThan(0.85 * cf1.makespanMs.p50);
    expect(cf4.bottleneck).toBe('emulator');
    // The same costs with shards that scale: 4 shards are much faster (the process is left out).
    const scaling4 = await at(EMULATOR_MODEL, 4);
    expect(scaling4.makespanMs.p50).toBeLessThan(0.5 * flat4.makespanMs.p50);
    expect(Object.keys(scaling4.utilisation)).not.toContain('emulator');
  });
});
