// Proves missions grant each bonus when it is earned and at most once per user and day: unit
// cases for the hit bonus, the "N hits today" crossing and the first trifecta hit, and a fast-check
// property (seeded, printing its seed on failure) that folds random settlements through a day and
// checks that each daily bonus id appears at most once and exactly when the day's totals earn it;
// then the race day in Japan (integer arithmetic checked against Date's calendar shifted by nine
// hours) and the day progress folded from the races already counted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dayProgressOf,
  dayRaceEntry,
  DEFAULT_MISSION_RULES,
  factsOfSettledMessage,
  freshDay,
  japanDayOf,
  missionBonuses,
  raceDayOf,
  settlementFacts,
  type DayProgress,
  type SettlementFacts,
} from './missions.ts';
import type { Bonus } from './ports.ts';
import { settleUserTickets } from './settlement.ts';

const rules = { medalsPerHit: 10, hitsTodayTarget: 3, hitsTodayMedals: 100, firstTrifectaHitMedals: 200 };

function facts(n: number, hits: number, trifectaHits = 0): SettlementFacts {
  return { settlementId: `stl:r${n}:u1:v1`, userId: 'u1', hits, trifectaHits };
}

describe('missionBonuses', () => {
  it('grants medals per hit with an id derived from the settlement', () => {
    const { bonuses, progress } = missionBonuses(facts(1, 2), freshDay('2026-11-21'), rules);
    expect(bonuses).toEqual([{ bonusId: 'bonus:hit:stl:r1:u1:v1', userId: 'u1', medals: 20, reason: '2 hits' }]);
    expect(progress).toEqual({ day: '2026-11-21', hitsBefore: 2, trifectaHitBefore: false });
    expect(missionBonuses(facts(1, 0), freshDay('d'), rules).bonuses).toEqual([]);
  });

  it('grants "3 hits today" only on the settlement that crosses 3', () => {
    const day: DayProgress = { day: 'd1', hitsBefore: 2, trifectaHitBefore: false };
    const crossing = missionBonuses(facts(2, 2), day, rules);
    expect(crossing.bonuses.map((b) => [b.bonusId, b.medals])).toEqual([
      ['bonus:hit:stl:r2:u1:v1', 20],
      ['bonus:hits-today:3:u1:d1', 100],
    ]);
    const after = missionBonuses(facts(3, 1), crossing.progress, rules);
    expect(after.bonuses.map((b) => b.bonusId)).toEqual(['bonus:hit:stl:r3:u1:v1']);
  });

  it('grants the first trifecta hit once a day, and again on the next day', () => {
    const first = missionBonuses(facts(1, 1, 1), freshDay('d1'), rules);
    expect(first.bonuses.map((b) => b.bonusId)).toContain('bonus:first-trifecta:u1:d1');
    expect(first.progress.trifectaHitBefore).toBe(true);
    const second = missionBonuses(facts(2, 1, 1), first.progress, rules);
    expect(second.bonuses.map((b) => b.bonusId)).not.toContain('bonus:first-trifecta:u1:d1');
    const nextDay = missionBonuses(facts(3, 1, 1), freshDay('d2'), rules);
    expect(nextDay.bonuses.map((b) => b.bonusId)).toContain('bonus:first-trifecta:u1:d2');
  });

  it('reads trifecta hits off a settlement or a settled message, and leaves bonuses off at 0 medals', () => {
    const r = settleUserTickets({
      raceId: 'r1', userId: 'u1', resultVersion: 1, field: { sport: 'keirin', riders: 7 },
      table: { sport: 'keirin', riders: 7, byType: { trifecta: { kind: 'special', per100: 70, winning: [123], refunded: new Set() }, exacta: { kind: 'refunded' } } },
      tickets: [
        { ticketId: 'a', userId: 'u1', raceId: 'r1', betType: 'trifecta', combination: '3-2-1', stake: 100, currency: 'medal' },
        { ticketId: 'b', userId: 'u1', raceId: 'r1', betType: 'exacta', combination: '3-2', stake: 100, currency: 'medal' },
      ],
    });
    if (!r.ok) throw new Error(r.error.message);
    expect(settlementFacts(r.value)).toEqual({ settlementId: 'stl:r1:u1:v1', userId: 'u1', hits: 1, trifectaHits: 1 });
    expect(missionBonuses(r.value, freshDay('d'), rules).bonuses.map((b) => b.bonusId)).toContain('bonus:first-trifecta:u1:d');
    const m = { schemaVersion: 1 as const, raceId: 'r1', userId: 'u1', settlementId: 'stl:r1:u1:v1', cash: 0, medals: 70, hits: 1, resultVersion: 1, publishedAt: 5 };
    expect(factsOfSettledMessage(m).trifectaHits).toBe(0);
    const off = missionBonuses(facts(1, 5, 1), freshDay('d'), { medalsPerHit: 0, hitsTodayTarget: 3, hitsTodayMedals: 0, firstTrifectaHitMedals: 0 });
    expect(off.bonuses).toEqual([]);
    expect(() => missionBonuses(facts(1, 1, 2), freshDay('d'), rules)).toThrow(/inconsistent/);
  });

  it('grants each daily bonus at most once and exactly when the day earns it (property)', () => {
    const day = fc.array(fc.record({ hits: fc.integer({ min: 0, max: 4 }), trifecta: fc.integer({ min: 0, max: 4 }) }), { maxLength: 12 });
    fc.assert(
      fc.property(day, fc.integer({ min: 1, max: 6 }), (settlements, target) => {
        const r = { ...DEFAULT_MISSION_RULES, hitsTodayTarget: target };
        let progress = freshDay('d');
        const granted: Bonus[] = [];
        settlements.forEach((s, i) => {
          const out = missionBonuses(facts(i, s.hits, Math.min(s.trifecta, s.hits)), progress, r);
          granted.push(...out.bonuses);
          progress = out.progress;
        });
        const ids = granted.map((b) => b.bonusId);
        expect(new Set(ids).size).toBe(ids.length);
        const totalHits = settlements.reduce((n, s) => n + s.hits, 0);
        const anyTrifecta = settlements.some((s) => Math.min(s.trifecta, s.hits) > 0);
        expect(ids.includes(`bonus:hits-today:${target}:u1:d`)).toBe(totalHits >= target);
        expect(ids.includes('bonus:first-trifecta:u1:d')).toBe(anyTrifecta);
        expect(granted.filter((b) => b.bonusId.startsWith('bonus:hit:')).reduce((n, b) => n + b.medals, 0)).toBe(totalHits * r.medalsPerHit);
        expect(progress.hitsBefore).toBe(totalHits);
      }),
    );
  });
});

describe('japanDayOf', () => {
  const at = (iso: string) => Date.parse(iso);

  it('is the date in Japan (UTC+9), not the UTC date', () => {
    expect(japanDayOf(at('2026-11-20T14:59:59.999Z'))).toBe('2026-11-20'); // 23:59:59.999 in Japan
    expect(japanDayOf(at('2026-11-20T15:00:00.000Z'))).toBe('2026-11-21'); // midnight in Japan
    expect(japanDayOf(at('2026-11-20T23:45:00Z'))).toBe('2026-11-21'); // UTC says the 20th
    expect(japanDayOf(at('2026-11-21T00:30:00Z'))).toBe('2026-11-21');
    expect(japanDayOf(at('2026-11-21T23:50:00Z'))).toBe('2026-11-22'); // UTC says the 21st
    expect(raceDayOf(at('2026-11-21T23:50:00Z'))).toBe('2026-11-22');
  });

  it('handles year ends, leap days, the epoch and instants before it', () => {
    expect(japanDayOf(at('2024-02-28T15:00:00Z'))).toBe('2024-02-29');
    expect(japanDayOf(at('2023-02-28T15:00:00Z'))).toBe('2023-03-01');
    expect(japanDayOf(at('2026-12-31T15:00:00Z'))).toBe('2027-01-01');
    expect(japanDayOf(at('2100-02-28T15:00:00Z'))).toBe('2100-03-01'); // 2100 is not a leap year
    expect(japanDayOf(at('2000-02-28T15:00:00Z'))).toBe('2000-02-29'); // 2000 is
    expect(japanDayOf(0)).toBe('1970-01-01');
    expect(japanDayOf(-9 * 3_600_000)).toBe('1970-01-01');
    expect(japanDayOf(-9 * 3_600_000 - 1)).toBe('1969-12-31');
    expect(japanDayOf(at('0001-01-01T00:00:00Z') - 9 * 3_600_000)).toBe('0001-01-01');
    expect(japanDayOf(at('9999-12-31T14:59:59.999Z'))).toBe('9999-12-31');
  });

  it('refuses what is not an integer instant in years 0001..9999', () => {
    expect(() => japanDayOf(1.5)).toThrow(/japanDayOf/);
    expect(() => japanDayOf(Number.NaN)).toThrow(/japanDayOf/);
    expect(() => japanDayOf(at('9999-12-31T15:00:00Z'))).toThrow(/japanDayOf/);
  });

  it('agrees with the shifted UTC calendar of Date on any instant (property)', () => {
    const min = Date.parse('0001-01-01T00:00:00Z') - 9 * 3_600_000;
    const max = Date.parse('9999-12-31T14:59:59.999Z');
    fc.assert(
      fc.property(fc.integer({ min, max }), (ms) => {
        expect(japanDayOf(ms)).toBe(new Date(ms + 9 * 3_600_000).toISOString().slice(0, 10));
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('day progress across the races of a day', () => {
  it('folds the counted races into the progress, in any order', () => {
    expect(dayProgressOf('d', [])).toEqual(freshDay('d'));
    const entries = [
      { hits: 2, trifectaHits: 0 },
      { hits: 0, trifectaHits: 0 },
      { hits: 1, trifectaHits: 1 },
    ];
    expect(dayProgressOf('d', entries)).toEqual({ day: 'd', hitsBefore: 3, trifectaHitBefore: true });
    expect(dayProgressOf('d', [...entries].reverse())).toEqual(dayProgressOf('d', entries));
  });

  it('grants "3 hits today" to 2 hits in one race and 1 in another of the same day', () => {
    const a = dayRaceEntry(facts(1, 2), 'rA', '2026-11-21');
    expect(a).toEqual({ userId: 'u1', day: '2026-11-21', raceId: 'rA', settlementId: 'stl:r1:u1:v1', hits: 2, trifectaHits: 0 });
    const first = missionBonuses(facts(1, 2), dayProgressOf('2026-11-21', []), rules);
    expect(first.bonuses.map((b) => b.bonusId)).toEqual(['bonus:hit:stl:r1:u1:v1']);
    const second = missionBonuses(facts(2, 1), dayProgressOf('2026-11-21', [a]), rules);
    expect(second.bonuses.map((b) => b.bonusId)).toEqual(['bonus:hit:stl:r2:u1:v1', 'bonus:hits-today:3:u1:2026-11-21']);
    // The next day starts again from nothing.
    expect(missionBonuses(facts(3, 1), dayProgressOf('2026-11-22', []), rules).bonuses.map((b) => b.bonusId)).toEqual(['bonus:hit:stl:r3:u1:v1']);
  });
});
