// Proves LaneGate (spanner-batch.ts), the per-shard transaction slot of the Spanner store: it never
// lets more than its limit run at once, serves `background` waiters only when no `normal` one
// waits or once the oldest has waited backgroundWaitMaxMs, each lane in arrival order, and frees
// the slot when a holder throws. Holders are promises the test resolves by hand and the clock is
// the test's, so the order is observed, not timed; it fails if the lanes or the bound are ignored.
import { expect, it } from 'vitest';
import { LaneGate, type Lane } from './spanner-batch.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Queues n0 (which takes the slot), n1, b1, n2, b2, n3, then releases whoever holds the slot one
 * at a time; `clockStepMs` is added to the clock at every release.
 */
async function order(backgroundWaitMaxMs: number, clockStepMs: number): Promise<{ started: string[]; runningMax: number }> {
  let nowMs = 0;
  const gate = new LaneGate(1, backgroundWaitMaxMs, () => nowMs);
  const started: string[] = [];
  let running = 0;
  let runningMax = 0;
  const releases = new Map<string, () => void>();
  const hold = (name: string, lane: Lane): Promise<void> =>
    gate.run(async () => {
      running++;
      runningMax = Math.max(runningMax, running);
      started.push(name);
      const d = deferred();
      releases.set(name, d.resolve);
      await d.promise;
      running--;
    }, lane);
  const names: [string, Lane][] = [['n0', 'normal'], ['n1', 'normal'], ['b1', 'background'], ['n2', 'normal'], ['b2', 'background'], ['n3', 'normal']];
  const all = names.map(([name, lane]) => hold(name, lane));
  for (let i = 0; i < names.length; i++) {
    await tick();
    nowMs += clockStepMs;
    const last = started[started.length - 1] as string;
    (releases.get(last) as () => void)();
  }
  await Promise.all(all);
  return { started, runningMax };
}

it('serves background waiters after every normal one while they are within their wait bound', async () => {
  expect(await order(1_000, 10)).toEqual({ started: ['n0', 'n1', 'n2', 'n3', 'b1', 'b2'], runningMax: 1 });
});

it('serves a background waiter before normal ones once it has waited the bound, each lane in order', async () => {
  // b1 and b2 were queued at 0 ms; at the first release the clock reads 10 ms, at the second 20 ms.
  expect(await order(15, 10)).toEqual({ started: ['n0', 'n1', 'b1', 'b2', 'n2', 'n3'], runningMax: 1 });
  expect(await order(0, 0)).toEqual({ started: ['n0', 'b1', 'b2', 'n1', 'n2', 'n3'], runningMax: 1 });
});

it('frees the slot when a holder throws', async () => {
  const gate = new LaneGate(1);
  await expect(gate.run(() => Promise.reject(new Error('boom')), 'background')).rejects.toThrow('boom');
  await expect(gate.run(async () => 7)).resolves.toBe(7);
});
