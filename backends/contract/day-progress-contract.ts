// The day-missions part of the Store contract (Store.applyDayProgress), run on every backend the
// pipeline runs on: a user's day counts every race once, whatever is redelivered or runs at the
// same time, the bonuses a crossing earns are granted once and credited once, and the next day in
// Japan starts from nothing. Fresh nonce-prefixed ids, so it also runs on a shared database.
import { describe, expect, it } from 'vitest';
import { dayRaceEntry, missionBonuses, type DayRaceEntry } from '../../core/missions.ts';
import type { Bonus, Store } from '../../core/ports.ts';
import { settlementIdOf } from '../../core/settlement-record.ts';
import { storeRunner, type StoreUnderTest } from './fresh-store.ts';

const RULES = { medalsPerHit: 10, hitsTodayTarget: 3, hitsTodayMedals: 100, firstTrifectaHitMedals: 200 };

function apply(store: Store, userId: string, raceId: string, day: string, hits: number, trifectaHits = 0): Promise<readonly Bonus[]> {
  const method = store.applyDayProgress?.bind(store);
  if (method === undefined) throw new Error('this Store does not implement applyDayProgress(), which the pipeline needs');
  const facts = { settlementId: settlementIdOf(raceId, userId, 1), userId, hits, trifectaHits };
  const entry: DayRaceEntry = dayRaceEntry(facts, raceId, day);
  return method(entry, (before) => missionBonuses(facts, before, RULES).bonuses);
}

const kinds = (bonuses: readonly Bonus[]): string[] => bonuses.map((b) => b.bonusId.split(':')[1] as string).sort();

export function describeDayProgressContract(name: string, makeStore: () => Promise<StoreUnderTest>, opts: { readonly testTimeoutMs?: number; readonly concurrency?: number } = {}): void {
  const timeout = opts.testTimeoutMs ?? 30_000;
  const concurrency = opts.concurrency ?? 6;
  const withStore = storeRunner(makeStore, 'd');
  const bonusesOf = async (store: Store, p: string): Promise<string[]> => ((await store.readback?.bonuses()) ?? []).filter((b) => b.userId.startsWith(p)).map((b) => b.bonusId).sort();

  describe(`Store contract, day missions: ${name}`, () => {
    it('counts the races of a day once each: 2 hits in one race and 1 in another grant "3 hits today" once', () =>
      withStore(async (store, p) => {
        const u = `${p}u1`;
        await store.putUsers([{ userId: u, cash: 0, medals: 1_000 }]);
        expect(kinds(await apply(store, u, `${p}rA`, '2026-11-21', 2))).toEqual(['hit']);
        // A redelivery of race A's `settled`: counted already, nothing granted, nothing credited.
        expect(await apply(store, u, `${p}rA`, '2026-11-21', 2)).toEqual([]);
        const crossing = await apply(store, u, `${p}rB`, '2026-11-21', 1);
        expect(kinds(crossing)).toEqual(['hit', 'hits-today']);
        expect(crossing.find((b) => b.bonusId.includes('hits-today'))?.bonusId).toBe(`bonus:hits-today:3:${u}:2026-11-21`);
        expect(await apply(store, u, `${p}rB`, '2026-11-21', 1)).toEqual([]);
        // More hits the same day: no second "3 hits today".
        expect(kinds(await apply(store, u, `${p}rC`, '2026-11-21', 3))).toEqual(['hit']);
        // The next day in Japan starts from nothing.
        expect(kinds(await apply(store, u, `${p}rD`, '2026-11-22', 2))).toEqual(['hit']);
        if (store.readback !== undefined) {
          // 1,000 + hit medals 10 x (2 + 1 + 3 + 2) + 100 for the crossing.
          expect(await store.readback.balances(u)).toEqual({ userId: u, cash: 0, medals: 1_180 });
          expect(await bonusesOf(store, p)).toHaveLength(5);
        }
      }), timeout);

    it('counts each race once under concurrent redeliveries and concurrent races of one user', () =>
      withStore(async (store, p) => {
        const u = `${p}u1`;
        await store.putUsers([{ userId: u, cash: 0, medals: 0 }]);
        // Races A and B (one hit each, B's a trifecta) each delivered `concurrency` times, all at
        // once: 2 hits in all, so no "3 hits today" however many deliveries were counted.
        const calls = [`${p}rA`, `${p}rB`].flatMap((raceId) => Array.from({ length: concurrency }, () => apply(store, u, raceId, '2026-11-21', 1, raceId.endsWith('B') ? 1 : 0)));
        const granted = (await Promise.all(calls)).flat();
        expect(kinds(granted)).toEqual(['first-trifecta', 'hit', 'hit']);
        // The third hit of the day crosses 3, once, however it is delivered.
        const crossing = (await Promise.all(Array.from({ length: concurrency }, () => apply(store, u, `${p}rC`, '2026-11-21', 1)))).flat();
        expect(kinds(crossing)).toEqual(['hit', 'hits-today']);
        const ids = [...granted, ...crossing].map((b) => b.bonusId).sort();
        expect(new Set(ids).size).toBe(ids.length);
        if (store.readback !== undefined) {
          expect(await store.readback.balances(u)).toEqual({ userId: u, cash: 0, medals: 30 + 100 + 200 });
          expect(await bonusesOf(store, p)).toEqual(ids);
        }
      }), timeout);

    it('refuses an entry without a proper day or with impossible hit counts, changing nothing', () =>
      withStore(async (store, p) => {
        const u = `${p}u1`;
        await store.putUsers([{ userId: u, cash: 0, medals: 0 }]);
        await expect(apply(store, u, `${p}rA`, '21/11/2026', 1)).rejects.toThrow(/YYYY-MM-DD/);
        await expect(apply(store, u, `${p}rA`, '2026-11-21', 1, 2)).rejects.toThrow(/inconsistent/);
        // The refused calls counted nothing: the race still counts (and earns) once.
        expect(kinds(await apply(store, u, `${p}rA`, '2026-11-21', 1))).toEqual(['hit']);
      }), timeout);
  });
}
