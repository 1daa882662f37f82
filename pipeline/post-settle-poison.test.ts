// A well-formed `settled` message naming a user the store does not have (forged, or corrupt
// upstream) is poison: post-settle and notify dead-letter it at once with SETTLED.UNKNOWN as the reason, with or
// without hits (the day's missions are touched first when it has hits), and no handler error is
// raised. Before, it threw on every delivery and went to the dead letters only after five.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createMemoryStore, createVirtualClock } from '../backends/memory/index.ts';
import { encodeSettled } from '../core/messages.ts';
import { createRng } from '../core/rng.ts';
import { settlementIdOf } from '../core/settlement-record.ts';
import { deadLetterTopicOf, TOPICS } from '../core/topology.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import { loadDay } from '../sim/world.ts';
import { startPipeline } from './runner.ts';

describe('post-settle and a user the store does not have', () => {
  for (const hits of [0, 2]) {
    it(`dead-letters a settled message of an unknown user with ${hits} hits at once, with the reason`, async () => {
      const clock = createVirtualClock();
      const bus = createMemoryBus({ clock });
      const store = createMemoryStore({ clock });
      const day = smokeRaceDay(3, createRng(3), { usersMin: 5, usersMax: 5, ticketsPerUserMax: 2, stakeUnitsMax: 2 });
      await loadDay(store, day);
      const race = day.races[0]!;
      const pipeline = startPipeline({ store, bus, clock });
      await pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched });
      await clock.runUntilIdle();
      const data = encodeSettled({ raceId: race.raceId, userId: 'ghost', settlementId: settlementIdOf(race.raceId, 'ghost', 1), cash: 0, medals: 0, hits, resultVersion: 1, publishedAt: 0 });
      const notified = pipeline.counters.notificationsPublished;
      await bus.publish(TOPICS.settled, [{ data }]);
      await clock.runUntilIdle();
      await pipeline.stop();
      expect(pipeline.errors).toEqual([]);
      // Refused by both readers of `settled` (post-settle and notify), each at its first delivery.
      const letters = bus.deadLetters(deadLetterTopicOf(TOPICS.settled)).filter((l) => l.data === data);
      expect(letters).toHaveLength(2);
      for (const l of letters) {
        expect(l.attributes['reason']).toMatch(/^SETTLED\.UNKNOWN: .*ghost/);
        expect(l.attributes['deliveryAttempt']).toBe('1');
      }
      expect(pipeline.counters.notificationsPublished).toBe(notified);
    });
  }
});
