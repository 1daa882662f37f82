// A race day as the runners consume it: races with their official results, users with opening
// balances, and tickets in columnar batches (tens of millions must stream in constant memory).
import type { UserAccount } from '../core/ports.ts';
import type { RaceResult } from '../core/race-result.ts';
import type { BetType, Sport } from '../core/sports.ts';
import type { Ticket } from '../core/ticket.ts';
import type { DayPlan } from './plan.ts';

export interface RacePlan {
  readonly raceId: string;
  readonly venue: string;
  readonly sport: Sport;
  readonly riders: number;
  /** Betting closes (ms since the day's origin, scenario clock). */
  readonly closeAtMs: number;
  /** The race starts; the official result is published at `resultAtMs`. */
  readonly postAtMs: number;
  readonly resultAtMs: number;
  /** Riders scratched before the start (欠車). */
  readonly scratched: readonly number[];
  readonly result: RaceResult;
  /** Per-bet-type return-rate overrides as decimal strings, e.g. {"trifecta": "0.75"}. */
  readonly returnRates?: Readonly<Partial<Record<BetType, string>>>;
  /** Cash sold outside the simulated service (other channels), added to the official pools: combination text -> yen. */
  readonly outsidePools?: Readonly<Partial<Record<BetType, Readonly<Record<string, number>>>>>;
  /** Betting opens (generated days: the first ticket is placed at or after this). */
  readonly opensAtMs?: number;
  /** Tickets of this race in ticketBatches() (generated days). */
  readonly ticketCount?: number;
  /** Rider strengths of the race model, index = rider number (index 0 unused); generated days only. */
  readonly strengths?: readonly number[];
}

/** Tickets are placed at `placedAtMs` on the scenario clock; a batch is sorted by it. */
export interface TicketBatch {
  readonly tickets: readonly Ticket[];
  readonly placedAtMs: readonly number[];
}

export interface RaceDay {
  readonly name: string;
  readonly seed: number;
  readonly races: readonly RacePlan[];
  readonly users: readonly UserAccount[];
  /** Streams the day's tickets in batches ordered by placement time; callable more than once with the same result. */
  ticketBatches(): Iterable<TicketBatch>;
  readonly ticketCount: number;
  /**
   * A generated day's plan: its tickets can then stream as columns (day-columns.ts) instead of
   * Ticket objects, and checkers can walk them again without holding them.
   */
  readonly plan?: DayPlan;
}
