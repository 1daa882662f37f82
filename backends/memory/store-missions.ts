// Day missions on the memory store: each user's day progress as one entry per (user, day, race),
// recorded together with the bonuses it earns in one transaction (Store.applyDayProgress). The
// transaction touches the user, so two races of one user settling at once conflict and one of
// them re-reads the progress the other committed, as on Spanner.
import { checkDayRaceEntry, dayProgressOf, type DayRaceEntry } from '../../core/missions.ts';
import type { Bonus, Store } from '../../core/ports.ts';
import { invariant } from '../../core/result.ts';
import type { StoreState } from './store-state.ts';
import type { Plan } from './transaction.ts';

export function createDayProgressMethod(state: StoreState, grantPlan: (bonuses: readonly Bonus[]) => Plan<string[]>): NonNullable<Store['applyDayProgress']> {
  const { userIdx, transact } = state;
  // Broken on purpose (checker self-test): a redelivered race counts again and its bonuses are re-granted.
  const brokenBonusOnce = state.options.faults?.brokenBonusOnce === true;
  /** user \u0000 day -> race -> entry. */
  const days = new Map<string, Map<string, DayRaceEntry>>();
  return async (entry, bonusesOf) => {
    checkDayRaceEntry(entry);
    return transact<readonly Bonus[]>(() => {
      const u = userIdx(entry.userId, false);
      invariant(u >= 0, `day progress: user ${entry.userId} is not known [USER.UNKNOWN]`);
      const key = `${entry.userId}\u0000${entry.day}`;
      const counted = days.get(key);
      if (counted?.has(entry.raceId) === true && !brokenBonusOnce) return { result: [] };
      const earlier = [...(counted?.values() ?? [])].filter((e) => e.raceId !== entry.raceId);
      const bonuses = bonusesOf(dayProgressOf(entry.day, earlier));
      for (const b of bonuses) invariant(b.userId === entry.userId, `bonus ${b.bonusId} of ${b.userId} asked with the day progress of ${entry.userId}`);
      const grant = grantPlan(bonuses);
      const fresh = new Set(grant.result);
      return {
        result: bonuses.filter((b) => fresh.delete(b.bonusId)),
        users: [u],
        commit: () => {
          let races = days.get(key);
          if (races === undefined) days.set(key, (races = new Map()));
          races.set(entry.raceId, { ...entry });
          grant.commit?.();
        },
      };
    });
  };
}
