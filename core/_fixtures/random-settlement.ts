// Seeded generators of fields, payout tables and tickets for settlement tests and the core bench.
// Private test machinery: it uses only core's seeded rng, so the dependency rule holds, and a
// fast-check property can drive it from one integer seed.
import { encodeCombination, enumerateCombinations, formatCombination } from '../combination.ts';
import type { BetTypePayout, PayoutTable } from '../payout-table.ts';
import type { SeededRng } from '../rng.ts';
import { classifyCombination, DEFAULT_SETTLEMENT_RULES } from '../settlement.ts';
import { betTypesSold, type BetType, type Field } from '../sports.ts';
import type { Ticket } from '../ticket.ts';

export const FIELDS: readonly Field[] = [
  { sport: 'keirin', riders: 9 },
  { sport: 'keirin', riders: 8 },
  { sport: 'keirin', riders: 7 },
  { sport: 'pist6', riders: 6 },
  { sport: 'autorace', riders: 8 },
];

export function pick<T>(rng: SeededRng, items: readonly T[]): T {
  return items[rng.int(0, items.length - 1)] as T;
}

function sample(rng: SeededRng, codes: readonly number[], n: number): number[] {
  const out = new Set<number>();
  for (let i = 0; i < n; i++) out.add(pick(rng, codes));
  return [...out];
}

/** A random, internally consistent entry of a payout table (refunded combinations never win). */
export function randomBetTypePayout(rng: SeededRng, betType: BetType, field: Field): BetTypePayout {
  const codes = enumerateCombinations(betType, field).map(encodeCombination);
  const roll = rng.int(0, 9);
  if (roll === 0) return { kind: 'refunded' };
  const winning = sample(rng, codes, rng.int(1, 3));
  const refunded = new Set(sample(rng, codes, rng.int(0, 4)).filter((c) => !winning.includes(c)));
  if (roll === 1) return { kind: 'special', per100: 70, winning, refunded };
  if (roll <= 3) return { kind: 'no_sales', winning, refunded };
  const winners = new Map<number, number>();
  for (const c of winning) if (winners.size === 0 || rng.int(0, 1) === 1) winners.set(c, 10 * rng.int(10, 5000));
  return { kind: 'paid', winners, winning, refunded };
}

/** A random table for a field; with `missingTypes`, some sold bet types have no entry. */
export function randomPayoutTable(rng: SeededRng, field: Field, missingTypes = false): PayoutTable {
  const byType: Partial<Record<BetType, BetTypePayout>> = {};
  for (const t of betTypesSold(field)) {
    if (missingTypes && rng.int(0, 9) === 0) continue;
    byType[t] = randomBetTypePayout(rng, t, field);
  }
  return { sport: field.sport, riders: field.riders, byType };
}

export interface TicketOptions {
  readonly raceId: string;
  readonly userId: string;
  readonly count: number;
  /** Share of free-medal tickets in [0, 1]. */
  readonly medalShare: number;
  /** Keep cash tickets off combinations the table cannot price (the object path rejects those). */
  readonly onlySettleable: boolean;
}

/** Random tickets on existing combinations, ids `t00000`... in a shuffled order. */
export function randomTickets(rng: SeededRng, field: Field, table: PayoutTable, o: TicketOptions): Ticket[] {
  const types = betTypesSold(field);
  const combos = new Map(types.map((t) => [t, enumerateCombinations(t, field)]));
  const tickets: Ticket[] = [];
  for (let i = 0; i < o.count; i++) {
    const betType = pick(rng, types);
    const combination = pick(rng, combos.get(betType) ?? []);
    let currency: Ticket['currency'] = rng.float() < o.medalShare ? 'medal' : 'cash';
    if (o.onlySettleable && currency === 'cash' && !classifyCombination(table.byType[betType], encodeCombination(combination), 'cash', DEFAULT_SETTLEMENT_RULES).ok) {
      currency = 'medal';
    }
    const ticketId = `t${String(i).padStart(5, '0')}`;
    tickets.push({ ticketId, userId: o.userId, raceId: o.raceId, betType, combination: formatCombination(betType, combination), stake: 100 * rng.int(1, 50), currency });
  }
  for (let i = tickets.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [tickets[i], tickets[j]] = [tickets[j] as Ticket, tickets[i] as Ticket];
  }
  return tickets;
}
