// Proves the transaction runner's contract without an emulator, over a fake Database: ABORTED
// reruns the whole body and is counted, other errors pass through at once, attempts are bounded,
// the per-shard gate never lets more than its limit run at a time, and the shard hash is stable
// and spreads users.
import type { Database, Transaction } from '@google-cloud/spanner';
import { describe, expect, it } from 'vitest';
import { shardOf } from './spanner-rows.ts';
import { LaneGate } from './spanner-batch.ts';
import { TX_LIMITS, runReadWrite } from './spanner-tx.ts';

/** A fake database whose commits fail with the given gRPC codes, in order, then succeed. */
function fakeDatabase(commitFailures: number[]): { database: Database; rollbacks: () => number } {
  let rollbacks = 0;
  const failures = [...commitFailures];
  const tx = {
    commit: async () => {
      const code = failures.shift();
      if (code !== undefined) throw Object.assign(new Error(`code ${code}`), { code });
    },
    rollback: async () => {
      rollbacks++;
    },
    end: () => undefined,
  } as unknown as Transaction;
  const database = { getTransaction: async () => [tx] } as unknown as Database;
  return { database, rollbacks: () => rollbacks };
}

const ABORTED = 10;
const ALREADY_EXISTS = 6;

describe('runReadWrite', () => {
  it('reruns the body after ABORTED and counts each abort and the commit', async () => {
    const { database, rollbacks } = fakeDatabase([ABORTED, ABORTED]);
    const counters = { committed: 0, aborted: 0 };
    let runs = 0;
    const value = await runReadWrite(database, counters, async () => ++runs, { random: () => 0 });
    expect(value).toBe(3);
    expect(counters).toEqual({ committed: 1, aborted: 2 });
    expect(rollbacks()).toBe(2);
  });

  it('answers a commit ABORTED when the fault injector says so, and reruns the body as after a real abort', async () => {
    const { database, rollbacks } = fakeDatabase([]);
    const counters = { committed: 0, aborted: 0 };
    const injected = [true, false, true, true, false];
    let runs = 0;
    const first = await runReadWrite(database, counters, async () => ++runs, { random: () => 0, injectAbort: () => injected.shift() ?? false });
    const second = await runReadWrite(database, counters, async () => ++runs, { random: () => 0, injectAbort: () => injected.shift() ?? false });
    expect([first, second]).toEqual([2, 5]);
    expect(counters).toEqual({ committed: 2, aborted: 3 });
    expect(rollbacks()).toBe(3);
  });

  it('passes other errors through without retrying', async () => {
    const { database } = fakeDatabase([ALREADY_EXISTS]);
    const counters = { committed: 0, aborted: 0 };
    let runs = 0;
    await expect(runReadWrite(database, counters, async () => ++runs)).rejects.toMatchObject({ code: ALREADY_EXISTS });
    expect(runs).toBe(1);
    expect(counters).toEqual({ committed: 0, aborted: 0 });
  });

  it('gives up after TX_LIMITS.attemptsMax aborts', async () => {
    const { database } = fakeDatabase(Array.from({ length: TX_LIMITS.attemptsMax }, () => ABORTED));
    const counters = { committed: 0, aborted: 0 };
    await expect(runReadWrite(database, counters, async () => 1, { random: () => 0 })).rejects.toThrow(/still ABORTED after 30 attempts/);
    expect(counters.aborted).toBe(TX_LIMITS.attemptsMax);
  }, 20_000);
});

describe('LaneGate', () => {
  it('runs at most `limit` bodies at a time and runs them all', async () => {
    const gate = new LaneGate(2);
    let running = 0;
    let peak = 0;
    const done = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        gate.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 1 + (i % 3)));
          running--;
          return i;
        }),
      ),
    );
    expect(done).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(2);
  });
});

describe('shardOf', () => {
  it('is stable and spreads users over every shard', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4_000; i++) counts[shardOf(`u${i}`, 4)]! += 1;
    expect(shardOf('u42', 4)).toBe(shardOf('u42', 4));
    for (const c of counts) expect(c).toBeGreaterThan(800);
    expect(shardOf('anything', 1)).toBe(0);
  });
});
