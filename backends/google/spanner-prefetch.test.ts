// Proves prefetchTransactions (spanner-tx.ts): each next() hands out the transaction prepared by
// the call before and prepares the following one; a prepared transaction older than
// PREFETCH_LIMITS.staleMs, or one whose preparation failed, is not handed out (a stale one is
// ended, its session back to the pool); close() ends the one prepared ahead. The database is a
// fake that counts getTransaction() calls, so the test fails if the order or the cleanup changes.
import type { Database, Transaction } from '@google-cloud/spanner';
import { expect, it } from 'vitest';
import { PREFETCH_LIMITS, prefetchTransactions } from './spanner-tx.ts';

interface FakeTx {
  readonly id: number;
  ended: boolean;
}

function fakeDatabase(failOn: ReadonlySet<number> = new Set()): { database: Database; made: FakeTx[] } {
  const made: FakeTx[] = [];
  const database = {
    getTransaction: async () => {
      const id = made.length + 1;
      const tx: FakeTx = { id, ended: false };
      made.push(tx);
      if (failOn.has(id)) throw new Error(`session ${id} unavailable`);
      return [Object.assign(tx, { end: () => void (tx.ended = true) }) as unknown as Transaction];
    },
  } as unknown as Database;
  return { database, made };
}

const idOf = (tx: Transaction): number => (tx as unknown as FakeTx).id;

it('hands out the transaction prepared by the previous call and prepares the next', async () => {
  const { database, made } = fakeDatabase();
  const source = prefetchTransactions(database, () => 0);
  expect(idOf(await source.next())).toBe(1);
  expect(made).toHaveLength(2); // #2 prepared ahead
  expect(idOf(await source.next())).toBe(2);
  expect(made).toHaveLength(3);
  source.close();
  await new Promise((r) => setImmediate(r));
  expect(made.map((t) => t.ended)).toEqual([false, false, true]); // only the unused one is ended
});

it('ends a stale prepared transaction and hands out a fresh one', async () => {
  const { database, made } = fakeDatabase();
  let nowMs = 0;
  const source = prefetchTransactions(database, () => nowMs);
  await source.next(); // #1 out, #2 prepared at 0 ms
  nowMs = PREFETCH_LIMITS.staleMs + 1;
  expect(idOf(await source.next())).toBe(3);
  await new Promise((r) => setImmediate(r));
  expect(made[1]?.ended).toBe(true);
});

it('never hands out a transaction whose preparation failed', async () => {
  const { database } = fakeDatabase(new Set([2]));
  const source = prefetchTransactions(database, () => 0);
  await source.next(); // #1 out, #2 prepared (fails)
  await new Promise((r) => setImmediate(r));
  expect(idOf(await source.next())).toBe(3);
});
