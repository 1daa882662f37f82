// The resources of the virtual world: group commit as the Spanner store does it, the two lanes,
// and service times drawn with the model's mean and spread.
import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../backends/memory/index.ts';
import { createRng } from '../core/rng.ts';
import { EMULATOR_MODEL } from './_fixtures/cost-models.ts';
import { Batcher, drawMs, GROUP_COMMIT, meanServiceMs, Server, type Sizes } from './service-times.ts';

describe('service times', () => {
  it('prices an operation as base plus its size terms', () => {
    expect(meanServiceMs(EMULATOR_MODEL, 'settle.commit', { users: 2, tickets: 10 })).toBeCloseTo((4_000 + 2 * 1_200 + 10 * 50) / 1000, 9);
    expect(meanServiceMs(EMULATOR_MODEL, 'gateway.message', { messages: 1 })).toBe(0); // not priced by this model
  });

  it('draws around the mean with the fitted spread, and exactly the mean without one', () => {
    const rng = createRng('draw');
    const xs = Array.from({ length: 20_000 }, () => drawMs(10, 0.3, rng));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(mean).toBeGreaterThan(9.8);
    expect(mean).toBeLessThan(10.2);
    expect(sd / mean).toBeGreaterThan(0.27);
    expect(sd / mean).toBeLessThan(0.33);
    expect(Math.min(...xs)).toBeGreaterThan(0);
    expect(drawMs(10, 0, rng)).toBe(10);
  });
});

describe('group commit', () => {
  it('commits the calls waiting for a busy unit together, up to the limit, in arrival order', async () => {
    const clock = createVirtualClock();
    const server = new Server('db:s0', 1, clock);
    const cost = (_op: string, sizes: Sizes): number => 10 + (sizes['users'] ?? 0);
    const batcher = new Batcher(server, 'settle.commit', 4, 'normal', cost);
    const applied: number[] = [];
    const done = Array.from({ length: 10 }, (_, i) => batcher.add({ users: 1 }, async () => (applied.push(i), i)));
    await clock.runUntilIdle();
    expect(await Promise.all(done)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(applied).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(batcher.batchSizes).toEqual([4, 4, 2]);
    expect(clock.nowMs()).toBe(14 + 14 + 12);
    expect(server.busyMs()).toBe(40);
  });

  it('serves the background lane after the normal one, unless it waited longer than the bound', async () => {
    const clock = createVirtualClock();
    const server = new Server('db:s0', 1, clock);
    const order: string[] = [];
    const job = (name: string, ms: number, lane: 'normal' | 'background') => server.hold(ms, name, lane).then(() => void order.push(name));
    void job('first', 1_000, 'normal');
    void job('background', 10, 'background');
    void job('normal-1', 1_000, 'normal');
    void job('normal-2', 1_000, 'normal');
    await clock.runUntilIdle();
    expect(order).toEqual(['first', 'normal-1', 'normal-2', 'background']);

    const late: string[] = [];
    const clock2 = createVirtualClock();
    const s2 = new Server('db:s0', 1, clock2);
    const job2 = (name: string, ms: number, lane: 'normal' | 'background') => s2.hold(ms, name, lane).then(() => void late.push(name));
    void job2('first', GROUP_COMMIT.backgroundWaitMaxMs + 1, 'normal');
    void job2('background', 10, 'background');
    void job2('normal-1', 1_000, 'normal');
    await clock2.runUntilIdle();
    expect(late).toEqual(['first', 'background', 'normal-1']);
  });

  it('runs up to capacity at once', async () => {
    const clock = createVirtualClock();
    const server = new Server('db:s0', 2, clock);
    await Promise.all([server.hold(100, 'a'), server.hold(100, 'b'), server.hold(100, 'c'), clock.runUntilIdle()]);
    expect(clock.nowMs()).toBe(200);
    expect(server.busyMs()).toBe(150); // 300 slot-ms over 2 slots
  });
});
