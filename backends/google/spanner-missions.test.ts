// Proves the Spanner store's day missions fail one call, not its batch: calls that queue behind a
// busy shard commit together, and among them a call whose bonuses cannot be computed, and one
// whose write the commit refuses (a bonus reason longer than its column), fail alone while their
// neighbours count their races and get their bonuses (the group commit retries a failed batch a
// call per transaction). It fails if a batch's failure rejects every caller (the neighbours' calls
// would reject) or if the retry counts anything twice.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dayRaceEntry, missionBonuses } from '../../core/missions.ts';
import type { Bonus } from '../../core/ports.ts';
import { describeWithEmulators } from '../../emulators/test-support.ts';
import { startSpannerForTests, type SpannerForTests } from '../../emulators/spanner-testing.ts';
import type { SpannerStore } from './spanner-store.ts';

const DAY = '2026-11-21';

describeWithEmulators('Spanner store day missions', () => {
  let env: SpannerForTests;
  let store: SpannerStore;
  const users = ['du1', 'du2', 'du3', 'du4', 'du5'];

  beforeAll(async () => {
    env = await startSpannerForTests('missions');
    store = await env.freshStore(1);
    await store.putUsers(users.map((userId) => ({ userId, cash: 0, medals: 0 })));
  }, 120_000);

  afterAll(async () => {
    await env?.stop();
  });

  const apply = (userId: string, raceId: string, hits: number, bonusesOf?: () => readonly Bonus[]) => {
    const facts = { settlementId: `stl:${raceId}:${userId}:v1`, userId, hits, trifectaHits: 0 };
    return store.applyDayProgress(dayRaceEntry(facts, raceId, DAY), bonusesOf ?? ((before) => missionBonuses(facts, before).bonuses));
  };

  it('fails only the call that cannot be computed or committed, and counts its neighbours once', async () => {
    const first = apply('du1', 'r0', 1); // takes the shard: the calls below queue and commit together
    const calls = [
      apply('du2', 'r1', 3),
      apply('du3', 'r1', 1, () => {
        throw new Error('cannot compute this one');
      }),
      apply('du4', 'r1', 1, () => [{ bonusId: 'bonus:long-reason:du4', userId: 'du4', medals: 5, reason: 'x'.repeat(100) }]),
      apply('du5', 'r1', 2),
    ];
    const settled = await Promise.allSettled([first, ...calls]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(String((settled[2] as PromiseRejectedResult).reason)).toMatch(/cannot compute this one/);
    const granted = settled.flatMap((s) => (s.status === 'fulfilled' ? s.value.map((b) => b.bonusId) : [])).sort();
    expect(granted).toEqual(['bonus:hit:stl:r0:du1:v1', 'bonus:hit:stl:r1:du2:v1', 'bonus:hit:stl:r1:du5:v1', `bonus:hits-today:3:du2:${DAY}`]);
    expect(await store.readback.balances('du2')).toEqual({ userId: 'du2', cash: 0, medals: 30 + 100 });
    expect(await store.readback.balances('du4')).toEqual({ userId: 'du4', cash: 0, medals: 0 });
    // The failed calls counted nothing: delivered again with a sound computation, they count now.
    expect((await apply('du3', 'r1', 1)).map((b) => b.bonusId)).toEqual(['bonus:hit:stl:r1:du3:v1']);
    expect((await apply('du4', 'r1', 1)).map((b) => b.bonusId)).toEqual(['bonus:hit:stl:r1:du4:v1']);
    // And the neighbours' races are counted: delivered again, nothing more.
    expect(await apply('du2', 'r1', 3)).toEqual([]);
    expect(await apply('du5', 'r1', 2)).toEqual([]);
  });
});
