// Every notification to a user carries its number in the user's notification log (seq): settled
// notifications from notify.ts, each user's ranking from ranking.ts. Under redelivery (every
// message delivered twice) and crashes after publishing, the same notification always carries the
// same number, a user's numbers are 1..n without gaps, and the log holds exactly what was published.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createMemoryStore, createVirtualClock } from '../backends/memory/index.ts';
import { parseMessage, type NotificationMessage } from '../core/messages.ts';
import { createRng } from '../core/rng.ts';
import { TOPICS } from '../core/topology.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import { loadDay } from '../sim/world.ts';
import { InjectedCrash, type Probe } from './probe.ts';
import { RANKING_BROADCAST_USER } from './ranking.ts';
import { startPipeline } from './runner.ts';

const SHAPE = { usersMin: 15, usersMax: 15, ticketsPerUserMax: 2, stakeUnitsMax: 5 };

async function runRaces(duplicateProbability: number, probe?: Probe) {
  const clock = createVirtualClock();
  const bus = createMemoryBus({ clock, faults: { duplicateProbability } });
  const store = createMemoryStore({ clock });
  const day = smokeRaceDay(7, createRng(7), SHAPE);
  await loadDay(store, day);
  const published: NotificationMessage[] = [];
  const publish = bus.publish.bind(bus);
  bus.publish = async (topic, messages) => {
    if (topic === TOPICS.notifications) {
      for (const m of messages) {
        const parsed = parseMessage(TOPICS.notifications, m.data);
        if (parsed.ok && parsed.value.topic === TOPICS.notifications) published.push(parsed.value.message);
      }
    }
    return publish(topic, messages);
  };
  const pipeline = startPipeline({ store, bus, clock, ...(probe === undefined ? {} : { probe }) });
  for (const race of day.races.slice(0, 2)) await pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched });
  await clock.runUntilIdle();
  await pipeline.stop();
  return { store, published, races: day.races.slice(0, 2), errors: pipeline.errors };
}

async function expectNumbered(r: Awaited<ReturnType<typeof runRaces>>): Promise<void> {
  const perUser = new Map<string, Map<string, number>>();
  for (const m of r.published) {
    if (m.userId === RANKING_BROADCAST_USER) {
      expect(m.seq).toBeUndefined();
      continue;
    }
    expect(m.seq, `${m.notificationId} has no seq`).toBeGreaterThanOrEqual(1);
    let ids = perUser.get(m.userId);
    if (ids === undefined) perUser.set(m.userId, (ids = new Map()));
    const before = ids.get(m.notificationId);
    if (before !== undefined) expect(m.seq, `${m.notificationId} republished with another number`).toBe(before);
    ids.set(m.notificationId, m.seq as number);
  }
  expect(perUser.size).toBeGreaterThan(0);
  for (const [userId, ids] of perUser) {
    const seqs = [...ids.values()].sort((a, b) => a - b);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const log = await r.store.notificationsAfter(userId, 0, 100);
    expect(log.map((n) => [n.seq, n.notificationId])).toEqual([...ids].map(([id, seq]) => [seq, id]).sort((a, b) => (a[0] as number) - (b[0] as number)));
    // Two races: a settled notification and a ranking of each, for a user with tickets in both.
    for (const n of log) expect(['settled', 'ranking']).toContain(n.kind);
  }
  // Every user with a settled notification of a race also got the race's ranking, numbered.
  for (const race of r.races) {
    const settled = new Set(r.published.filter((m) => m.raceId === race.raceId && m.kind === 'settled').map((m) => m.userId));
    const ranked = new Set(r.published.filter((m) => m.raceId === race.raceId && m.kind === 'ranking' && m.userId !== RANKING_BROADCAST_USER).map((m) => m.userId));
    expect(settled.size).toBeGreaterThan(0);
    expect(ranked).toEqual(settled);
  }
}

describe('notification numbers (seq) from the pipeline', () => {
  it('number every user notification densely, and a duplicated delivery republishes the same number', async () => {
    const r = await runRaces(1);
    expect(r.errors).toEqual([]);
    // Duplicates did republish: more settled notifications than settled users.
    expect(r.published.filter((m) => m.kind === 'settled').length).toBeGreaterThan(new Set(r.published.filter((m) => m.kind === 'settled').map((m) => m.notificationId)).size);
    await expectNumbered(r);
  });

  it('keep the number when notify or the ranking crashes after publishing and the message is redelivered', async () => {
    const crashed = new Set<string>();
    const probe: Probe = (point, item) => {
      const key = `${point}:${item.slice(0, item.lastIndexOf('#'))}`;
      if ((point === 'notify.afterPublish' || point === 'ranking.afterPublish') && !crashed.has(key)) {
        crashed.add(key);
        throw new InjectedCrash(point, item);
      }
    };
    const r = await runRaces(0, probe);
    expect([...crashed].some((k) => k.startsWith('ranking.afterPublish'))).toBe(true);
    expect([...crashed].some((k) => k.startsWith('notify.afterPublish'))).toBe(true);
    await expectNumbered(r);
  });
});
