// The graceful stop's drain: handlers already running finish (and ack), deliveries arriving while
// draining are held, never handled, and drain() answers whether it finished in time.
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../backends/memory/index.ts';
import type { Delivery } from '../core/ports.ts';
import { SUBSCRIPTIONS, TOPICS } from '../core/topology.ts';
import { drainableBus } from './drain.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await sleep(5);
  expect(cond()).toBe(true);
}

describe('drainableBus', () => {
  it('lets the running handler finish and ack, and holds what arrives while draining', async () => {
    const inner = createMemoryBus();
    const bus = drainableBus(inner);
    const handled: string[] = [];
    let release = (): void => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const handle = bus.subscribe(
      SUBSCRIPTIONS.settle.name,
      async (d: Delivery) => {
        handled.push(d.data);
        await gate;
        d.ack();
      },
      { maxInFlight: 4, ackDeadlineMs: 10_000 },
    );
    await bus.publish(TOPICS.settleRequests, [{ data: 'first' }]);
    await until(() => bus.inFlight() === 1);
    let drained: boolean | undefined;
    const draining = bus.drain(5_000).then((d) => (drained = d));
    await bus.publish(TOPICS.settleRequests, [{ data: 'second' }]);
    await until(() => bus.held() === 1);
    expect(drained).toBeUndefined(); // the first handler still runs
    release();
    await draining;
    expect(drained).toBe(true);
    expect(handled).toEqual(['first']); // the second was held, never handled
    const settle = inner.stats().subscriptions.find((s) => s.subscription === SUBSCRIPTIONS.settle.name);
    expect(settle?.acked).toBe(1);
    await handle.close();
    await inner.close();
  });

  it('answers false when a handler outlives the drain timeout', async () => {
    const inner = createMemoryBus();
    const bus = drainableBus(inner);
    const handle = bus.subscribe(SUBSCRIPTIONS.settle.name, () => new Promise<void>(() => undefined), { maxInFlight: 1, ackDeadlineMs: 10_000 });
    await bus.publish(TOPICS.settleRequests, [{ data: 'stuck' }]);
    await until(() => bus.inFlight() === 1);
    expect(await bus.drain(50)).toBe(false);
    await handle.close();
    await inner.close();
  });
});
