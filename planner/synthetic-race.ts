// The synthetic race a prediction runs: `users` users sharing `tickets` tickets as evenly as
// whole tickets allow (every user holds at least one, so every user is settled), one keirin race
// of 7 riders with an official order drawn from the seed, keirin's bet-type mix, 80% free-medal
// tickets like the scale scenarios. Loaded as columns straight into the memory store (no Ticket
// objects), so a large slice loads in a fraction of the time it runs.
import { encodeCombination, enumerateCombinations } from '../core/combination.ts';
import type { UserAccount } from '../core/ports.ts';
import type { RaceResult } from '../core/race-result.ts';
import type { SeededRng } from '../core/rng.ts';
import { BET_TYPE_CODE, betTypesSold, KEIRIN_SALES_PER_MILLE, type BetType, type Field } from '../core/sports.ts';
import type { MemoryStore } from '../backends/memory/index.ts';

export const SYNTHETIC_RACE_ID = 'plan-race';
export const SYNTHETIC_FIELD: Field = { sport: 'keirin', riders: 7 };
const MEDAL_PERCENT = 80;
const CHUNK_TICKETS = 1 << 18;

/** The id of synthetic user i (0-based): shared with the closed-form model, which shards the same ids. */
export function syntheticUserId(i: number): string {
  return `u${String(i).padStart(8, '0')}`;
}

/** Tickets held by synthetic user i of `users` sharing `tickets`. */
export function syntheticTicketsOf(i: number, users: number, tickets: number): number {
  const base = Math.floor(tickets / users);
  return base + (i < tickets - base * users ? 1 : 0);
}

export interface SyntheticRace {
  readonly raceId: string;
  readonly result: RaceResult;
  /** Tickets of a user, by id (the size of its settlement transaction). */
  ticketsOf(userId: string): number;
}

function orderOf(rng: SeededRng): number[][] {
  const riders = Array.from({ length: SYNTHETIC_FIELD.riders }, (_, i) => i + 1);
  for (let i = riders.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [riders[i], riders[j]] = [riders[j] as number, riders[i] as number];
  }
  return riders.map((r) => [r]);
}

/** Loads users, the race and its tickets into the store; returns what the run needs to know of it. */
export async function loadSyntheticRace(store: MemoryStore, users: number, tickets: number, rng: SeededRng): Promise<SyntheticRace> {
  if (!Number.isSafeInteger(users) || users < 1) throw new Error(`PLAN.INPUT_INVALID: users must be a positive integer, got ${users}`);
  if (!Number.isSafeInteger(tickets) || tickets < users) throw new Error(`PLAN.INPUT_INVALID: tickets must be an integer >= users (${users}), got ${tickets}`);
  const perUser = Math.ceil(tickets / users);
  const accounts: UserAccount[] = Array.from({ length: users }, (_, i) => ({ userId: syntheticUserId(i), cash: 1_000 * perUser * 100, medals: 1_000 * perUser * 100 }));
  await store.putUsers(accounts);
  await store.putRace({ raceId: SYNTHETIC_RACE_ID, sport: SYNTHETIC_FIELD.sport, riders: SYNTHETIC_FIELD.riders, closeAtMs: 0, postAtMs: 0 });
  const sold = new Set(betTypesSold(SYNTHETIC_FIELD));
  const typeTable: number[] = [];
  for (const [t, perMille] of Object.entries(KEIRIN_SALES_PER_MILLE) as [BetType, number][]) if (sold.has(t)) for (let i = 0; i < perMille; i++) typeTable.push(BET_TYPE_CODE[t]);
  const combos = new Map<number, Uint16Array>();
  for (const t of sold) combos.set(BET_TYPE_CODE[t], Uint16Array.from(enumerateCombinations(t, SYNTHETIC_FIELD).map(encodeCombination)));
  const size = Math.min(CHUNK_TICKETS, tickets);
  const batch = {
    raceId: SYNTHETIC_RACE_ID,
    count: 0,
    userIdx: new Uint32Array(size),
    betType: new Uint8Array(size),
    comboCode: new Uint16Array(size),
    stakeUnits: new Uint32Array(size),
    currency: new Uint8Array(size),
    ticketNumber: new Uint32Array(size),
  };
  let n = 0;
  const flush = (): void => {
    store.loadTicketColumns({ ...batch, count: n });
    n = 0;
  };
  let ticket = 0;
  for (let u = 0; u < users; u++) {
    const idx = store.userIndexOf(syntheticUserId(u));
    for (let k = syntheticTicketsOf(u, users, tickets); k > 0; k--) {
      const bt = typeTable[rng.nextU32() % typeTable.length] as number;
      const codes = combos.get(bt) as Uint16Array;
      const medal = rng.nextU32() % 100 < MEDAL_PERCENT;
      batch.userIdx[n] = idx;
      batch.betType[n] = bt;
      batch.comboCode[n] = codes[rng.nextU32() % codes.length] as number;
      batch.stakeUnits[n] = medal ? 1 : 1 + (rng.nextU32() % 10);
      batch.currency[n] = medal ? 1 : 0;
      batch.ticketNumber[n] = ++ticket;
      if (++n === size) flush();
    }
  }
  if (n > 0) flush();
  store.indexRace(SYNTHETIC_RACE_ID);
  const result: RaceResult = { status: 'official', order: orderOf(rng) };
  const index = (userId: string): number => Number(userId.slice(1));
  return { raceId: SYNTHETIC_RACE_ID, result, ticketsOf: (userId) => syntheticTicketsOf(index(userId), users, tickets) };
}
