import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import type { Store } from '../core/ports.ts';
import { DEFAULT_VARIANTS } from '../pipeline/settings.ts';
import { openBackend } from '../sim/open-backend.ts';
import { runDay } from '../sim/run-day.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import { createProfileRecorder, profileStore } from './profile.ts';
import { knobsOf, profileBackend, profileOfDay } from './profile-run.ts';
import { parseProfileSection, profileSection } from './profile-record.ts';

/** Counts settlement transactions below the profiler, independently of it. */
function countingSettles(store: Store): { store: Store; count: () => number } {
  let n = 0;
  const counted = Object.create(store) as Store;
  counted.settleUser = async (...a) => (n++, store.settleUser(...a));
  const columns = store.settleUserColumns;
  if (columns !== undefined) counted.settleUserColumns = async (...a) => (n++, columns.apply(store, a));
  return { store: counted, count: () => n };
}

describe('profiling the memory backend', () => {
  it('files one settle.commit per settlement transaction, and every pipeline operation, without changing the run', async () => {
    const day = smokeRaceDay(3, createRng('raceday-run/smoke/3').fork('workload'), { usersMin: 150, usersMax: 150, ticketsPerUserMax: 4, stakeUnitsMax: 10 });
    const opened = await openBackend('memory', {});
    try {
      const counting = countingSettles(opened.store);
      const recorder = createProfileRecorder();
      recorder.setWorkload({ users: day.users.length, tickets: day.ticketCount });
      const backend = profileBackend({ ...opened, store: counting.store }, recorder);
      const r = await runDay({ day, backend, variants: DEFAULT_VARIANTS, workers: 2, maxInFlight: 8, timeoutMs: 60_000 });
      expect(r.ok).toBe(true);
      const ops = recorder.operations();
      expect(counting.count()).toBeGreaterThanOrEqual(r.realtime.settledUsers);
      expect(ops['settle.commit']?.count).toBe(counting.count());
      // Every applied settlement's tickets are in the samples' sizes (no reservoir cut at this size).
      const tickets = (ops['settle.commit']?.samples ?? []).reduce((a, s) => a + (s.sizes['tickets'] ?? 0), 0);
      expect(tickets).toBe(r.settledTickets);
      expect(ops['ingest.result']?.count).toBe(1);
      expect(ops['ingest.result']?.samples[0]?.sizes['tickets']).toBe(day.ticketCount);
      expect(ops['ranking.claim']?.count).toBe(1);
      // Its size is the settlement-total rows it read: every settled user, once per pass over them.
      const rows = ops['ranking.claim']?.samples[0]?.sizes['users'] ?? 0;
      expect(rows).toBeGreaterThanOrEqual(r.realtime.settledUsers);
      expect(rows % r.realtime.settledUsers).toBe(0);
      expect(ops['fanout.page']?.count).toBeGreaterThanOrEqual(1);
      // One notification append per settled user, plus the ranking's (a slice of users each).
      expect(ops['notify.append']?.count).toBeGreaterThan(r.realtime.settledUsers);
      expect(ops['postSettle.commit']?.count).toBeGreaterThanOrEqual(r.realtime.settledUsers);
      expect(ops['publish.batch']?.count).toBeGreaterThan(0);
      expect(ops['deliver.message']?.count).toBeGreaterThanOrEqual(3 * r.realtime.settledUsers);
      // The settled check: post-settle and notify each read the user's stored totals, one read per call on memory.
      expect(ops['settled.check']?.count).toBe(2 * r.realtime.settledUsers);
      expect((ops['settled.check']?.samples ?? []).every((x) => x.sizes['users'] === 1)).toBe(true);
      const profile = profileOfDay(recorder, opened, day, r, knobsOf(opened, { workers: 2, maxInFlight: 8, shards: 1 }));
      expect(profile.concurrency).toBe(16);
      expect(profile.knobs).toEqual({ workers: 2, maxInFlight: 8, shards: 1, settlementsPerCommit: 1 });
      expect(profile.run.throughputUsersPerSecond).toBeCloseTo((r.realtime.settledUsers * 1000) / r.realtime.makespanMs, 2);
      // The section survives JSON and its validation.
      const back = parseProfileSection(JSON.parse(JSON.stringify(profileSection([profile]))));
      expect(back.ok ? back.value.runs[0]?.operations['settle.commit']?.count : back.error.message).toBe(counting.count());
    } finally {
      await opened.close();
    }
  });

  it('keeps a bounded reservoir: every sample counted, at most `capacity` kept', () => {
    const recorder = createProfileRecorder({ capacity: 10 });
    for (let i = 0; i < 1_000; i++) recorder.add('publish.batch', { durationUs: i, latencyUs: i, sizes: { messages: 1 } });
    const op = recorder.operations()['publish.batch'];
    expect(op?.count).toBe(1_000);
    expect(op?.samples.length).toBe(10);
    expect(op?.sumDurationUs).toBe((999 * 1000) / 2);
    // A uniform sample, not the first ten.
    expect(Math.max(...(op?.samples ?? []).map((s) => s.durationUs))).toBeGreaterThan(100);
  });
});

describe('a serialized unit (an emulator database)', () => {
  it('files calls answered in one event-loop turn as one group commit, timed from the unit’s previous commit', async () => {
    let now = 0;
    const pending: (() => void)[] = [];
    // A fake store: every settleUser waits until the test "commits" the batch, then all resolve together.
    const fake = {
      settleUser: (_race: string, userId: string) =>
        new Promise((resolve) => pending.push(() => resolve({ kind: 'applied', settlement: { outcomes: userId === 'u1' ? [1, 2, 3] : [1] } }))),
    } as unknown as Store;
    const recorder = createProfileRecorder();
    const store = profileStore(fake, recorder, { serialized: true, nowUs: () => now });
    const commit = async (atUs: number): Promise<void> => {
      now = atUs;
      for (const p of pending.splice(0)) p();
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    };
    const first = ['u1', 'u2', 'u3'].map((u) => store.settleUser('r', u, 1, () => undefined as never));
    now = 1_000;
    const second = ['u4', 'u5'].map((u) => store.settleUser('r', u, 1, () => undefined as never));
    await commit(5_000); // resolves all five in one turn: same unit, same method -> one group
    await Promise.all([...first, ...second]);
    const third = [store.settleUser('r', 'u6', 1, () => undefined as never)];
    now = 6_000;
    await commit(9_000);
    await Promise.all(third);
    const samples = recorder.operations()['settle.commit']?.samples ?? [];
    expect(samples).toHaveLength(2);
    expect(samples[0]).toMatchObject({ durationUs: 5_000, latencyUs: 5_000, sizes: { users: 5, tickets: 7 } });
    // Arrived at 5,000 (the unit's previous commit), answered at 9,000: 4,000 of service.
    expect(samples[1]).toMatchObject({ durationUs: 4_000, sizes: { users: 1, tickets: 1 } });
  });

  it('files the settled checks answered in one turn as one read of their count, timed from its last arrival, beside the unit’s transactions', async () => {
    let now = 0;
    const reads: (() => void)[] = [];
    const commits: (() => void)[] = [];
    // A fake store: reads and commits wait until the test answers them; answered together, they resolve in one turn.
    const fake = {
      getSettlementTotals: () => new Promise((resolve) => reads.push(() => resolve(undefined))),
      settleUser: () => new Promise((resolve) => commits.push(() => resolve({ kind: 'applied', settlement: { outcomes: [1] } }))),
    } as unknown as Store;
    const recorder = createProfileRecorder();
    const store = profileStore(fake, recorder, { serialized: true, nowUs: () => now });
    const turn = async (): Promise<void> => {
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    };
    const get = (u: string): Promise<unknown> => (store.getSettlementTotals as NonNullable<Store['getSettlementTotals']>)('r', u);
    now = 1_000;
    const commit = store.settleUser('r', 'u0', 1, () => undefined as never);
    now = 2_000;
    const checks = ['u1', 'u2', 'u3'].map(get);
    now = 3_000;
    for (const c of commits.splice(0)) c(); // the commit ends at 3,000
    await turn();
    now = 4_000;
    checks.push(get('u4'));
    now = 5_000;
    const next = store.settleUser('r', 'u5', 1, () => undefined as never); // waits for the unit from 5,000
    now = 7_000;
    for (const r of reads.splice(0)) r(); // one coalesced read answers all four at 7,000
    await turn();
    await Promise.all([commit, ...checks]);
    const check = recorder.operations()['settled.check']?.samples ?? [];
    // Timed from its last arrival (4,000: the read carries all four, so it started after that), not
    // from the unit's commit; the latency is the longest wait, the first caller's (2,000 to 7,000).
    expect(check).toEqual([{ durationUs: 3_000, latencyUs: 5_000, sizes: { users: 4 } }]);
    // A read leaves the unit's clock alone: the next commit is timed from its arrival (5,000), not the read's end.
    now = 8_000;
    for (const c of commits.splice(0)) c();
    await turn();
    await next;
    const settle = recorder.operations()['settle.commit']?.samples ?? [];
    expect(settle.map((x) => x.durationUs)).toEqual([2_000, 3_000]);
  });
});
