// Proves the virtual clock runs programs in simulated time deterministically: timers fire in
// (time, registration) order, cancelled timers neither fire nor advance time, limits stop a run,
// and the same seeded bus program yields the same trace twice while another seed differs.
import { describe, expect, it } from 'vitest';
import { createRng } from '../../core/rng.ts';
import { SUBSCRIPTIONS, TOPICS } from '../../core/topology.ts';
import { createMemoryBus, createVirtualClock } from './index.ts';

describe('virtual clock', () => {
  it('fires timers by due time, equal times in registration order, jumping straight to each', async () => {
    const clock = createVirtualClock(1_000);
    const order: string[] = [];
    void clock.sleep(50).then(() => order.push(`b@${clock.nowMs()}`));
    void clock.sleep(10).then(() => order.push(`a@${clock.nowMs()}`));
    void clock.sleep(50).then(() => order.push(`c@${clock.nowMs()}`));
    clock.schedule(3_600_000, () => order.push(`hour@${clock.nowMs()}`));
    const r = await clock.runUntilIdle();
    expect(order).toEqual(['a@1010', 'b@1050', 'c@1050', 'hour@3601000']);
    expect(r).toEqual({ idle: true, steps: 4, nowMs: 3_601_000 });
  });

  it('skips cancelled timers without advancing time', async () => {
    const clock = createVirtualClock();
    const fired: number[] = [];
    const cancel = clock.schedule(500, () => fired.push(500));
    clock.schedule(20, () => fired.push(20));
    cancel();
    expect(clock.pendingTimers()).toBe(1);
    const r = await clock.runUntilIdle();
    expect(fired).toEqual([20]);
    expect(r.nowMs).toBe(20);
  });

  it('follows promise chains that sleep again, and stops at maxSteps or maxVirtualMs', async () => {
    const clock = createVirtualClock();
    let ticks = 0;
    const loop = async () => {
      for (let i = 0; i < 100; i++) {
        await clock.sleep(10);
        await Promise.resolve();
        ticks++;
      }
    };
    void loop();
    const first = await clock.runUntilIdle({ maxVirtualMs: 255 });
    expect(first).toMatchObject({ idle: false, nowMs: 250 });
    expect(ticks).toBe(25);
    const second = await clock.runUntilIdle({ maxSteps: 5 });
    expect(second).toMatchObject({ idle: false, steps: 5, nowMs: 300 });
    const rest = await clock.runUntilIdle();
    expect(rest.idle).toBe(true);
    expect(ticks).toBe(100);
    expect(clock.nowMs()).toBe(1_000);
  });

  it('replays the same trace for the same seed, with every bus fault on', async () => {
    const run = async (seed: number): Promise<string[]> => {
      const clock = createVirtualClock();
      const rng = createRng(seed);
      const bus = createMemoryBus({
        clock,
        rng,
        faults: { duplicateProbability: 0.2, reorderProbability: 0.3, lostAckProbability: 0.1, delayPastDeadlineProbability: 0.05 },
      });
      const trace: string[] = [];
      for (let w = 0; w < 3; w++) {
        bus.subscribe(
          SUBSCRIPTIONS.settle.name,
          async (d) => {
            trace.push(`${clock.nowMs()} w${w} ${d.data} #${d.deliveryAttempt}`);
            await clock.sleep(1 + (rng.nextU32() % 20));
            if (rng.nextU32() % 10 === 0) d.nack();
            else d.ack();
          },
          { maxInFlight: 2, ackDeadlineMs: 100 },
        );
      }
      await bus.publish(TOPICS.settleRequests, Array.from({ length: 40 }, (_, i) => ({ data: `m${i}` })));
      await clock.runUntilIdle();
      trace.push(JSON.stringify(bus.subscriptionStats(SUBSCRIPTIONS.settle.name)));
      return trace;
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(a.length).toBeGreaterThan(40);
  });
});
