// The simulator's built-in race days. The smoke day: one race, a few dozen users with a few
// tickets each, cash and free medals, and now and then a scratch, a dead heat, a faller or a void
// race. The sim day (simRaceDay): two to four such races sharing the users, on two days in Japan,
// so "today" missions are earned across races, including races on either side of midnight UTC
// that are one day in Japan. Everything is drawn from the rng, so a seed is a world. Deliberately
// small: the simulator's value is in how many fault schedules it explores per minute, not in the
// size of one world.
import { enumerateCombinations, formatCombination } from '../core/combination.ts';
import { combinationOfCode, computePayoutTable } from '../core/payout.ts';
import type { UserAccount } from '../core/ports.ts';
import type { RaceResult } from '../core/race-result.ts';
import type { SeededRng } from '../core/rng.ts';
import { betTypesSold, SPORT_SPECS, SPORTS, type BetType, type Field } from '../core/sports.ts';
import type { Currency, Ticket } from '../core/ticket.ts';
import type { RaceDay, RacePlan, TicketBatch } from '../scenarios/model.ts';

export interface SmokeShape {
  readonly usersMin: number;
  readonly usersMax: number;
  readonly ticketsPerUserMax: number;
  /** Largest stake in units of 100. */
  readonly stakeUnitsMax: number;
}

export const SMOKE_SHAPE: SmokeShape = { usersMin: 40, usersMax: 120, ticketsPerUserMax: 4, stakeUnitsMax: 10 };

/** Per-mille chances of the race's irregular outcomes. */
const CHANCE = { scratch: 150, deadHeat: 150, faller: 100, void: 30, medal: 650 } as const;
const chance = (rng: SeededRng, perMille: number): boolean => rng.int(0, 999) < perMille;

function shuffled<T>(items: readonly T[], rng: SeededRng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function drawField(rng: SeededRng): Field {
  const sport = SPORTS[rng.int(0, SPORTS.length - 1)] ?? 'keirin';
  const allowed = SPORT_SPECS[sport].ridersAllowed;
  return { sport, riders: allowed[rng.int(0, allowed.length - 1)] ?? 7 };
}

/** Scratches, then an official order with maybe a dead heat in the top three and a faller. */
function drawResult(field: Field, rng: SeededRng): { scratched: number[]; result: RaceResult } {
  const riders = Array.from({ length: field.riders }, (_, i) => i + 1);
  const scratched = chance(rng, CHANCE.scratch) ? [rng.int(1, field.riders)] : [];
  if (chance(rng, CHANCE.void)) return { scratched, result: { status: 'void' } };
  let finishers = shuffled(riders.filter((r) => !scratched.includes(r)), rng);
  if (chance(rng, CHANCE.faller)) finishers = finishers.slice(0, -1);
  const order: number[][] = finishers.map((r) => [r]);
  if (chance(rng, CHANCE.deadHeat) && order.length >= 3) {
    const at = rng.int(0, 1);
    const merged = [...(order[at] ?? []), ...(order[at + 1] ?? [])].sort((a, b) => a - b);
    order.splice(at, 2, merged);
  }
  return { scratched, result: { status: 'official', order } };
}

/** Picks of a sim-day ticket: the winning combinations per bet type ("favourites", so hits are common enough to reach day missions). */
interface Picks {
  readonly winning: ReadonlyMap<BetType, readonly string[]>;
  readonly perMille: number;
}

function drawTickets(raceId: string, field: Field, users: readonly UserAccount[], shape: SmokeShape, rng: SeededRng, idPrefix = 't', picks?: Picks): Ticket[] {
  const types = betTypesSold(field);
  const combos = new Map<BetType, string[]>();
  for (const t of types) combos.set(t, enumerateCombinations(t, field).map((c) => formatCombination(t, c)));
  const tickets: Ticket[] = [];
  let n = 0;
  for (const u of users) {
    const count = rng.int(1, shape.ticketsPerUserMax);
    for (let i = 0; i < count; i++) {
      const betType = types[rng.int(0, types.length - 1)] as BetType;
      const favourites = picks?.winning.get(betType) ?? [];
      const list = picks !== undefined && favourites.length > 0 && chance(rng, picks.perMille) ? favourites : (combos.get(betType) as string[]);
      const currency: Currency = chance(rng, CHANCE.medal) ? 'medal' : 'cash';
      tickets.push({
        ticketId: `${idPrefix}${String(++n).padStart(6, '0')}`,
        userId: u.userId,
        raceId,
        betType,
        combination: list[rng.int(0, list.length - 1)] as string,
        stake: 100 * rng.int(1, shape.stakeUnitsMax),
        currency,
      });
    }
  }
  return tickets;
}

/** One race day drawn from the rng: the smoke scenario. */
export function smokeRaceDay(seed: number, rng: SeededRng, shape: SmokeShape = SMOKE_SHAPE): RaceDay {
  const field = drawField(rng);
  const raceId = `r${seed}`;
  const userCount = rng.int(shape.usersMin, shape.usersMax);
  const budget = shape.ticketsPerUserMax * shape.stakeUnitsMax * 100;
  const users: UserAccount[] = Array.from({ length: userCount }, (_, i) => ({
    userId: `u${String(i + 1).padStart(5, '0')}`,
    cash: budget + 100 * rng.int(0, 100),
    medals: budget + 100 * rng.int(0, 100),
  }));
  const { scratched, result } = drawResult(field, rng);
  const tickets = drawTickets(raceId, field, users, shape, rng);
  const race: RacePlan = {
    raceId,
    venue: 'sim',
    sport: field.sport,
    riders: field.riders,
    closeAtMs: 0,
    postAtMs: 0,
    resultAtMs: 0,
    scratched,
    result,
  };
  const batch: TicketBatch = { tickets, placedAtMs: tickets.map(() => 0) };
  return {
    name: 'smoke',
    seed,
    races: [race],
    users,
    ticketBatches: () => [batch],
    ticketCount: tickets.length,
  };
}

/**
 * Post times of the sim day's slots, ms since the epoch, and what each tests: day missions count
 * per day in Japan (UTC+9), and two of these fall on another UTC date than their Japan date.
 */
export const SIM_DAY_POST_TIMES: readonly number[] = [
  Date.UTC(2026, 10, 20, 23, 45), // 08:45 on 21 November in Japan, still 20 November in UTC
  Date.UTC(2026, 10, 21, 0, 30), // 09:30 on 21 November in Japan, past midnight UTC: the same day in Japan
  Date.UTC(2026, 10, 21, 11, 0), // 20:00 on 21 November in Japan
  Date.UTC(2026, 10, 21, 23, 50), // 08:50 on 22 November in Japan (21 November in UTC): the next day in Japan
];

/** Per mille of a sim-day user's chance to bet in each race, and of a ticket to pick a winning combination. */
const SIM_DAY_CHANCE = { bets: 650, favourite: 250 } as const;
export const SIM_DAY_SHAPE: SmokeShape = { usersMin: 30, usersMax: 90, ticketsPerUserMax: 3, stakeUnitsMax: 10 };

/** Winning combinations of each bet type the result pays (none for a void race or a refunded type). */
function winningPicks(field: Field, scratched: readonly number[], result: RaceResult): Map<BetType, string[]> {
  const table = computePayoutTable({ field, scratched, result, pools: {} });
  const out = new Map<BetType, string[]>();
  for (const [betType, p] of Object.entries(table.byType) as [BetType, NonNullable<(typeof table.byType)[BetType]>][]) {
    if (p.kind !== 'refunded') out.set(betType, p.winning.map((code) => formatCombination(betType, combinationOfCode(betType, code))));
  }
  return out;
}

/** The sim day: 2 to 4 races in the slots of SIM_DAY_POST_TIMES, sharing one set of users. */
export function simRaceDay(seed: number, rng: SeededRng, shape: SmokeShape = SIM_DAY_SHAPE): RaceDay {
  const userCount = rng.int(shape.usersMin, shape.usersMax);
  const budget = SIM_DAY_POST_TIMES.length * shape.ticketsPerUserMax * shape.stakeUnitsMax * 100;
  const users: UserAccount[] = Array.from({ length: userCount }, (_, i) => ({
    userId: `u${String(i + 1).padStart(5, '0')}`,
    cash: budget + 100 * rng.int(0, 100),
    medals: budget + 100 * rng.int(0, 100),
  }));
  const slots = shuffled(SIM_DAY_POST_TIMES.map((_, i) => i), rng)
    .slice(0, rng.int(2, SIM_DAY_POST_TIMES.length))
    .sort((a, b) => a - b);
  const races: RacePlan[] = [];
  const tickets: Ticket[] = [];
  for (const slot of slots) {
    const raceId = `r${seed}${'abcd'[slot]}`;
    const field = drawField(rng);
    const { scratched, result } = drawResult(field, rng);
    const bettors = users.filter(() => chance(rng, SIM_DAY_CHANCE.bets));
    const picks = { winning: winningPicks(field, scratched, result), perMille: SIM_DAY_CHANCE.favourite };
    for (const t of drawTickets(raceId, field, bettors.length > 0 ? bettors : users.slice(0, 1), shape, rng, `${raceId}-t`, picks)) tickets.push(t);
    const postAtMs = SIM_DAY_POST_TIMES[slot] as number;
    races.push({ raceId, venue: 'sim', sport: field.sport, riders: field.riders, closeAtMs: postAtMs - 120_000, postAtMs, resultAtMs: postAtMs + 300_000, scratched, result });
  }
  const batch: TicketBatch = { tickets, placedAtMs: tickets.map(() => 0) };
  return { name: 'sim-day', seed, races, users, ticketBatches: () => [batch], ticketCount: tickets.length };
}

/**
 * Every ticket of a day in one array. A loop, not `push(...batch)`: spreading a batch passes each
 * ticket as an argument, and a big day's batch (60,000 users) overflows the call stack.
 */
export function dayTickets(day: RaceDay): Ticket[] {
  const all: Ticket[] = [];
  for (const b of day.ticketBatches()) for (const t of b.tickets) all.push(t);
  return all;
}
