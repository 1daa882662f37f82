// Proves LaneGate (spanner-batch.ts), the per-shard transaction slot of the Spanner store: it never
// lets more than its limit run at once, serves a `first` waiter after at most normalRunMax `normal`
// grants in a row (or at once when no `normal` one waits), each lane in arrival order, and frees
// the slot when a holder throws. Holders are promises the
// test resolves by hand, so the order is observed, not timed; it fails if the lanes are ignored.
import { expect, it } from 'vitest';
import { LaneGate, type Lane } from './spanner-batch.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function order(normalRunMax: number): Promise<{ started: string[]; runningMax: number }> {
  const gate = new LaneGate(1, normalRunMax);
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
  const all = [hold('n0', 'normal'), hold('n1', 'normal'), hold('n2', 'normal'), hold('f1', 'first'), hold('f2', 'first')];
  for (let i = 0; i < 5; i++) {
    await tick();
    const last = started[started.length - 1] as string;
    (releases.get(last) as () => void)();
  }
  await Promise.all(all);
  return { started, runningMax };
}

it('lets a first-lane waiter in after at most normalRunMax normal grants, each lane in order, one holder at a time', async () => {
  expect(await order(1)).toEqual({ started: ['n0', 'f1', 'n1', 'f2', 'n2'], runningMax: 1 });
  expect(await order(2)).toEqual({ started: ['n0', 'n1', 'f1', 'n2', 'f2'], runningMax: 1 });
  expect(await order(16)).toEqual({ started: ['n0', 'n1', 'n2', 'f1', 'f2'], runningMax: 1 });
});

it('frees the slot when a holder throws', async () => {
  const gate = new LaneGate(1);
  await expect(gate.run(() => Promise.reject(new Error('boom')), 'first')).rejects.toThrow('boom');
  await expect(gate.run(async () => 7)).resolves.toBe(7);
});
