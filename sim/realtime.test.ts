// The realtime runner's figures start at the result's publication: ingest's own work (reading the
// cash pools, computing the payout table) is reported as ingestMs, not counted in
// the makespans or the per-user settle latency.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createMemoryStore, createRealClock } from '../backends/memory/index.ts';
import type { Store } from '../core/ports.ts';
import { createRng } from '../core/rng.ts';
import { DEFAULT_VARIANTS } from '../pipeline/settings.ts';
import { publicationOffsetMs, runRealtime } from './realtime.ts';
import { smokeRaceDay } from './workload.ts';
import { loadDay } from './world.ts';

describe('publicationOffsetMs', () => {
  it('is the wall-clock offset when it falls within the ingest call', () => {
    expect(publicationOffsetMs(420, 500)).toBe(420);
    expect(publicationOffsetMs(0, 500)).toBe(0);
  });

  it('clamps a stamp that reads past the return by the wall clock\'s resolution into the call', () => {
    // Date.now() counts whole milliseconds while the return is timed to the microsecond: the
    // stamp, taken just before ingest returns, can read up to a millisecond after the return.
    // Falling back to 0 there reported a 1.5 s ingest as 0 ms and moved it into the makespans.
    expect(publicationOffsetMs(1_501, 1_500.07)).toBe(1_500.07);
    expect(publicationOffsetMs(-1, 500)).toBe(0);
  });

  it('falls back to the runner start for a clock that does not follow real time', () => {
    expect(publicationOffsetMs(-5_000, 500)).toBe(0); // a simulated clock behind
    expect(publicationOffsetMs(86_400_000, 500)).toBe(0); // or ahead
    expect(publicationOffsetMs(Number.NaN, 500)).toBe(0);
  });
});

describe('runRealtime', () => {
  it('starts the makespans and latencies at the publication, after a slow ingest', async () => {
    const slowPoolsMs = 1_500;
    const clock = createRealClock();
    const bus = createMemoryBus({ clock });
    const memory = createMemoryStore({ clock });
    const day = smokeRaceDay(3, createRng(3), { usersMin: 20, usersMax: 20, ticketsPerUserMax: 3, stakeUnitsMax: 5 });
    await loadDay(memory, day);
    const race = day.races[0];
    if (race === undefined) throw new Error('no race');
    // Ingest reads the cash pools before it publishes: make that read slow.
    const store = Object.create(memory) as Store;
    store.cashPools = async (raceId: string) => {
      await new Promise((r) => setTimeout(r, slowPoolsMs));
      return memory.cashPools(raceId);
    };
    const stage = { workers: 1, maxInFlight: 16 };
    const r = await runRealtime({
      store,
      bus,
      clock,
      pipeline: { variants: DEFAULT_VARIANTS, stages: { settle: stage, postSettle: stage, notify: stage } },
      result: { raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched },
      keepNotifications: true,
      timeoutMs: 60_000,
    });
    expect(r.timedOut).toBe(false);
    expect(r.settledUsers).toBe(20);
    expect(r.ingestMs).toBeGreaterThanOrEqual(slowPoolsMs - 5);
    // Twenty users settle in memory far within the slow read; counted from the runner's start,
    // every figure below would exceed it.
    expect(r.makespanMs).toBeLessThan(slowPoolsMs);
    expect(r.settleLatencyMs['max']).toBeLessThanOrEqual(Math.ceil(r.makespanMs) + 1);
    expect(r.notifyMakespanMs).toBeGreaterThan(0);
    expect(r.notifyMakespanMs).toBeLessThan(slowPoolsMs);
    expect(r.rankingMakespanMs).toBeLessThan(slowPoolsMs);
  });
});
