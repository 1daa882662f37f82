// Proves ShardBatcher's batch choice (spanner-batch.ts): without keyOf a flush takes the first
// arrivals; with keyOf, a flush that cannot take everything takes the oldest waiting item and its
// neighbours in key order (equal keys in arrival order), every item is answered with its own
// result, and the oldest is always in the next flush, so nothing starves. A batch that fails as a
// whole is retried call by call, so only the call whose own flush fails gets an error. The flush is
// a fake that records its batches; the test fails if the selection or the answers change. Group
// commit of settlements is on by default on the emulator and off (a transaction per user) on Google
// Cloud, and an explicit choice wins on either.
import { expect, it } from 'vitest';
import { LaneGate, SETTLEMENTS_PER_COMMIT_DEFAULT, ShardBatcher, settlementsPerCommitFor } from './spanner-batch.ts';

interface Item {
  readonly key: string;
  readonly n: number;
}

/** Holds the gate while `arrivals` are added, then releases it and returns the batches flushed. */
async function batchesOf(arrivals: readonly Item[], max: number, keyed: boolean): Promise<{ batches: number[][]; answers: number[] }> {
  const gate = new LaneGate(1);
  const batches: number[][] = [];
  const batcher = new ShardBatcher<Item, number>(
    gate,
    async (items) => {
      batches.push(items.map((i) => i.n));
      return items.map((i) => i.n * 10);
    },
    max,
    'normal',
    keyed ? (i) => i.key : undefined,
  );
  let release = (): void => undefined;
  const held = gate.run(() => new Promise<void>((r) => (release = r)));
  const answers = Promise.all(arrivals.map((a) => batcher.add(a)));
  release();
  await held;
  return { batches, answers: await answers };
}

// Arrival order as four subscribers interleave an ascending stream.
const ARRIVALS: Item[] = [5, 1, 9, 2, 6, 3, 10, 4, 7, 8].map((k, n) => ({ key: `u${String(k).padStart(2, '0')}`, n }));

it('takes the first arrivals without keyOf', async () => {
  const { batches, answers } = await batchesOf(ARRIVALS, 4, false);
  expect(batches).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  expect(answers).toEqual(ARRIVALS.map((a) => a.n * 10));
});

it('takes the oldest item and its key-order neighbours with keyOf, answering each item its own result', async () => {
  const { batches, answers } = await batchesOf(ARRIVALS, 4, true);
  // Oldest u05 (n0) with u06, u07, u08; then the oldest left, u01 (n1), with u02, u03, u04; then the rest.
  expect(batches).toEqual([[0, 4, 8, 9], [1, 3, 5, 7], [2, 6]]);
  expect(answers).toEqual(ARRIVALS.map((a) => a.n * 10));
});

it('keeps arrival order among equal keys and takes a window ending at the last key when the oldest is near the end', async () => {
  const arrivals: Item[] = [{ key: 'u9', n: 0 }, { key: 'u1', n: 1 }, { key: 'u2', n: 2 }, { key: 'u9', n: 3 }, { key: 'u3', n: 4 }];
  const { batches } = await batchesOf(arrivals, 3, true);
  expect(batches).toEqual([[4, 0, 3], [1, 2]]);
});

/** Flushes `items` through one held gate with a flush that fails every batch holding a `bad` item. */
async function failingBatch(items: readonly Item[], failsAlone: (i: Item) => boolean): Promise<{ batches: number[][]; settled: PromiseSettledResult<number>[]; isolated: number }> {
  const gate = new LaneGate(1);
  const batches: number[][] = [];
  const batcher = new ShardBatcher<Item, number>(gate, async (batch) => {
    batches.push(batch.map((i) => i.n));
    const bad = batch.find(failsAlone);
    if (bad !== undefined) throw new Error(`commit failed for ${bad.key}`);
    return batch.map((i) => i.n * 10);
  }, 25);
  let release = (): void => undefined;
  const held = gate.run(() => new Promise<void>((r) => (release = r)));
  const settled = Promise.allSettled(items.map((i) => batcher.add(i)));
  release();
  await held;
  return { batches, settled: await settled, isolated: batcher.isolatedBatches };
}

it('retries a failed batch one call at a time and fails only the call whose own flush fails', async () => {
  const items: Item[] = ['u1', 'u2', 'u3', 'u4'].map((key, n) => ({ key, n }));
  const { batches, settled, isolated } = await failingBatch(items, (i) => i.key === 'u3');
  expect(batches).toEqual([[0, 1, 2, 3], [0], [1], [2], [3]]);
  expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : String(s.reason)))).toEqual([0, 10, 'Error: commit failed for u3', 30]);
  expect(isolated).toBe(1);
});

it('gives a lone call its error without a retry, and answers every call when the batch failure was not its own', async () => {
  const alone = await failingBatch([{ key: 'u9', n: 0 }], (i) => i.key === 'u9');
  expect(alone.batches).toEqual([[0]]);
  expect(alone.settled[0]).toMatchObject({ status: 'rejected' });
  expect(alone.isolated).toBe(0);
  // A failure of the batch as such (here: any batch of more than one call) costs no call its answer.
  const items: Item[] = ['u1', 'u2', 'u3'].map((key, n) => ({ key, n }));
  let calls = 0;
  const gate = new LaneGate(1);
  const batcher = new ShardBatcher<Item, number>(gate, async (batch) => {
    calls++;
    if (batch.length > 1) throw new Error('batch too large for this commit');
    return batch.map((i) => i.n * 10);
  }, 25);
  let release = (): void => undefined;
  const held = gate.run(() => new Promise<void>((r) => (release = r)));
  const answers = Promise.all(items.map((i) => batcher.add(i)));
  release();
  await held;
  expect(await answers).toEqual([0, 10, 20]);
  expect(calls).toBe(4);
});

it('group-commits settlements by default on the emulator only, and takes an explicit choice on either backend', () => {
  expect(SETTLEMENTS_PER_COMMIT_DEFAULT).toEqual({ emulators: 25, google: 1 });
  expect([settlementsPerCommitFor(true), settlementsPerCommitFor(false), settlementsPerCommitFor(true, 1), settlementsPerCommitFor(false, 10)]).toEqual([25, 1, 1, 10]);
  expect(() => settlementsPerCommitFor(false, 0)).toThrow(/settlementsPerCommitMax must be a positive integer, got 0/);
});
