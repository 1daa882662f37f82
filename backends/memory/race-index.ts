// Per-race index of the memory store: the race's users in ascending user id with the range of
// their tickets (compressed sparse rows), an open-ticket count per user for paging, and the
// settlement marker per (race, user). Built lazily, after tickets are loaded, with two counting
// passes (no per-ticket objects); rebuilt only when tickets of the race were added since.
import type { BetType } from '../../core/sports.ts';
import { STAKE_UNIT } from '../../core/ticket.ts';
import { COMBO_KEY_SPACE } from '../../core/combination.ts';
import type { RaceInfo, RaceOutcome, RankingClaim, RankingClaimant } from '../../core/ports.ts';
import { CHUNK_MASK, CHUNK_SHIFT, GrowArray, STATUS_OPEN, type ChunkedColumn, type TicketTable } from './columns.ts';

export interface RaceIndex {
  /** User indexes in ascending user id. */
  readonly users: Uint32Array;
  /** Tickets of users[p] are tix[offsets[p] .. offsets[p + 1]). */
  readonly offsets: Uint32Array;
  readonly tix: Uint32Array;
  /** Open tickets of users[p]; paging skips users at 0. */
  readonly open: Uint32Array;
  /** Result version of the applied settlement of users[p]; 0 = not settled. */
  readonly marker: Uint32Array;
  /** Settlements applied for users[p] (exactly-once means at most 1). */
  readonly applications: Uint16Array;
  /** What the applied settlement of users[p] credited (settled `settled` messages are rebuilt from it). */
  readonly settledCash: Float64Array;
  readonly settledMedals: Float64Array;
  readonly settledHits: Uint32Array;
  readonly settledTrifectaHits: Uint32Array;
  /** Position of each user index (users known at build time), -1 when the user has no ticket here. */
  readonly positionOfUser: Int32Array;
}

export class RaceState {
  readonly raceId: string;
  info: RaceInfo | undefined;
  outcome: RaceOutcome | undefined;
  readonly tickets = new GrowArray((n) => new Uint32Array(n), 16);
  ticketCount = 0;
  index: RaceIndex | undefined;
  indexedCount = 0;
  /** Cash yen per comboKey(betType, code), kept as tickets arrive (ingest builds the pools from it). */
  cashPool: Float64Array | undefined;
  readonly postSettled = new Set<number>();
  /** Users whose settlement was dead-lettered, with the first reason given. */
  readonly deadLettered = new Map<number, string>();
  /** Post-settled or dead-lettered users, each once: the ranking barrier's count. */
  readonly terminal = new Set<number>();
  fanoutUsers: number | undefined;
  ranking: RankingClaim | undefined;
  /** Who claimed the ranking (a redelivery of the claiming message may claim again). */
  rankingClaimant: RankingClaimant | undefined;
  settledUsers = 0;
  /** Some ticket of the race left `open` (settled through any path, even the broken one). */
  settledRows = false;

  constructor(raceId: string) {
    this.raceId = raceId;
  }

  /** Adds rows [first, first + count) loaded in bulk, with their columns for the cash pool. */
  addRowRange(first: number, count: number, cols: { readonly betType: Uint8Array; readonly comboCode: Uint16Array; readonly stakeUnits: Uint32Array; readonly currency: Uint8Array }): void {
    this.tickets.reserve(this.ticketCount + count);
    const rows = this.tickets.data;
    for (let i = 0; i < count; i++) rows[this.ticketCount + i] = first + i;
    this.ticketCount += count;
    for (let i = 0; i < count; i++) {
      if (cols.currency[i] !== 0) continue;
      this.cashPool ??= new Float64Array(COMBO_KEY_SPACE);
      const key = (cols.betType[i] as number) * 1000 + (cols.comboCode[i] as number);
      this.cashPool[key] = (this.cashPool[key] as number) + (cols.stakeUnits[i] as number) * STAKE_UNIT;
    }
  }

  addTicket(row: number, comboKeyValue: number, cashYen: number): void {
    this.tickets.reserve(this.ticketCount + 1);
    this.tickets.data[this.ticketCount++] = row;
    if (cashYen > 0) {
      this.cashPool ??= new Float64Array(COMBO_KEY_SPACE);
      this.cashPool[comboKeyValue] = (this.cashPool[comboKeyValue] as number) + cashYen;
    }
  }
}

/** The users sorted by id: `byRank[r]` is the user of rank r, `rank[u]` the rank of user u. */
export interface UserOrder {
  readonly byRank: Uint32Array;
  readonly rank: Uint32Array;
}

export function buildUserOrder(userIds: readonly string[]): UserOrder {
  const byRank = new Uint32Array(userIds.length);
  for (let i = 0; i < byRank.length; i++) byRank[i] = i;
  // Generators usually create users in id order; then the identity is the order and no sort is needed.
  let sorted = true;
  for (let i = 1; i < userIds.length && sorted; i++) sorted = (userIds[i - 1] as string) < (userIds[i] as string);
  if (!sorted) byRank.sort((a, b) => {
    const x = userIds[a] as string;
    const y = userIds[b] as string;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const rank = new Uint32Array(userIds.length);
  for (let r = 0; r < byRank.length; r++) rank[byRank[r] as number] = r;
  return { byRank, rank };
}

/** Position of user `u` in the index, or -1. */
export function positionOf(index: RaceIndex, u: number): number {
  return u < index.positionOfUser.length ? (index.positionOfUser[u] as number) : -1;
}

/** First position whose user id is strictly greater than `after`. */
export function positionAfter(index: RaceIndex, userIds: readonly string[], after: string | undefined): number {
  if (after === undefined) return 0;
  let lo = 0;
  let hi = index.users.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((userIds[index.users[mid] as number] as string) <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Builds (or rebuilds, keeping settlement markers) the index of a race. */
export function buildRaceIndex(race: RaceState, table: TicketTable, order: UserOrder, userCount: number): { readonly index: RaceIndex; readonly dest: Uint32Array } {
  const start = new Uint32Array(userCount);
  const rows = race.tickets.data;
  const n = race.ticketCount;
  for (let i = 0; i < n; i++) {
    const u = table.user.get(rows[i] as number);
    start[u] = (start[u] as number) + 1;
  }
  let distinct = 0;
  for (let u = 0; u < userCount; u++) if ((start[u] as number) > 0) distinct++;
  const users = new Uint32Array(distinct);
  const offsets = new Uint32Array(distinct + 1);
  let p = 0;
  let at = 0;
  for (let r = 0; r < userCount; r++) {
    const u = order.byRank[r] as number;
    const c = start[u] as number;
    if (c === 0) continue;
    users[p] = u;
    offsets[p] = at;
    start[u] = at; // from here on: the next free slot of user u
    at += c;
    p++;
  }
  offsets[distinct] = at;
  // dest[i]: where the race's i-th row goes in index order (clustering moves the rows there).
  const tix = new Uint32Array(n);
  const dest = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i] as number;
    const u = table.user.get(row);
    const k = start[u] as number;
    tix[k] = row;
    dest[i] = k;
    start[u] = k + 1;
  }
  const open = new Uint32Array(distinct);
  for (let q = 0; q < distinct; q++) {
    let c = (offsets[q + 1] as number) - (offsets[q] as number);
    // Before anything of the race was settled every ticket is open: no need to read the status.
    if (race.settledRows) {
      c = 0;
      for (let k = offsets[q] as number; k < (offsets[q + 1] as number); k++) if (table.status.get(tix[k] as number) === STATUS_OPEN) c++;
    }
    open[q] = c;
  }
  const positionOfUser = new Int32Array(userCount).fill(-1);
  for (let q = 0; q < distinct; q++) positionOfUser[users[q] as number] = q;
  const index: RaceIndex = {
    users,
    offsets,
    tix,
    open,
    marker: new Uint32Array(distinct),
    applications: new Uint16Array(distinct),
    settledCash: new Float64Array(distinct),
    settledMedals: new Float64Array(distinct),
    settledHits: new Uint32Array(distinct),
    settledTrifectaHits: new Uint32Array(distinct),
    positionOfUser,
  };
  const old = race.index;
  if (old !== undefined) {
    for (let q = 0; q < old.users.length; q++) {
      if (old.marker[q] === 0 && old.applications[q] === 0) continue;
      const np = positionOf(index, old.users[q] as number);
      index.marker[np] = old.marker[q] as number;
      index.applications[np] = old.applications[q] as number;
      index.settledCash[np] = old.settledCash[q] as number;
      index.settledMedals[np] = old.settledMedals[q] as number;
      index.settledHits[np] = old.settledHits[q] as number;
      index.settledTrifectaHits[np] = old.settledTrifectaHits[q] as number;
    }
  }
  race.index = index;
  race.indexedCount = n;
  return { index, dest };
}

/** Cash pools of a race from its running sums: bet type -> combination code -> yen. */
export function cashPoolsOf(race: RaceState, betTypes: readonly BetType[]): Partial<Record<BetType, Map<number, number>>> {
  const out: Partial<Record<BetType, Map<number, number>>> = {};
  const pool = race.cashPool;
  if (pool === undefined) return out;
  for (let key = 0; key < pool.length; key++) {
    const yen = pool[key] as number;
    if (yen === 0) continue;
    const betType = betTypes[Math.floor(key / 1000)] as BetType;
    const map = out[betType] ?? new Map<number, number>();
    map.set(key % 1000, yen);
    out[betType] = map;
  }
  return out;
}


/** 2^15 destinations per partition: a partition of one column (128 KB) stays in cache. */
const PARTITION_SHIFT = 15;

/**
 * Moves the race's tickets so each user's tickets sit in adjacent rows, in index order: the race
 * keeps the same set of row slots (ascending), and slot dest[i] receives the ticket of slot i.
 * Settling a user then reads a few adjacent cache lines instead of one cache miss per ticket and
 * column. The move is a two-pass partition (first by destination range, then within the range),
 * so both passes touch memory nearly sequentially. `moved(oldRow, newRow)` lets the store fix
 * references to rows kept outside the columns.
 */
export function clusterRace(race: RaceState, table: TicketTable, index: RaceIndex, dest: Uint32Array, moved: ((oldRow: number, newRow: number) => void) | undefined): void {
  const n = race.ticketCount;
  const slots = race.tickets.data.subarray(0, n);
  let clustered = true;
  for (let i = 0; i < n && clustered; i++) clustered = dest[i] === i;
  if (clustered) return;
  // Columns that hold one value for all of the race's rows need no moving: status and per100
  // before anything was settled, and the id prefix when every id shares one.
  const columns: ChunkedColumn<Uint8Array | Uint16Array | Uint32Array>[] = [table.betType, table.comboCode, table.stakeUnits, table.currency, table.idNumber];
  if (race.settledUsers > 0 || race.settledRows) columns.push(table.status, table.per100);
  if (!sameValue(table.idPrefix, slots)) columns.push(table.idPrefix);
  const cursor = new Uint32Array((n >>> PARTITION_SHIFT) + 1);
  for (let b = 0; b < cursor.length; b++) cursor[b] = b << PARTITION_SHIFT;
  const staged = new Uint32Array(n); // position in partition order of slot i's value
  const positionOf = new Uint32Array(n);
  const destAt = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const k = dest[i] as number;
    const pos = cursor[k >>> PARTITION_SHIFT] as number;
    cursor[k >>> PARTITION_SHIFT] = pos + 1;
    positionOf[i] = pos;
    destAt[pos] = k;
  }
  const out = new Uint32Array(n); // every clustered column holds values below 2^32
  for (const column of columns as ChunkedColumn<Uint32Array>[]) {
    const chunks = column.chunks;
    for (let i = 0; i < n; i++) {
      const row = slots[i] as number;
      staged[positionOf[i] as number] = (chunks[row >>> CHUNK_SHIFT] as Uint32Array)[row & CHUNK_MASK] as number;
    }
    for (let pos = 0; pos < n; pos++) out[destAt[pos] as number] = staged[pos] as number;
    for (let k = 0; k < n; k++) {
      const row = slots[k] as number;
      (chunks[row >>> CHUNK_SHIFT] as Uint32Array)[row & CHUNK_MASK] = out[k] as number;
    }
  }
  if (moved !== undefined) for (let i = 0; i < n; i++) if (dest[i] !== i) moved(slots[i] as number, slots[dest[i] as number] as number);
  index.tix.set(slots);
  // The user column is the index itself: slot k belongs to the user whose range covers k.
  for (let p = 0; p < index.users.length; p++) {
    const u = index.users[p] as number;
    for (let k = index.offsets[p] as number; k < (index.offsets[p + 1] as number); k++) table.user.set(index.tix[k] as number, u);
  }
}

function sameValue(column: ChunkedColumn<Uint8Array>, rows: Uint32Array): boolean {
  if (rows.length === 0) return true;
  const first = column.get(rows[0] as number);
  for (let k = 1; k < rows.length; k++) if (column.get(rows[k] as number) !== first) return false;
  return true;
}
