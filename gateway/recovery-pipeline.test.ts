// Recovery end to end on the memory backend: the pipeline settles two races, the bus intake takes
// the notifications in, a lossy live path per user drops a third of them and duplicates some, and
// each user's sequencer still delivers every notification of the user's log, in order, once; what
// the live path lost at the end comes on a reconnect after the last number seen.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createMemoryStore, createVirtualClock } from '../backends/memory/index.ts';
import { createRng } from '../core/rng.ts';
import { RANKING_BROADCAST_USER } from '../pipeline/ranking.ts';
import { startPipeline } from '../pipeline/runner.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import { loadDay } from '../sim/world.ts';
import type { Outbound } from './contracts.ts';
import { createBusIntake } from './intake/bus.ts';
import { liveNotificationFrame, sequenceNotifications, type SequencedFeed } from './recovery.ts';

/** A per-user live queue (what a delivery policy is to the sequencer), ended by end(). */
function queue() {
  const frames: Outbound[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  return {
    push(f: Outbound) {
      frames.push(f);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<Outbound> {
      for (;;) {
        const f = frames.shift();
        if (f !== undefined) yield f;
        else if (ended) return;
        else await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

describe('recovery on the pipeline', () => {
  it('delivers every user notification once and in order through a live path that loses and duplicates', async () => {
    const clock = createVirtualClock();
    const bus = createMemoryBus({ clock });
    const store = createMemoryStore({ clock });
    const day = smokeRaceDay(11, createRng(11), { usersMin: 30, usersMax: 30, ticketsPerUserMax: 2, stakeUnitsMax: 5 });
    await loadDay(store, day);
    const rng = createRng(99);
    const users = new Map<string, { live: ReturnType<typeof queue>; feed: SequencedFeed; got: number[]; reading: Promise<void> }>();
    const open = (userId: string) => {
      const live = queue();
      const feed = sequenceNotifications(live, { userId, afterSeq: 0, store });
      const got: number[] = [];
      const reading = (async () => {
        for await (const f of feed) got.push(f.seq as number);
      })();
      const u = { live, feed, got, reading };
      users.set(userId, u);
      return u;
    };
    // Every user is subscribed (after 0, an empty log) before anything is settled.
    for (const u of day.users) open(u.userId);
    await new Promise((r) => setTimeout(r, 0));
    let lost = 0;
    const intake = createBusIntake(bus);
    await intake.start((m) => {
      m.done();
      if (m.body.userId === RANKING_BROADCAST_USER || m.body.seq === undefined) return;
      const u = users.get(m.body.userId);
      if (u === undefined) throw new Error(`a notification for ${m.body.userId}, who is not a user of the day`);
      const draw = rng.nextU32() % 10;
      if (draw < 3) {
        lost++;
        return;
      }
      const frame = liveNotificationFrame({ ...m.body, seq: m.body.seq }, clock.nowMs());
      u.live.push(frame);
      if (draw === 9) u.live.push(frame);
    });
    const pipeline = startPipeline({ store, bus, clock });
    for (const race of day.races.slice(0, 2)) await pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched });
    await clock.runUntilIdle();
    await pipeline.stop();
    await intake.close();
    expect(lost).toBeGreaterThan(10);
    expect([...users.values()].filter((u) => u.got.length > 0).length).toBeGreaterThan(10);
    let gapsFilled = 0;
    for (const [userId, u] of users) {
      u.live.end();
      await u.reading;
      gapsFilled += u.feed.stats().gapsFilled;
      // Reconnect after the last number seen: the tail the live path lost comes from the Store.
      const again = queue();
      again.end();
      const rest: number[] = [];
      for await (const f of sequenceNotifications(again, { userId, afterSeq: u.feed.lastSeq() ?? 0, store })) rest.push(f.seq as number);
      const log = await store.notificationsAfter(userId, 0, 1_000);
      const all = [...u.got, ...rest];
      expect(all, userId).toEqual(log.map((n) => n.seq));
      // Each user's log holds a settled notification and a ranking per race the user bet on.
      expect(log.filter((n) => n.kind === 'ranking').length, userId).toBe(log.filter((n) => n.kind === 'settled').length);
    }
    expect(gapsFilled).toBeGreaterThan(0);
  });
});
