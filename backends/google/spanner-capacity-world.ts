// The one world `raceday bench emulators` measures on both sides: the raw settlement loop
// (measureRawSettlement, spanner-capacity.ts) and the pipeline runs (bench/emulators.ts) load the
// users, race and tickets built here through the same loader, so the ratio between them compares
// the same rows. One keirin race of 7 riders, N users of K exacta tickets each, stakes of 100-300
// alternating cash and medals, combinations rotating over a fixed list so that some users hit.
import type { RaceInfo, Store, UserAccount } from '../../core/ports.ts';
import type { RaceResult } from '../../core/race-result.ts';
import { invariant } from '../../core/result.ts';
import type { Ticket } from '../../core/ticket.ts';

/** What a player holds in each currency once the world's tickets are paid for. */
const BALANCE_AFTER_STAKES = 10_000;
const COMBOS = ['3-1', '1-3', '3-5', '2-4', '5-1', '1-5', '4-2'];
/** Users (and their tickets) written per loader call: keeps memory flat on big worlds. */
const LOAD_CHUNK_USERS = 10_000;

export const CAPACITY_WORLD_LIMITS = { usersMax: 1_000_000, ticketsPerUserMax: 50 } as const;

export interface CapacityWorld {
  readonly race: RaceInfo;
  /** The official result both sides settle against (the raw loop records it, the pipeline ingests it). */
  readonly result: RaceResult;
  readonly users: number;
  readonly ticketsPerUser: number;
  userIdOf(i: number): string;
  accountOf(i: number): UserAccount;
  ticketsOf(i: number): Ticket[];
}

export function capacityWorld(users: number, ticketsPerUser: number, raceId = 'capacity-race'): CapacityWorld {
  invariant(Number.isSafeInteger(users) && users >= 1 && users <= CAPACITY_WORLD_LIMITS.usersMax, `users must be 1..${CAPACITY_WORLD_LIMITS.usersMax}, got ${users}`);
  invariant(Number.isSafeInteger(ticketsPerUser) && ticketsPerUser >= 1 && ticketsPerUser <= CAPACITY_WORLD_LIMITS.ticketsPerUserMax, `ticketsPerUser must be 1..${CAPACITY_WORLD_LIMITS.ticketsPerUserMax}, got ${ticketsPerUser}`);
  // Fixed width, so key order is user order (the emulator commits key-order neighbours faster).
  const userIdOf = (i: number): string => `cu${String(i).padStart(7, '0')}`;
  const ticketsOf = (i: number): Ticket[] =>
    Array.from({ length: ticketsPerUser }, (_, k) => ({
      ticketId: `t${i}-${k}`,
      userId: userIdOf(i),
      raceId,
      betType: 'exacta' as const,
      combination: COMBOS[(i + k) % COMBOS.length] as string,
      stake: 100 * (1 + (k % 3)),
      currency: k % 2 === 0 ? ('cash' as const) : ('medal' as const),
    }));
  return {
    race: { raceId, sport: 'keirin', riders: 7, closeAtMs: 0, postAtMs: 0 },
    result: { status: 'official', order: [[3], [1], [5], [2], [4], [6], [7]] },
    users,
    ticketsPerUser,
    userIdOf,
    accountOf: (i) => ({ userId: userIdOf(i), cash: BALANCE_AFTER_STAKES, medals: BALANCE_AFTER_STAKES }),
    ticketsOf,
  };
}

/** The store calls the loader makes: the race, then users and their tickets in slices. */
export type WorldLoadingStore = Pick<Store, 'putRace' | 'putUsers' | 'loadTickets'>;

export async function loadCapacityWorld(store: WorldLoadingStore, world: CapacityWorld): Promise<void> {
  await store.putRace(world.race);
  for (let from = 0; from < world.users; from += LOAD_CHUNK_USERS) {
    const ids = Array.from({ length: Math.min(LOAD_CHUNK_USERS, world.users - from) }, (_, k) => from + k);
    await store.putUsers(ids.map(world.accountOf));
    await store.loadTickets(ids.flatMap(world.ticketsOf));
  }
}
