// The reconciler on the memory backend in virtual time: a bus that silently loses chosen messages
// (the way a broker that keeps a dead consumer's lease loses them) leaves a race unranked; the
// reconciler sees its progress stop and re-drives exactly what is missing, and nothing is paid twice.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createMemoryStore, createVirtualClock } from '../backends/memory/index.ts';
import type { BusMessage, Clock, MessageBus } from '../core/ports.ts';
import { createRng } from '../core/rng.ts';
import { TOPICS } from '../core/topology.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import { loadDay } from '../sim/world.ts';
import { createReconciler, RECONCILE_DEFAULTS } from './reconcile.ts';
import { startPipeline } from './runner.ts';
import { DEFAULT_VARIANTS } from './settings.ts';
import { parseSettled, parseSettleRequest } from './wire.ts';

const SHAPE = { usersMin: 12, usersMax: 12, ticketsPerUserMax: 3, stakeUnitsMax: 5 };

/** Drops (once each) the messages `lose` picks, unless the reconciler published them. */
function lossyBus(bus: MessageBus, lose: (topic: string, m: BusMessage) => boolean): MessageBus & { lost: number } {
  const dropped = new Set<string>();
  const lossy = {
    lost: 0,
    publish: async (topic: string, messages: readonly BusMessage[]) => {
      const kept = messages.filter((m) => {
        if (m.attributes?.['redrive'] !== undefined || dropped.has(topic + m.data) || !lose(topic, m)) return true;
        dropped.add(topic + m.data);
        lossy.lost++;
        return false;
      });
      if (kept.length > 0) await bus.publish(topic, kept);
    },
    subscribe: bus.subscribe.bind(bus),
    close: bus.close.bind(bus),
  };
  return lossy;
}

async function world(lose: (users: readonly string[]) => (topic: string, m: BusMessage) => boolean) {
  const clock = createVirtualClock();
  const inner = createMemoryBus({ clock });
  const store = createMemoryStore({ clock });
  const day = smokeRaceDay(11, createRng(11), SHAPE);
  await loadDay(store, day);
  const race = day.races[0];
  if (race === undefined) throw new Error('no race');
  const users = day.users.map((u) => u.userId).sort();
  const bus = lossyBus(inner, lose(users));
  const pipeline = startPipeline({ store, bus, clock, variants: DEFAULT_VARIANTS });
  let now = 1_000_000;
  const reconcilerClock: Clock = { nowMs: () => now, sleep: (ms) => clock.sleep(ms) };
  const reconciler = createReconciler({ store, bus, clock: reconcilerClock, counters: pipeline.counters, fanout: DEFAULT_VARIANTS.fanout });
  await pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched });
  await clock.runUntilIdle();
  const advance = (ms: number): void => void (now += ms);
  const ranked = async (): Promise<boolean> => (await store.rankingClaim(race.raceId))?.published === true;
  const applications = async (): Promise<number[]> => (await store.readback!.settlementMarkers(race.raceId)).map((m) => m.applications ?? 0);
  return { clock, store, bus, race, users, pipeline, reconciler, advance, ranked, applications };
}

const settleRequestFor = (userIds: readonly string[]) => (topic: string, m: BusMessage) => {
  if (topic !== TOPICS.settleRequests) return false;
  const r = parseSettleRequest(m.data);
  return r.ok && r.value.userIds.some((u) => userIds.includes(u));
};

describe('the reconciler', () => {
  it('re-drives the users whose settle requests were lost, after the race stalled for stallMs, and no sooner', async () => {
    const w = await world((users) => settleRequestFor(users.slice(3, 5)));
    expect(w.bus.lost).toBe(2);
    expect(await w.ranked()).toBe(false);
    expect(await w.store.countUsersWithOpenTickets(w.race.raceId)).toBe(2);

    expect(await w.reconciler.round()).toEqual([]); // first sight: the progress is recorded
    w.advance(RECONCILE_DEFAULTS.stallMs - 1);
    expect(await w.reconciler.round()).toEqual([]); // not stalled long enough
    w.advance(1);
    const [r] = await w.reconciler.round();
    expect(r).toMatchObject({ raceId: w.race.raceId, kind: 'users', users: 2, stalledMs: RECONCILE_DEFAULTS.stallMs });
    await w.clock.runUntilIdle();

    expect(await w.ranked()).toBe(true);
    expect(await w.store.countUsersWithOpenTickets(w.race.raceId)).toBe(0);
    expect(await w.applications()).toEqual(w.users.map(() => 1));
    expect(w.pipeline.counters).toMatchObject({ redriveRaces: 1, redriveUsers: 2, redriveFanouts: 0, rankingsPublished: 1, settlementsApplied: w.users.length });
    // A ranked race is no longer watched: nothing more is re-driven.
    w.advance(10 * RECONCILE_DEFAULTS.stallMs);
    expect(await w.reconciler.round()).toEqual([]);
    expect(await w.reconciler.round()).toEqual([]);
  });

  it('re-drives the fan-out when the race result never reached it', async () => {
    const w = await world(() => (topic) => topic === TOPICS.raceResults);
    expect(w.bus.lost).toBe(1);
    expect(await w.store.fanoutUsers(w.race.raceId)).toBeUndefined();
    await w.reconciler.round();
    w.advance(RECONCILE_DEFAULTS.stallMs);
    const [r] = await w.reconciler.round();
    expect(r).toMatchObject({ kind: 'fanout', users: 0 });
    await w.clock.runUntilIdle();
    expect(await w.ranked()).toBe(true);
    expect(await w.applications()).toEqual(w.users.map(() => 1));
    expect(w.pipeline.counters.redriveFanouts).toBe(1);
  });

  it('re-drives a settled user whose `settled` was lost: settle publishes it again from the marker, paying nothing twice', async () => {
    const w = await world((users) => (topic, m) => {
      if (topic !== TOPICS.settled) return false;
      const s = parseSettled(m.data);
      return s.ok && s.value.userId === users[7];
    });
    expect(w.bus.lost).toBe(1);
    expect(await w.store.countUsersWithOpenTickets(w.race.raceId)).toBe(0);
    expect(await w.store.terminalUserCount(w.race.raceId)).toBe(w.users.length - 1);
    const notifiedBefore = w.pipeline.counters.notificationsPublished;
    await w.reconciler.round();
    w.advance(RECONCILE_DEFAULTS.stallMs);
    const [r] = await w.reconciler.round();
    expect(r).toMatchObject({ kind: 'users', users: 1 });
    await w.clock.runUntilIdle();
    expect(await w.ranked()).toBe(true);
    expect(await w.applications()).toEqual(w.users.map(() => 1));
    expect(w.pipeline.counters.settlementsDuplicate).toBe(1);
    expect(w.pipeline.counters.notificationsPublished).toBe(notifiedBefore + 1);
  });

  it('leaves a race alone while it makes progress, and a race that completed alone', async () => {
    const w = await world(() => () => false);
    expect(await w.ranked()).toBe(true);
    expect(await w.store.unrankedRaces()).toEqual([]);
    w.advance(10 * RECONCILE_DEFAULTS.stallMs);
    expect(await w.reconciler.round()).toEqual([]);
    expect(w.pipeline.counters.redriveRaces + w.pipeline.counters.redriveFanouts).toBe(0);
  });
});
