// The bonuses checker: the store's bonuses are exactly the day's expected bonuses (expected.ts
// expectedBonuses: each user's whole Japan day at once), every id granted once with the expected
// medals. Day missions span races, so this checks the whole day, not race by race.
import type { StoreReadback } from '../core/ports.ts';
import type { ExpectedWorld } from './expected.ts';

export const BONUS_CHECKER = 'bonuses-exactly-once';

export async function checkDayBonuses(expected: ExpectedWorld, rb: StoreReadback, report: (checker: string, message: string) => void): Promise<void> {
  const want = new Map<string, number>();
  for (const b of expected.bonuses) {
    if (want.has(b.bonusId)) throw new Error(`invariant violated: the expected world has bonus ${b.bonusId} twice`);
    want.set(b.bonusId, b.medals);
  }
  const gotIds = new Set<string>();
  for (const b of await rb.bonuses()) {
    if (gotIds.has(b.bonusId)) report(BONUS_CHECKER, `bonus ${b.bonusId} granted twice`);
    gotIds.add(b.bonusId);
    if (want.get(b.bonusId) !== b.medals) report(BONUS_CHECKER, `bonus ${b.bonusId} of ${b.medals} medals was not expected (expected ${want.get(b.bonusId)})`);
  }
  for (const id of want.keys()) if (!gotIds.has(id)) report(BONUS_CHECKER, `bonus ${id} was never granted`);
}
