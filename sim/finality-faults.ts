// The simulator's money-safety faults: users holding a ticket the store accepted but the pure
// core refuses (their settlement must go to the dead letters, and the race must still be ranked),
// and results published again during the race, the same one (a duplicate, answered idempotently)
// and different ones (a conflicting correction or a void, which must be refused with
// RESULT.ALREADY_FINAL and change nothing). The checkers for them are in check-terminal.ts.
import type { Store, UserAccount } from '../core/ports.ts';
import type { RaceResult } from '../core/race-result.ts';
import type { SeededRng } from '../core/rng.ts';
import { betTypesSold } from '../core/sports.ts';
import type { Ticket } from '../core/ticket.ts';
import type { RacePlan } from '../scenarios/model.ts';

/** A user added to the world whose only ticket the pure core refuses (a rider the field does not have). */
export interface RejectableUser {
  readonly account: UserAccount;
  readonly ticket: Ticket;
}

/** An official result published again at `atMs` after the first one was recorded. */
export interface Republication {
  readonly atMs: number;
  readonly resultVersion: number;
  readonly result: RaceResult;
  /** The same result as the first (a duplicate) or a different one (must be refused). */
  readonly conflicting: boolean;
}

export interface FinalityPlan {
  readonly rejectable: readonly RejectableUser[];
  readonly republications: readonly Republication[];
}

export const NO_FINALITY_FAULTS: FinalityPlan = { rejectable: [], republications: [] };

const REJECTABLE_USERS_MAX = 2;
/** Riders of the widest field any sport runs (9-rider keirin). */
const WIDEST_FIELD_RIDERS = 9;
const REPUBLICATIONS_MAX = 3;

/**
 * A stored-but-refused ticket: an exacta naming a rider the field does not have. Stores check a
 * bulk-loaded combination against the race's field, or against the widest field while the race
 * is not known yet (core/combination.ts loadedTicketCombination), so loaded before its race it is
 * accepted, and the pure settlement refuses it (BET.COMBINATION_INVALID). A 9-rider field has no
 * such rider: no refused ticket then.
 */
function refusedTicket(race: RacePlan, userId: string, n: number, rng: SeededRng): Ticket | undefined {
  const field = { sport: race.sport, riders: race.riders };
  if (race.riders >= WIDEST_FIELD_RIDERS || !betTypesSold(field).includes('exacta')) return undefined;
  const absent = rng.int(race.riders + 1, WIDEST_FIELD_RIDERS);
  const other = rng.int(1, race.riders);
  // Medal stake: the cash pools (and so every other user's payout) are the same with or without it.
  return { ticketId: `tx${String(n).padStart(5, '0')}`, userId, raceId: race.raceId, betType: 'exacta', combination: `${absent}-${other}`, stake: 100, currency: 'medal' };
}

/** Another official result than `result`: the finishing order reversed, or void. */
function otherResult(race: RacePlan, rng: SeededRng): RaceResult {
  const r = race.result;
  if (r.status === 'void' || rng.int(0, 2) === 0) {
    if (r.status !== 'void') return { status: 'void' };
    const riders = Array.from({ length: race.riders }, (_, i) => i + 1).filter((x) => !race.scratched.includes(x));
    return { status: 'official', order: riders.map((x) => [x]) };
  }
  const reversed = [...r.order].reverse();
  return JSON.stringify(reversed) === JSON.stringify(r.order) ? { status: 'void' } : { status: 'official', order: reversed };
}

export function drawFinalityPlan(rng: SeededRng, race: RacePlan, horizonMs: number): FinalityPlan {
  const rejectable: RejectableUser[] = [];
  for (let i = 1, n = rng.int(0, REJECTABLE_USERS_MAX); i <= n; i++) {
    const userId = `ux${String(i).padStart(4, '0')}`;
    const ticket = refusedTicket(race, userId, i, rng);
    if (ticket !== undefined) rejectable.push({ account: { userId, cash: 0, medals: ticket.stake }, ticket });
  }
  const republications: Republication[] = [];
  for (let i = rng.int(0, REPUBLICATIONS_MAX); i > 0; i--) {
    const conflicting = rng.int(0, 1) === 0;
    const atMs = rng.int(0, horizonMs);
    const resultVersion = rng.int(1, 3);
    republications.push({ atMs, resultVersion, result: conflicting ? otherResult(race, rng) : race.result, conflicting });
  }
  return { rejectable, republications };
}

/**
 * Loads the rejectable users and their tickets; call it before the day is loaded (before its
 * races are put), so the store checks the combinations against the widest field. Balances are
 * taken as already debited, as loadDay does.
 */
export async function loadRejectableUsers(store: Store, plan: FinalityPlan): Promise<void> {
  if (plan.rejectable.length === 0) return;
  await store.putUsers(plan.rejectable.map(({ account, ticket }) => ({ userId: account.userId, cash: account.cash - (ticket.currency === 'cash' ? ticket.stake : 0), medals: account.medals - (ticket.currency === 'medal' ? ticket.stake : 0) })));
  await store.loadTickets(plan.rejectable.map((r) => r.ticket));
}
