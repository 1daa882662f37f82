// The settled check in the model: post-settle and notify each read the stored settlement totals of
// a `settled` message before acting (pipeline/settled-check.ts). The virtual world prices that read
// as the store runs it: a read on the database, on the Spanner store's targets at most two reads
// of a shard at a time with the calls asked meanwhile sharing the next read (priced as one read of
// their count), each read alone on memory; a model without the operation still predicts, and says
// the check costs 0 in it.
import { describe, expect, it } from 'vitest';
import { createMemoryStore, createVirtualClock } from '../backends/memory/index.ts';
import { shardOf } from '../backends/google/spanner-rows.ts';
import { createRng } from '../core/rng.ts';
import { BASE_CONFIGURATION, EMULATOR_MODEL, EMULATOR_ONE_PROCESS_MODEL, MEMORY_MODEL } from './_fixtures/cost-models.ts';
import type { CostModel, PlanConfiguration } from './contracts.ts';
import { timedStore } from './service-decorators.ts';
import { createResources, unpricedOperations } from './service-times.ts';
import { predictVirtual } from './virtual.ts';
import { runVirtual } from './virtual-run.ts';
import { parseCostModel, defaultCostModel } from './calibration.ts';

/** A model whose settled check costs 10 ms plus 1 ms per row read, exactly (cv 0). */
function withCheck(model: CostModel, baseUs = 10_000, perUserUs = 1_000): CostModel {
  return { ...model, operations: { ...model.operations, 'settled.check': { baseUs, perUs: { users: perUserUs }, cv: 0, samples: 10 } } };
}

function withoutCheck(model: CostModel): CostModel {
  const { 'settled.check': _drop, ...operations } = model.operations;
  return { ...model, operations };
}

/** Asks getSettlementTotals of `users` at 0 ms (or at `askAtMs[i]`); resolves with each answer's virtual time. */
async function checkTimes(model: CostModel, configuration: PlanConfiguration, users: readonly string[], laterUser?: { id: string; atMs: number }, askAtMs?: readonly number[]): Promise<{ at: number[]; later?: number; reads: readonly number[] }> {
  const clock = createVirtualClock();
  const rng = createRng('settled-check-pricing');
  const inner = createMemoryStore({ clock, rng: rng.fork('store') });
  const res = createResources({ model, configuration, clock, rng: rng.fork('service') });
  const store = timedStore(inner, res, () => 1, () => undefined);
  const get = store.getSettlementTotals;
  if (get === undefined) throw new Error('the timed store lost getSettlementTotals');
  const at: number[] = [];
  let later: number | undefined;
  const ask = (u: string, i: number): Promise<void> => get.call(store, 'r1', u).then(() => void (at[i] = clock.nowMs()));
  const asked = users.map((u, i) => (askAtMs === undefined ? ask(u, i) : clock.sleep(askAtMs[i] ?? 0).then(() => ask(u, i))));
  if (laterUser !== undefined) {
    void clock.sleep(laterUser.atMs).then(() => get.call(store, 'r1', laterUser.id).then(() => void (later = clock.nowMs())));
  }
  await clock.runUntilIdle();
  await Promise.all(asked);
  return { at, ...(later === undefined ? {} : { later }), reads: res.checkReadSizes() };
}

/** Twelve users' checks on two shards, all asked at 0: each shard's users in one read of 10 ms + 1 ms a row. */
async function twoShardChecks(model: Parameters<typeof checkTimes>[0]) {
  const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
  const r = await checkTimes(model, { ...BASE_CONFIGURATION, spannerShards: 2 }, users);
  const inShard0 = users.filter((u) => shardOf(u, 2) === 0).length;
  const readDoneAt = (u: string): number => 10 + (shardOf(u, 2) === 0 ? inShard0 : 12 - inShard0);
  return { users, r, inShard0, readDoneAt };
}

describe('the settled check on the emulators', () => {
  it('prices one shard’s checks asked at one instant as ONE read of their count, a later one as its own', async () => {
    const model = withCheck({ ...EMULATOR_MODEL, operations: { ...EMULATOR_MODEL.operations } });
    const one = { ...BASE_CONFIGURATION, spannerShards: 1 };
    const r = await checkTimes(model, one, ['u1', 'u2', 'u3'], { id: 'u4', atMs: 5 });
    // 10 ms + 3 x 1 ms, all three answered at its end; u4, asked at 5 ms while that read runs, reads alone: 5 + 11.
    expect(r.at).toEqual([13, 13, 13]);
    expect(r.later).toBe(16);
    expect(r.reads).toEqual([3, 1]);
  });

  it('runs at most two reads of a shard at once: checks asked while both run share the next read', async () => {
    const model = withCheck(EMULATOR_MODEL);
    const one = { ...BASE_CONFIGURATION, spannerShards: 1 };
    // Asked at 0, 1, 2 and 3 ms, each read 10 ms + 1 ms a row: two alone (0-11, 1-12), then the
    // two asked while both ran, together when the first slot frees (11 + 12 = 23).
    const r = await checkTimes(model, one, ['u1', 'u2', 'u3', 'u4'], undefined, [0, 1, 2, 3]);
    expect(r.at).toEqual([11, 12, 23, 23]);
    expect(r.reads).toEqual([1, 1, 2]);
  });

  it('reads each shard’s users in that shard’s own read', async () => {
    const { users, r, inShard0, readDoneAt } = await twoShardChecks(withCheck(EMULATOR_MODEL));
    expect(inShard0).toBeGreaterThan(0);
    expect(inShard0).toBeLessThan(12);
    expect([...r.reads].sort((a, b) => a - b)).toEqual([Math.min(inShard0, 12 - inShard0), Math.max(inShard0, 12 - inShard0)]);
    users.forEach((u, i) => expect(r.at[i]).toBe(readDoneAt(u)));
  });
});

describe('the settled check is a wait, not the emulator process’s work', () => {
  it('answers each shard’s read in its own time with every shard in one process of capacity 1', async () => {
    const { users, r, readDoneAt } = await twoShardChecks(withCheck(EMULATOR_ONE_PROCESS_MODEL));
    // Two reads at once in a process of capacity 1 would each take twice as long if they were its work.
    users.forEach((u, i) => expect(r.at[i]).toBe(readDoneAt(u)));
  });
});

describe('the settled check on memory', () => {
  it('prices every check as its own read on the one CPU, one after another', async () => {
    const r = await checkTimes(withCheck(MEMORY_MODEL), { ...BASE_CONFIGURATION, settlementsPerCommit: 1 }, ['u1', 'u2', 'u3']);
    expect(r.at).toEqual([11, 22, 33]);
    expect(r.reads).toEqual([1, 1, 1]);
  });
});

describe('the settled check in a virtual run of the real pipeline', () => {
  it('is asked twice per settled user (post-settle and notify) and delays every notification by its read', async () => {
    const config = { ...BASE_CONFIGURATION, spannerShards: 1 };
    const users = 300;
    const free = await runVirtual(withCheck(EMULATOR_MODEL, 0, 0), config, users, 900, 1);
    const slow = await runVirtual(withCheck(EMULATOR_MODEL, 200_000, 0), config, users, 900, 1);
    expect(free.settledUsers).toBe(users);
    expect(slow.settledUsers).toBe(users);
    // Notify reads the totals before appending: every notification comes at least 200 ms later.
    expect(slow.shownMs[0] as number).toBeGreaterThanOrEqual((free.shownMs[0] as number) + 200);
    expect(slow.notifyMakespanMs).toBeGreaterThanOrEqual(free.notifyMakespanMs + 200);
    expect(slow.checkRows).toBe(2 * users);
  });
});

describe('a cost model without settled.check', () => {
  it('still loads and predicts, pricing the check at 0, and the prediction says so', async () => {
    const shipped = defaultCostModel('emulators');
    const old = parseCostModel(JSON.parse(JSON.stringify(withoutCheck(shipped))));
    expect(old.ok).toBe(true);
    if (!old.ok) return;
    expect(unpricedOperations(old.value)).toEqual(['settled.check']);
    const w = { users: 400, tickets: 1_200 };
    const p = await predictVirtual(old.value, BASE_CONFIGURATION, w, { samples: 1 });
    expect(p.warnings.join('\n')).toMatch(/PLAN\.OPERATION_UNPRICED: the cost model has no settled\.check .*costs 0/);
    const priced = await predictVirtual(withCheck(old.value), BASE_CONFIGURATION, w, { samples: 1 });
    expect(priced.warnings.join('\n')).not.toMatch(/OPERATION_UNPRICED/);
  });
});
