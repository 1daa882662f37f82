// A `settled` message is believed only as far as the store agrees with it. Post-settle grants
// bonuses from its hits and marks the user terminal for the ranking barrier, and notify tells the
// user the amounts: a forged or corrupt message (well-formed, a real user and race) would grant
// medals, let the barrier pass before the user settled, or show a payout that never happened. So
// both read the stored settlement totals of (race, user) first; a message naming no stored
// settlement, or facts other than the stored ones, is dead-lettered with the reason, and the
// dead-letter intake does not take it for the user's own failure (dead-letter-intake.ts).
import type { Delivery } from '../core/ports.ts';
import { TOPICS } from '../core/topology.ts';
import { storeMethod, type HandlerDeps } from './context.ts';
import { deadLetter } from './dead-letter.ts';
import type { SettledMsg } from './wire.ts';

/** Reason codes of a `settled` message the store contradicts: about the message, not the user. */
export const SETTLED_REFUSALS = ['SETTLED.UNKNOWN', 'SETTLED.MISMATCH'] as const;

/** The facts in which the message differs from the stored totals, as `field message/stored`. */
function differences(m: SettledMsg, stored: { settlementId: string; cash: number; medals: number; hits: number; trifectaHits?: number }): string[] {
  const out: string[] = [];
  const check = (field: string, got: string | number, want: string | number | undefined): void => {
    if (want !== undefined && got !== want) out.push(`${field} ${got}/${want}`);
  };
  check('settlementId', m.settlementId, stored.settlementId);
  check('cash', m.cash, stored.cash);
  check('medals', m.medals, stored.medals);
  check('hits', m.hits, stored.hits);
  check('trifectaHits', m.trifectaHits, stored.trifectaHits);
  return out;
}

/** True when the store holds this settlement as the message says; otherwise the message is dead-lettered (and acked). */
export async function settledAgreesWithStore(deps: HandlerDeps, d: Delivery, m: SettledMsg): Promise<boolean> {
  const stored = await storeMethod(deps.store, 'getSettlementTotals')(m.raceId, m.userId);
  let reason: string | undefined;
  if (stored === undefined) reason = `SETTLED.UNKNOWN: no settlement of user ${m.userId} in race ${m.raceId} is stored; the message is forged or misrouted`;
  else {
    const diff = differences(m, stored);
    if (diff.length > 0) reason = `SETTLED.MISMATCH: user ${m.userId} in race ${m.raceId}: the message says what the stored settlement does not (message/stored: ${diff.join(', ')})`;
  }
  if (reason === undefined) return true;
  deps.counters.deadLettered++;
  await deadLetter(deps.bus, TOPICS.settled, d, reason);
  return false;
}
