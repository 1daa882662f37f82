// A generated day's tickets as columns, straight from the ticket stream: no Ticket object, no id
// string, no combination text per ticket. The replay loads them with a store's bulk column load
// (20,000,000 grand-prix tickets as objects cost minutes and gigabytes), and the replay checkers
// walk the same stream to compute what every user should hold.
import type { TicketColumnBatch } from '../backends/memory/index.ts';
import { BET_TYPE_CODE } from '../core/sports.ts';
import { STAKE_UNIT } from '../core/ticket.ts';
import type { DayPlan } from './plan.ts';
import { EVENT_CLOSE, EVENT_TICKET, openDayStream } from './stream.ts';

/** Rows per column batch; each open race fills its own, so this bounds memory per open race. */
export const COLUMN_BATCH_ROWS = 16_384;

/** Generated tickets' ids are this prefix and the ticket's sequence number (as the object path's `t${seq}`). */
export const TICKET_ID_PREFIX = 't';

/**
 * Tickets of one race, in placement order: a memory store's bulk column load, filled as the
 * stream produces them (`count` grows) and complete at `atMs`.
 */
export interface RaceTicketColumns extends Omit<TicketColumnBatch, 'count' | 'ticketIdPrefix'> {
  count: number;
  readonly ticketIdPrefix: string;
  /** Scenario ms at which the batch is complete: its last ticket, or its race's close. */
  atMs: number;
}

function newBatch(raceId: string, rows: number): RaceTicketColumns {
  return {
    raceId,
    count: 0,
    userIdx: new Uint32Array(rows),
    betType: new Uint8Array(rows),
    comboCode: new Uint16Array(rows),
    stakeUnits: new Uint32Array(rows),
    currency: new Uint8Array(rows),
    ticketNumber: new Uint32Array(rows),
    ticketIdPrefix: TICKET_ID_PREFIX,
    atMs: 0,
  };
}

/**
 * The day's tickets as per-race column batches. A race's batch is handed out when it is full or
 * when the race closes, so every ticket of a race has been handed out before the stream reaches
 * the race's close: a replay that loads batches in this order and publishes results by time never
 * publishes a result before its race's last ticket is loaded.
 */
export function* planTicketColumns(plan: DayPlan, rows: number = COLUMN_BATCH_ROWS): Generator<RaceTicketColumns> {
  const stream = openDayStream(plan);
  const cur = stream.cursor;
  const open: (RaceTicketColumns | undefined)[] = plan.races.map(() => undefined);
  while (stream.next()) {
    const index = cur.race.race.index;
    if (cur.kind === EVENT_CLOSE) {
      const b = open[index];
      if (b !== undefined && b.count > 0) {
        b.atMs = cur.atMs;
        open[index] = undefined;
        yield b;
      }
      continue;
    }
    if (cur.kind !== EVENT_TICKET) continue;
    const race = cur.race.race;
    let b = open[index];
    if (b === undefined) open[index] = b = newBatch(race.slot.raceId, rows);
    const i = b.count++;
    const table = race.combos[cur.typeSlot];
    if (table === undefined) throw new Error(`invariant violated: bet type slot ${cur.typeSlot} in race ${race.slot.raceId}`);
    b.userIdx[i] = cur.userIndex;
    b.betType[i] = BET_TYPE_CODE[table.betType];
    b.comboCode[i] = table.codes[cur.comboIndex] as number;
    b.stakeUnits[i] = cur.stake / STAKE_UNIT;
    b.currency[i] = cur.medal ? 1 : 0;
    b.ticketNumber[i] = cur.ticketSeq;
    if (b.count === rows) {
      b.atMs = cur.placedAtMs;
      open[index] = undefined;
      yield b;
    }
  }
  // A stream always closes every race; anything left would be a stream bug, so it is handed out too.
  for (const b of open) if (b !== undefined && b.count > 0) yield b;
}

/** What each user staked over the day, by day user index: one pass of the stream, no objects. */
export function stakesByUser(plan: DayPlan): { readonly cash: Float64Array; readonly medals: Float64Array } {
  const cash = new Float64Array(plan.users);
  const medals = new Float64Array(plan.users);
  const stream = openDayStream(plan);
  const cur = stream.cursor;
  while (stream.next()) {
    if (cur.kind !== EVENT_TICKET) continue;
    const into = cur.medal ? medals : cash;
    into[cur.userIndex] = (into[cur.userIndex] as number) + cur.stake;
  }
  return { cash, medals };
}
