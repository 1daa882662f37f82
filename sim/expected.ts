// What the world must look like after a race day, computed independently of the pipeline: the
// pools straight from the scenario's tickets, each race's payout table and every user's settlement
// from the pure core, the ranking of each race from its settlements, and the day's bonuses from
// the mission rules applied to each user's whole day at once (expectedBonuses). The checkers
// compare the store, the bus and the client against this.
import { encodeCombination, parseCombination } from '../core/combination.ts';
import { DEFAULT_MISSION_RULES, firstTrifectaBonusId, hitBonusId, hitsTodayBonusId, settlementFacts, type MissionRules } from '../core/missions.ts';
import { computePayoutTable } from '../core/payout.ts';
import type { Bonus, CashPools } from '../core/ports.ts';
import { RANKING_NOTIFICATION_TOP, rankSettlements, type RankingEntry } from '../core/ranking.ts';
import type { Settlement } from '../core/settlement-record.ts';
import { settleUserTickets } from '../core/settlement.ts';
import type { BetType, Field } from '../core/sports.ts';
import type { Ticket } from '../core/ticket.ts';
import type { RaceDay, RacePlan } from '../scenarios/model.ts';
import { dayTickets } from './workload.ts';
import { LIMITS } from '../pipeline/settings.ts';

/** A user's settlement in one race. */
export interface ExpectedUser {
  readonly userId: string;
  readonly settlement: Settlement;
}

export interface ExpectedRace {
  readonly race: RacePlan;
  readonly tickets: ReadonlyMap<string, Ticket>;
  readonly outcomeByTicket: ReadonlyMap<string, Settlement['outcomes'][number]>;
  readonly users: ReadonlyMap<string, ExpectedUser>;
  readonly ranking: readonly RankingEntry[];
}

/** A user with tickets at the end of the day: balances after every race and bonus. */
export interface ExpectedAccount {
  readonly userId: string;
  readonly cash: number;
  readonly medals: number;
  readonly bonuses: readonly Bonus[];
}

export interface ExpectedWorld {
  readonly races: readonly ExpectedRace[];
  readonly accounts: ReadonlyMap<string, ExpectedAccount>;
  /** Every bonus of the day, each once. */
  readonly bonuses: readonly Bonus[];
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

function groupBy<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const list = out.get(key);
    if (list === undefined) out.set(key, [item]);
    else list.push(item);
  }
  return out;
}

/** `leftOut` holds `raceId/userId` keys of users never settled in that race (dead-lettered): their tickets stay open. */
function expectedRace(race: RacePlan, tickets: readonly Ticket[], leftOut: ReadonlySet<string>): ExpectedRace {
  const field: Field = { sport: race.sport, riders: race.riders };
  const table = computePayoutTable({ field, scratched: race.scratched, result: race.result, pools: poolsOf(field, tickets) });
  const users = new Map<string, ExpectedUser>();
  const outcomeByTicket = new Map<string, Settlement['outcomes'][number]>();
  for (const [userId, mine] of groupBy(tickets, (t) => t.userId)) {
    if (leftOut.has(`${race.raceId}/${userId}`)) continue;
    const r = settleUserTickets({ raceId: race.raceId, userId, resultVersion: 1, tickets: mine, table, field });
    if (!r.ok) throw new Error(`invariant violated: scenario user ${userId} cannot be settled in ${race.raceId}: ${r.error.message}`);
    for (const o of r.value.outcomes) outcomeByTicket.set(o.ticketId, o);
    users.set(userId, { userId, settlement: r.value });
  }
  const ranking = rankSettlements([...users.values()].map((u) => u.settlement), Math.min(LIMITS.rankingTop, RANKING_NOTIFICATION_TOP));
  return { race, tickets: new Map(tickets.map((t) => [t.ticketId, t])), outcomeByTicket, users, ranking };
}

/**
 * The date in Japan of an instant, the simple way: Date's UTC calendar nine hours on. Kept apart
 * from the core's integer arithmetic (missions.ts japanDayOf) on purpose, so the two check each other.
 */
export function japanDateOfInstant(epochMs: number): string {
  return new Date(epochMs + 9 * 3_600_000).toISOString().slice(0, 10);
}

/**
 * The day's bonuses, from each user's whole day at once rather than settlement by settlement as
 * the pipeline grants them: a hit bonus per settlement with hits, "N hits today" when the day's
 * hits add up to N, the first trifecta hit when any race of the day had one. Whatever order the
 * races settle in, the day ends with exactly these.
 */
export function expectedBonuses(settled: readonly { readonly settlement: Settlement; readonly postAtMs: number }[], rules: MissionRules = DEFAULT_MISSION_RULES): Bonus[] {
  const bonuses: Bonus[] = [];
  const days = groupBy(settled, (s) => `${s.settlement.userId}\u0000${japanDateOfInstant(s.postAtMs)}`);
  for (const list of days.values()) {
    const first = list[0] as (typeof list)[number];
    const userId = first.settlement.userId;
    const day = japanDateOfInstant(first.postAtMs);
    let dayHits = 0;
    let trifecta = false;
    for (const { settlement } of list) {
      const { hits, trifectaHits } = settlementFacts(settlement);
      dayHits += hits;
      trifecta ||= trifectaHits > 0;
      if (hits > 0 && rules.medalsPerHit > 0) bonuses.push({ bonusId: hitBonusId(settlement.settlementId), userId, medals: hits * rules.medalsPerHit, reason: `${hits} hits` });
    }
    if (dayHits >= rules.hitsTodayTarget && rules.hitsTodayMedals > 0) {
      bonuses.push({ bonusId: hitsTodayBonusId(userId, day, rules.hitsTodayTarget), userId, medals: rules.hitsTodayMedals, reason: `${rules.hitsTodayTarget} hits today` });
    }
    if (trifecta && rules.firstTrifectaHitMedals > 0) bonuses.push({ bonusId: firstTrifectaBonusId(userId, day), userId, medals: rules.firstTrifectaHitMedals, reason: 'first trifecta hit today' });
  }
  return bonuses;
}

/**
 * The expected end state of a race day of any number of races; the users of `leftOut`
 * (`raceId/userId`) were dead-lettered in that race, never settled: no settlement, ranking entry,
 * notification or day progress from it.
 */
export function expectedWorld(day: RaceDay, leftOut: ReadonlySet<string> = new Set()): ExpectedWorld {
  const all = dayTickets(day);
  const byRace = groupBy(all, (t) => t.raceId);
  const races = day.races.map((race) => expectedRace(race, byRace.get(race.raceId) ?? [], leftOut));
  const settled = races.flatMap((r) => [...r.users.values()].map((u) => ({ settlement: u.settlement, postAtMs: r.race.postAtMs })));
  const bonuses = expectedBonuses(settled);
  const bonusesOf = groupBy(bonuses, (b) => b.userId);
  const settlementsOf = groupBy(settled, (s) => s.settlement.userId);
  const ticketsOf = groupBy(all, (t) => t.userId);
  const accounts = new Map<string, ExpectedAccount>();
  for (const account of day.users) {
    const tickets = ticketsOf.get(account.userId);
    if (tickets === undefined) continue;
    let cash = account.cash;
    let medals = account.medals;
    for (const t of tickets) {
      if (t.currency === 'cash') cash -= t.stake;
      else medals -= t.stake;
    }
    for (const { settlement } of settlementsOf.get(account.userId) ?? []) {
      cash += settlement.cashDelta;
      medals += settlement.medalDelta;
    }
    const mine = bonusesOf.get(account.userId) ?? [];
    for (const b of mine) medals += b.medals;
    accounts.set(account.userId, { userId: account.userId, cash, medals, bonuses: mine });
  }
  return { races, accounts, bonuses };
}
