// The ranking claim is a lease with a published flag (pipeline/ranking.ts, docs/result-finality.md).
// A claimant that dies between claiming and publishing must not take the ranking with it: neither
// when a duplicate of its own delivery (same attempt) arrives, nor when its message dies on every
// attempt and only the dead-letter intake is left to publish. Memory backend, production limits.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createMemoryStore, createVirtualClock } from '../backends/memory/index.ts';
import { parseMessage } from '../core/messages.ts';
import { RANKING_CLAIM_LEASE_MS } from '../core/ranking.ts';
import { createRng } from '../core/rng.ts';
import { TOPICS } from '../core/topology.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import { loadDay } from '../sim/world.ts';
import { InjectedCrash, type Probe } from './probe.ts';
import { RANKING_BROADCAST_USER } from './ranking.ts';
import { startPipeline } from './runner.ts';

const SHAPE = { usersMin: 12, usersMax: 12, ticketsPerUserMax: 2, stakeUnitsMax: 5 };

async function world(duplicateProbability: number) {
  const clock = createVirtualClock();
  const bus = createMemoryBus({ clock, faults: { duplicateProbability } });
  const store = createMemoryStore({ clock });
  const day = smokeRaceDay(5, createRng(5), SHAPE);
  const race = day.races[0];
  if (race === undefined) throw new Error('no race');
  await loadDay(store, day);
  const published: string[] = [];
  const publish = bus.publish.bind(bus);
  bus.publish = async (topic, messages) => {
    if (topic === TOPICS.notifications) for (const m of messages) out(m.data);
    return publish(topic, messages);
  };
  const out = (data: string): void => {
    const m = parseMessage(TOPICS.notifications, data);
    // The race-level broadcast: one per ranking published (each user's own ranking precedes it).
    if (m.ok && m.value.topic === TOPICS.notifications && m.value.message.payload.kind === 'ranking' && m.value.message.userId === RANKING_BROADCAST_USER) published.push(data);
  };
  return { clock, bus, store, race, published };
}

/** The message id (`race/user`) of an item `race/user#attempt`. */
const messageOf = (item: string): string => item.slice(0, item.lastIndexOf('#'));

describe('a ranking claimant that dies right after claiming', () => {
  it('is not lost when a duplicate of the same delivery attempt arrives: the ranking is published once', async () => {
    const { clock, bus, store, race, published } = await world(1); // every delivery is duplicated
    let crashed: string | undefined;
    // The first claimant dies between the claim and the publication, once.
    const probe: Probe = (point, item) => {
      if (point === 'ranking.afterClaim' && crashed === undefined) {
        crashed = item;
        throw new InjectedCrash(point, item);
      }
    };
    const pipeline = startPipeline({ store, bus, clock, probe, stages: { postSettle: { ackDeadlineMs: 1_000 } } });
    await pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched });
    await clock.runUntilIdle();
    expect(crashed).toMatch(/#1$/);
    expect(bus.stats().subscriptions.reduce((n, s) => n + s.duplicates, 0)).toBeGreaterThan(0);
    expect(published).toHaveLength(1);
    const [claim] = (await store.readback.rankingClaims()).filter((c) => c.raceId === race.raceId);
    expect(claim?.publishedAtMs).toBeDefined();
    expect(pipeline.counters.rankingPending).toBeGreaterThan(0); // the duplicate came back instead of acking
    expect(pipeline.errors).toEqual([]);
    await pipeline.stop();
  });

  it('is taken over by the dead-letter intake after the lease when its message dies on every attempt', async () => {
    const { clock, bus, store, race, published } = await world(0);
    let doomed: string | undefined;
    // Whichever message claims first dies after claiming on every one of its attempts.
    const probe: Probe = (point, item) => {
      if (point !== 'ranking.afterClaim') return;
      doomed ??= messageOf(item);
      if (messageOf(item) === doomed) throw new InjectedCrash(point, item);
    };
    const pipeline = startPipeline({ store, bus, clock, probe, stages: { postSettle: { ackDeadlineMs: 1_000 } } });
    const start = clock.nowMs();
    await pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched });
    await clock.runUntilIdle();
    expect(doomed).toBeDefined();
    expect(bus.deadLetters(`${TOPICS.settled}-dead-letter`)).toHaveLength(1);
    expect(published).toHaveLength(1);
    const [claim] = (await store.readback.rankingClaims()).filter((c) => c.raceId === race.raceId);
    expect(claim?.publishedAtMs).toBeDefined();
    // Published by the intake, after the doomed claimant's last lease ran out.
    expect((claim?.publishedAtMs ?? 0) - start).toBeGreaterThanOrEqual(RANKING_CLAIM_LEASE_MS);
    // The intake marked the doomed (settled) user and came back until it could take the claim over.
    expect((await store.deadLetteredUsers(race.raceId)).map((d) => `${race.raceId}/${d.userId}`)).toEqual([doomed]);
    expect(pipeline.counters.rankingPending).toBeGreaterThan(0);
    expect(pipeline.errors).toEqual([]);
    await pipeline.stop();
  });
});

describe('Store.claimRanking as a lease (memory store)', () => {
  it('refuses others within the lease, lets them take an unpublished claim over after it, and nobody once published', async () => {
    const clock = createVirtualClock();
    const store = createMemoryStore({ clock });
    const advance = async (ms: number): Promise<void> => {
      const slept = clock.sleep(ms);
      await clock.runUntilIdle();
      await slept;
    };
    const a = { id: 'r/a', attempt: 1 };
    const b = { id: 'r/b', attempt: 1 };
    expect(await store.claimRanking('r', a)).toBe(true);
    expect(await store.claimRanking('r', a)).toBe(false); // a duplicate of the same attempt
    expect(await store.claimRanking('r', b)).toBe(false);
    expect(await store.rankingClaim('r')).toEqual({ claimant: a, published: false });
    await advance(RANKING_CLAIM_LEASE_MS - 1);
    expect(await store.claimRanking('r', b)).toBe(false);
    await advance(1);
    expect(await store.claimRanking('r', b)).toBe(true); // a's lease expired unpublished
    expect(await store.claimRanking('r', a)).toBe(false);
    expect(await store.claimRanking('r', { ...b, attempt: 2 })).toBe(true); // b redelivered
    await store.markRankingPublished('r');
    await store.markRankingPublished('r');
    expect(await store.rankingClaim('r')).toEqual({ claimant: { ...b, attempt: 2 }, published: true });
    await advance(RANKING_CLAIM_LEASE_MS * 2);
    expect(await store.claimRanking('r', { ...b, attempt: 3 })).toBe(false);
    expect(await store.claimRanking('r', a)).toBe(false);
  });
});
