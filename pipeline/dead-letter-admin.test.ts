// Proves list and re-drive of dead letters on the memory bus inside a run: a user whose
// settlement failed on all 5 delivery attempts is listed with its reason and attempt count (and
// stays listed), and after the fix a re-drive settles it exactly once and empties the dead letters.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createMemoryStore, createVirtualClock } from '../backends/memory/index.ts';
import type { Store } from '../core/ports.ts';
import { createRng } from '../core/rng.ts';
import { TOPICS } from '../core/topology.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import { loadDay } from '../sim/world.ts';
import { listDeadLetters, redriveDeadLetters } from './dead-letter-admin.ts';
import { startPipeline } from './runner.ts';

describe('dead-letter list and re-drive on the memory bus', () => {
  it('lists a failed user with reason and attempts, leaves it listed, and re-drives it once fixed', async () => {
    const clock = createVirtualClock();
    const bus = createMemoryBus({ clock });
    const store = createMemoryStore({ clock });
    const day = smokeRaceDay(8, createRng(8), { usersMin: 12, usersMax: 12, ticketsPerUserMax: 2, stakeUnitsMax: 3 });
    await loadDay(store, day);
    const race = day.races[0];
    if (race === undefined) throw new Error('no race');
    const victim = day.users[2]?.userId as string;
    const broken = { on: true };
    const flaky: Store = { ...store, settleUser: (r, u, ...rest) => (broken.on && u === victim ? Promise.reject(new Error('ledger offline')) : store.settleUser(r, u, ...rest)) };
    const pipeline = startPipeline({ store: flaky, bus, clock, stages: { settle: { ackDeadlineMs: 100 } } });
    await pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched });
    await clock.runUntilIdle();

    const during = <T>(p: Promise<T>): Promise<T> => clock.runUntilIdle().then(() => p);
    const listed = await during(listDeadLetters(bus, clock, TOPICS.settleRequests));
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ userId: victim, attempts: 5, reason: expect.stringMatching(/^DELIVERY\.ATTEMPTS_EXHAUSTED: attempt 5 of 5 failed: ledger offline/) });
    expect(await during(listDeadLetters(bus, clock, TOPICS.settleRequests))).toHaveLength(1);
    expect((await store.readback.settlementMarkers(race.raceId)).some((m) => m.userId === victim)).toBe(false);

    broken.on = false;
    const redriven = await during(redriveDeadLetters(bus, clock, TOPICS.settleRequests));
    expect(redriven.map((e) => e.userId)).toEqual([victim]);
    await clock.runUntilIdle();
    expect((await store.readback.settlementMarkers(race.raceId)).find((m) => m.userId === victim)?.applications).toBe(1);
    expect(await during(listDeadLetters(bus, clock, TOPICS.settleRequests))).toEqual([]);
    await pipeline.stop();
  });
});
