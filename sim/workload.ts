// The simulator's built-in race day: one race, a few dozen users with a few tickets each, cash and
// free medals, and now and then a scratch, a dead heat, a faller or a void race. Everything is
// drawn from the rng, so a seed is a world. Deliberately small: the simulator's value is in how
// many fault schedules it explores per minute, not in the size of one world.
import { enumerateCombinations, formatCombination } from '../core/combination.ts';
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

function drawTickets(raceId: string, field: Field, users: readonly UserAccount[], shape: SmokeShape, rng: SeededRng): Ticket[] {
  const types = betTypesSold(field);
  const combos = new Map<BetType, string[]>();
  for (const t of types) combos.set(t, enumerateCombinations(t, field).map((c) => formatCombination(t, c)));
  const tickets: Ticket[] = [];
  let n = 0;
  for (const u of users) {
    const count = rng.int(1, shape.ticketsPerUserMax);
    for (let i = 0; i < count; i++) {
      const betType = types[rng.int(0, types.length - 1)] as BetType;
      const list = combos.get(betType) as string[];
      const currency: Currency = chance(rng, CHANCE.medal) ? 'medal' : 'cash';
      tickets.push({
        ticketId: `t${String(++n).padStart(6, '0')}`,
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
