// The simulator's money-safety faults: users holding a ticket the store accepted but the pure
// core refuses (their settlement must go to the dead letters, and the race must still be ranked),
// and results published again during the race, the same one (a duplicate, answered idempotently)
// and different ones (a conflicting correction or a void, which must be refused with
// RESULT.ALREADY_FINAL and change nothing). The checkers for them are in check-terminal.ts.
import { enumerateCombinations, formatCombination } from '../core/combination.ts';
import type { UserAccount } from '../core/ports.ts';
import type { RaceResult } from '../core/race-result.ts';
import type { SeededRng } from '../core/rng.ts';
import { betTypesSold, type BetType } from '../core/sports.ts';
import type { Ticket } from '../core/ticket.ts';
import type { RaceDay, RacePlan } from '../scenarios/model.ts';

/** A user added to the world whose only ticket the pure core refuses (a rider named twice). */
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
const REPUBLICATIONS_MAX = 3;

/** A stored-but-refused ticket: an ordered rider bet naming its first rider twice ("3-3" or "3-3-1"). */
function refusedTicket(race: RacePlan, userId: string, n: number, rng: SeededRng): Ticket | undefined {
  const field = { sport: race.sport, riders: race.riders };
  const types = betTypesSold(field).filter((t): t is BetType => t === 'exacta' || t === 'trifecta');
  const betType = types[rng.int(0, types.length - 1)];
  if (betType === undefined) return undefined;
  const combos = enumerateCombinations(betType, field);
  const valid = combos[rng.int(0, combos.length - 1)];
  if (valid === undefined) return undefined;
  const twice = [valid[0] as number, ...valid.slice(1)];
  twice[1] = twice[0] as number;
  // Medal stake: the cash pools (and so every other user's payout) are the same with or without it.
  return { ticketId: `tx${String(n).padStart(5, '0')}`, userId, raceId: race.raceId, betType, combination: formatCombination(betType, twice), stake: 100, currency: 'medal' };
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

/** The day as loaded into the store: the scenario's day plus the rejectable users and their tickets. */
export function withRejectableUsers(day: RaceDay, plan: FinalityPlan): RaceDay {
  if (plan.rejectable.length === 0) return day;
  const extra = { tickets: plan.rejectable.map((r) => r.ticket), placedAtMs: plan.rejectable.map(() => 0) };
  return {
    ...day,
    users: [...day.users, ...plan.rejectable.map((r) => r.account)],
    ticketBatches: () => [...day.ticketBatches(), extra],
    ticketCount: day.ticketCount + extra.tickets.length,
  };
}
