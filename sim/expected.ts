// What the world must look like after a race day, computed independently of the pipeline: the
// pools straight from the scenario's tickets, the payout table and every user's settlement from
// the pure core, the bonuses from the mission rules, and the ranking from all settlements. The
// checkers compare the store, the bus and the client against this.
import { encodeCombination, parseCombination } from '../core/combination.ts';
import { freshDay, missionBonuses, settlementFacts } from '../core/missions.ts';
import { computePayoutTable } from '../core/payout.ts';
import type { Bonus, CashPools } from '../core/ports.ts';
import { RANKING_NOTIFICATION_TOP, rankSettlements, type RankingEntry } from '../core/ranking.ts';
import type { Settlement } from '../core/settlement-record.ts';
import { settleUserTickets } from '../core/settlement.ts';
import type { BetType, Field } from '../core/sports.ts';
import type { Ticket } from '../core/ticket.ts';
import type { RaceDay, RacePlan } from '../scenarios/model.ts';
import { LIMITS } from '../pipeline/settings.ts';

export interface ExpectedUser {
  readonly userId: string;
  readonly settlement: Settlement;
  readonly bonuses: readonly Bonus[];
  readonly cash: number;
  readonly medals: number;
}

export interface ExpectedRace {
  readonly race: RacePlan;
  readonly tickets: ReadonlyMap<string, Ticket>;
  readonly outcomeByTicket: ReadonlyMap<string, Settlement['outcomes'][number]>;
  readonly users: ReadonlyMap<string, ExpectedUser>;
  readonly ranking: readonly RankingEntry[];
}

function poolsOf(field: Field, tickets: readonly Ticket[]): CashPools {
  const pools: Partial<Record<BetType, Map<number, number>>> = {};
  for (const t of tickets) {
    if (t.currency !== 'cash') continue;
    const parsed = parseCombination(t.betType, t.combination, field);
    if (!parsed.ok) throw new Error(`invariant violated: scenario ticket ${t.ticketId} has an invalid combination`);
    const pool = (pools[t.betType] ??= new Map());
    const code = encodeCombination(parsed.value);
    pool.set(code, (pool.get(code) ?? 0) + t.stake);
  }
  return pools;
}

/** The expected end state of a one-race day (the simulator's worlds have one race). */
export function expectedWorld(day: RaceDay, raceDay: string): ExpectedRace {
  const race = day.races[0];
  if (race === undefined) throw new Error('invariant violated: a sim world has a race');
  const field: Field = { sport: race.sport, riders: race.riders };
  const all: Ticket[] = [];
  for (const b of day.ticketBatches()) all.push(...b.tickets);
  const table = computePayoutTable({ field, scratched: race.scratched, result: race.result, pools: poolsOf(field, all) });
  const byUser = new Map<string, Ticket[]>();
  for (const t of all) {
    const list = byUser.get(t.userId);
    if (list === undefined) byUser.set(t.userId, [t]);
    else list.push(t);
  }
  const users = new Map<string, ExpectedUser>();
  const outcomeByTicket = new Map<string, Settlement['outcomes'][number]>();
  for (const account of day.users) {
    const tickets = byUser.get(account.userId);
    if (tickets === undefined) continue;
    const r = settleUserTickets({ raceId: race.raceId, userId: account.userId, resultVersion: 1, tickets, table, field });
    if (!r.ok) throw new Error(`invariant violated: scenario user ${account.userId} cannot be settled: ${r.error.message}`);
    const s = r.value;
    for (const o of s.outcomes) outcomeByTicket.set(o.ticketId, o);
    const { bonuses } = missionBonuses(settlementFacts(s), freshDay(raceDay));
    let cashStake = 0;
    let medalStake = 0;
    for (const t of tickets) {
      if (t.currency === 'cash') cashStake += t.stake;
      else medalStake += t.stake;
    }
    const bonusMedals = bonuses.reduce((n, b) => n + b.medals, 0);
    users.set(account.userId, {
      userId: account.userId,
      settlement: s,
      bonuses,
      cash: account.cash - cashStake + s.cashDelta,
      medals: account.medals - medalStake + s.medalDelta + bonusMedals,
    });
  }
  const ranking = rankSettlements([...users.values()].map((u) => u.settlement), Math.min(LIMITS.rankingTop, RANKING_NOTIFICATION_TOP));
  return { race, tickets: new Map(all.map((t) => [t.ticketId, t])), outcomeByTicket, users, ranking };
}
