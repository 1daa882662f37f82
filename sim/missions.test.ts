// Proves the simulator's days exercise day missions where they can go wrong, and that the expected
// world and its checker see the difference: the sim days have users whose "3 hits today" needs
// several races, across UTC midnight within one Japan day, beside races of the next Japan day that
// share a UTC date; the expected bonuses count a day in Japan whatever order races settle in; and
// the bonus checker reports a missing, an unexpected and a wrongly sized bonus.
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../backends/memory/index.ts';
import { DEFAULT_MISSION_RULES, japanDayOf, settlementFacts } from '../core/missions.ts';
import { createRng } from '../core/rng.ts';
import { checkDayBonuses } from './check-missions.ts';
import { expectedBonuses, expectedWorld, japanDateOfInstant } from './expected.ts';
import { SIM_DAY_POST_TIMES, simRaceDay } from './workload.ts';

const SEEDS = 150;
const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('sim days for day missions', () => {
  it('put races of one Japan day on two UTC dates, and the next Japan day on a UTC date shared with this one', () => {
    const japan = SIM_DAY_POST_TIMES.map((ms) => japanDayOf(ms));
    const utc = SIM_DAY_POST_TIMES.map(utcDate);
    expect(japan).toEqual(['2026-11-21', '2026-11-21', '2026-11-21', '2026-11-22']);
    expect(utc).toEqual(['2026-11-20', '2026-11-21', '2026-11-21', '2026-11-21']);
    for (const ms of SIM_DAY_POST_TIMES) expect(japanDateOfInstant(ms)).toBe(japanDayOf(ms));
  });

  it(`reach "3 hits today" across races, across UTC midnight, in ${SEEDS} seeds`, () => {
    let crossRace = 0;
    let crossUtcMidnight = 0;
    let multiRaceDays = 0;
    let nextJapanDay = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const day = simRaceDay(seed, createRng(`raceday-sim/smoke/${seed}`).fork('workload'));
      if (day.races.length >= 2) multiRaceDays++;
      if (day.races.some((r) => japanDayOf(r.postAtMs) === '2026-11-22')) nextJapanDay++;
      const world = expectedWorld(day);
      const perUserDay = new Map<string, { hits: number; max: number; utc: Set<string> }>();
      for (const race of world.races) {
        for (const u of race.users.values()) {
          const hits = settlementFacts(u.settlement).hits;
          if (hits === 0) continue;
          const key = `${u.userId}/${japanDayOf(race.race.postAtMs)}`;
          const d = perUserDay.get(key) ?? { hits: 0, max: 0, utc: new Set<string>() };
          d.hits += hits;
          d.max = Math.max(d.max, hits);
          d.utc.add(utcDate(race.race.postAtMs));
          perUserDay.set(key, d);
        }
      }
      for (const d of perUserDay.values()) {
        if (d.hits < DEFAULT_MISSION_RULES.hitsTodayTarget || d.max >= DEFAULT_MISSION_RULES.hitsTodayTarget) continue;
        crossRace++;
        if (d.utc.size > 1) crossUtcMidnight++;
      }
    }
    expect(multiRaceDays).toBe(SEEDS);
    expect(nextJapanDay).toBeGreaterThan(SEEDS / 4);
    expect(crossRace).toBeGreaterThan(SEEDS);
    expect(crossUtcMidnight).toBeGreaterThan(SEEDS / 4);
  });

  it('expects the day bonuses whatever order the races settled in', () => {
    const day = simRaceDay(11, createRng('raceday-sim/smoke/11').fork('workload'));
    const world = expectedWorld(day);
    const settled = world.races.flatMap((r) => [...r.users.values()].map((u) => ({ settlement: u.settlement, postAtMs: r.race.postAtMs })));
    const ids = (list: typeof settled) => expectedBonuses(list).map((b) => `${b.bonusId}=${b.medals}`).sort();
    expect(ids([...settled].reverse())).toEqual(ids(settled));
    expect(world.bonuses.some((b) => b.bonusId.startsWith('bonus:hits-today:'))).toBe(true);
  });

  it('reports a missing, an unexpected and a wrongly sized bonus', async () => {
    const day = simRaceDay(11, createRng('raceday-sim/smoke/11').fork('workload'));
    const world = expectedWorld(day);
    const store = createMemoryStore();
    await store.putUsers(day.users);
    const [first, second, ...rest] = world.bonuses;
    if (first === undefined || second === undefined) throw new Error('seed 11 has fewer than two bonuses');
    await store.grantBonuses([...rest, { ...second, medals: second.medals + 1 }, { bonusId: 'bonus:extra', userId: first.userId, medals: 5, reason: 'x' }]);
    const found: string[] = [];
    await checkDayBonuses(world, store.readback, (checker, message) => found.push(`${checker}: ${message}`));
    expect(found).toEqual([
      `bonuses-exactly-once: bonus ${second.bonusId} of ${second.medals + 1} medals was not expected (expected ${second.medals})`,
      'bonuses-exactly-once: bonus bonus:extra of 5 medals was not expected (expected undefined)',
      `bonuses-exactly-once: bonus ${first.bonusId} was never granted`,
    ]);
  });
});
