// `buildRaceDay(spec, seed)`: a generated day in the RaceDay shape runners consume. Races and
// results are decided up front; users are built on first access (2,000,000 objects for the grand
// prix); tickets stream in placement order, in batches, again from the seed on every call.
import type { UserAccount } from '../core/ports.ts';
import type { Ticket } from '../core/ticket.ts';
import { weightOfUser } from './activity.ts';
import { userAccount, userIdOf } from './bettors.ts';
import { LIMITS } from './limits.ts';
import type { RaceDay, RacePlan, TicketBatch } from './model.ts';
import { buildPlan, type DayPlan, type PlannedRace } from './plan.ts';
import type { ScenarioSpec } from './spec.ts';
import { EVENT_TICKET, openDayStream } from './stream.ts';

function racePlan(r: PlannedRace, spec: ScenarioSpec): RacePlan {
  const s = r.slot;
  return {
    raceId: s.raceId,
    venue: s.venue,
    sport: r.field.sport,
    riders: r.field.riders,
    opensAtMs: s.opensAtMs,
    closeAtMs: s.closeAtMs,
    postAtMs: s.postAtMs,
    resultAtMs: s.resultAtMs,
    scratched: r.scratched,
    result: r.result,
    ...(Object.keys(spec.returnRates).length > 0 ? { returnRates: spec.returnRates } : {}),
    outsidePools: r.outsidePools,
    ticketCount: r.ticketCount,
    strengths: r.strengths,
  };
}

export function planUsers(plan: DayPlan): UserAccount[] {
  const b = { tickets: plan.tickets, totalWeight: plan.activity.totalWeight, medalShare: plan.spec.medalShare, stakes: plan.stakes };
  const users = new Array<UserAccount>(plan.users);
  for (let i = 0; i < plan.users; i++) users[i] = userAccount(i, plan.userDigits, weightOfUser(plan.activity, i), b);
  return users;
}

/** Tickets in placement order, `batchSize` at a time (the last batch may be shorter). */
export function* planTicketBatches(plan: DayPlan, batchSize: number = LIMITS.ticketBatchSize): Generator<TicketBatch> {
  const stream = openDayStream(plan);
  const cur = stream.cursor;
  const userIds = new Map<number, string>();
  let tickets: Ticket[] = [];
  let placedAtMs: number[] = [];
  while (stream.next()) {
    if (cur.kind !== EVENT_TICKET) continue;
    const race = cur.race.race;
    const table = race.combos[cur.typeSlot];
    if (table === undefined) throw new Error(`invariant violated: bet type slot ${cur.typeSlot} in race ${race.slot.raceId}`);
    // Heavy bettors recur, so their ids are cached; the cache is bounded by clearing it when full.
    let userId = userIds.get(cur.userIndex);
    if (userId === undefined) {
      if (userIds.size >= LIMITS.userIdCacheMax) userIds.clear();
      userId = userIdOf(cur.userIndex, plan.userDigits);
      userIds.set(cur.userIndex, userId);
    }
    tickets.push({
      ticketId: `t${cur.ticketSeq}`,
      userId,
      raceId: race.slot.raceId,
      betType: table.betType,
      combination: table.texts[cur.comboIndex] as string,
      stake: cur.stake,
      currency: cur.medal ? 'medal' : 'cash',
    });
    placedAtMs.push(cur.placedAtMs);
    if (tickets.length === batchSize) {
      yield { tickets, placedAtMs };
      tickets = [];
      placedAtMs = [];
    }
  }
  if (tickets.length > 0) yield { tickets, placedAtMs };
}

export function buildRaceDay(spec: ScenarioSpec, seed: number): RaceDay {
  const plan = buildPlan(spec, seed);
  let users: UserAccount[] | undefined;
  return {
    name: spec.name,
    seed,
    races: plan.races.map((r) => racePlan(r, spec)),
    get users() {
      users ??= planUsers(plan);
      return users;
    },
    ticketBatches: () => planTicketBatches(plan),
    ticketCount: plan.tickets,
    plan,
  };
}
