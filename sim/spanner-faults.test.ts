// Proves the Spanner store keeps every invariant under the fault simulator's faults, on the
// emulator: for a few seeds, the seed's race day is loaded into fresh shard databases, and two
// pipelines (two processes, each with its own store client, per-shard lane gates and group
// commit) settle it over the fault-injecting bus: duplicated, reordered, late and unacked
// deliveries, crashes at the probes, stage restarts, poison messages, and commits answered
// ABORTED (drawn by the seed, on top of the emulator's own aborts when the two processes' transactions meet).
// Every checker runs on the state read back from Spanner. Real time: the interleavings differ
// from run to run; the faults drawn do not.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BATCH_LIMITS } from '../backends/google/spanner-batch.ts';
import type { SpannerStore } from '../backends/google/spanner-store.ts';
import { startSpannerForTests, type SpannerForTests } from '../emulators/spanner-testing.ts';
import { describeWithEmulators } from '../emulators/test-support.ts';
import { runWithFaults, type FaultRunResult } from './fault-run.ts';
import type { FaultChoices } from './faults.ts';

/** Each seed with a delivery variant the others lack: the outbox relay and the columnar settle path run here too. */
const SEEDS: readonly { readonly seed: number; readonly variants: Omit<Partial<FaultChoices>, 'faults'> }[] = [
  { seed: 1, variants: {} },
  { seed: 2, variants: { notify: 'outbox' } },
  { seed: 3, variants: { settlePath: 'columns' } },
  { seed: 4, variants: { notify: 'outbox', settlePath: 'columns' } },
];
/** Smaller than the simulator's day (30-90 users over 4 races): every transaction is a round trip to the emulator. */
const SHAPE = { usersMin: 10, usersMax: 20, ticketsPerUserMax: 3, stakeUnitsMax: 10 };
const GROUP_COMMIT = { settlementsPerCommitMax: BATCH_LIMITS.settlementsPerCommitMax };

describeWithEmulators('the fault simulator on the Spanner store (emulator)', () => {
  let env: SpannerForTests | undefined;
  beforeAll(async () => {
    env = await startSpannerForTests('simfault');
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  });

  it(`finds no violation in ${SEEDS.length} seeds with group commit, the lane gate and two processes under faults`, async () => {
    const spanner = env as SpannerForTests;
    const stores: SpannerStore[] = [];
    const results: FaultRunResult[] = [];
    for (const { seed, variants } of SEEDS) {
      results.push(
        await runWithFaults({
          seed,
          variants,
          shape: SHAPE,
          deadlineScale: 4,
          timeoutMs: 120_000,
          openStore: async (faults) => {
            const store = await spanner.freshStore(2, { ...GROUP_COMMIT, faults });
            stores.push(store);
            return store;
          },
          openTwin: (store, faults) => {
            const twin = spanner.twinStore(store as SpannerStore, { ...GROUP_COMMIT, faults });
            stores.push(twin);
            return twin;
          },
        }),
      );
    }
    const failures = results.filter((r) => r.violations.length > 0).map((r) => `seed ${r.seed} (${r.variants}): ${r.violations.map((v) => `[${v.checker}] ${v.message}`).join('; ')}`);
    expect(failures).toEqual([]);
    // The faults really happened across the seeds: crashes, redeliveries, duplicates the clients
    // dropped, and aborted commits (injected and the emulator's own), all retried.
    const total = (f: (r: FaultRunResult) => number): number => results.reduce((n, r) => n + f(r), 0);
    expect(total((r) => r.counters.injectedCrashes)).toBeGreaterThan(0);
    expect(total((r) => r.redeliveries)).toBeGreaterThan(0);
    expect(total((r) => r.duplicateDeliveries)).toBeGreaterThan(0);
    expect(total((r) => r.counters.settlementsDuplicate)).toBeGreaterThan(0);
    expect(stores.reduce((n, s) => n + s.stats().transactionsAborted, 0)).toBeGreaterThan(0);
    expect(total((r) => r.plan.poison)).toBeGreaterThan(0);
    if (process.env.RACEDAY_SIM_REPORT === '1') for (const r of results) process.stderr.write(`${JSON.stringify({ ...r, violations: r.violations.length })}\n`);
  }, 600_000);

  it('reports the violation of a deliberately broken pipeline on the same store (the checkers can fail here)', async () => {
    const spanner = env as SpannerForTests;
    const r = await runWithFaults({
      seed: 1,
      shape: SHAPE,
      deadlineScale: 4,
      timeoutMs: 120_000,
      broken: 'no-barrier',
      openStore: (faults) => spanner.freshStore(2, { ...GROUP_COMMIT, faults }),
    });
    expect(r.violations.map((v) => v.checker)).toContain('ranking-exactly-once');
  }, 180_000);
});
