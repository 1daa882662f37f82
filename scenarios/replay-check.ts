// The invariant checkers for replays of generated days, at scale: 20,000,000 tickets must be
// checked within the run's memory budget, so nothing here holds an object per ticket. What the
// store should hold is computed apart from the pipeline: the day's ticket stream is walked once
// more (per race: tickets, users and an order-free fingerprint of the ticket multiset; per user:
// stakes; per race: the cash pools), each race's payout table is computed by the pure core from
// those pools, and each ticket is priced by the core's reference rule (classifyCombination, the
// rule of the object settle path). The store is then read back a column chunk at a time.
import { encodeCombination, enumerateCombinations } from '../core/combination.ts';
import { computePayoutTable } from '../core/payout.ts';
import type { StoredTicketChunk, Store, StoreReadback, StoredTicket } from '../core/ports.ts';
import type { PayoutTable } from '../core/payout-table.ts';
import { classifyCombination, DEFAULT_SETTLEMENT_RULES } from '../core/settlement.ts';
import { BET_TYPE_CODE, BET_TYPES, betTypesSold, type BetType, type Field } from '../core/sports.ts';
import { STAKE_UNIT } from '../core/ticket.ts';
import { userIdOf } from './bettors.ts';
import type { RaceDay, RacePlan } from './model.ts';
import type { DayPlan } from './plan.ts';
import type { InvariantOutcome } from './replay.ts';
import { outsidePoolsOf, returnRatesOf } from './replay-pipeline.ts';
import type { NotificationTally } from './replay-notifications.ts';
import { EVENT_TICKET, openDayStream } from './stream.ts';

/** The checkers of a replay, in report order (the names `raceday run` reports for smoke too). */
export const REPLAY_CHECKERS = ['settled-exactly-once', 'ledger-conservation', 'bonuses-exactly-once', 'notified-exactly-once', 'ranking-exactly-once', 'nothing-unacked', 'no-handler-errors'] as const;
type Checker = (typeof REPLAY_CHECKERS)[number];

const EXAMPLES_MAX = 3;

export interface ReplayCheckInput {
  readonly day: RaceDay;
  readonly store: Store;
  readonly notifications: NotificationTally;
  /** Handler exceptions of the pipeline and the driver's errors. */
  readonly errors: readonly string[];
  /** Whether every pipeline stage drained (undefined: the bus cannot tell). */
  readonly idle: boolean | undefined;
  /** Messages on dead-letter topics (a valid day dead-letters nothing). */
  readonly deadLetters: number;
  /** expectDay(day), when the caller already has it. */
  readonly expectation?: DayExpectation;
}

class Findings {
  private readonly found = new Map<Checker, { count: number; examples: string[] }>();
  add(checker: Checker, message: string): void {
    let f = this.found.get(checker);
    if (f === undefined) this.found.set(checker, (f = { count: 0, examples: [] }));
    f.count++;
    if (f.examples.length < EXAMPLES_MAX) f.examples.push(message);
  }
  outcomes(): InvariantOutcome[] {
    return REPLAY_CHECKERS.map((name) => {
      const f = this.found.get(name);
      if (f === undefined) return { name, ok: true, violations: [] };
      const more = f.count > f.examples.length ? [`(${f.count - f.examples.length} more violations of this checker not listed)`] : [];
      return { name, ok: false, violations: [...f.examples, ...more] };
    });
  }
}

/** Order-free fingerprint of a ticket multiset: two sums of independent 32-bit mixes. */
class Fingerprint {
  count = 0;
  a = 0;
  b = 0;
  add(user: number, betType: number, code: number, units: number, currency: number): void {
    let h = Math.imul(user ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(betType * 1000 + code + 1, 0xc2b2ae35) ^ Math.imul(units, 0x27d4eb2f) ^ (currency << 30);
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
    h ^= h >>> 16;
    this.a = (this.a + (h >>> 0)) >>> 0;
    this.b = (this.b + (Math.imul(h, 0x01000193) ^ user)) >>> 0;
    this.count++;
  }
  same(o: Fingerprint): boolean {
    return this.count === o.count && this.a === o.a && this.b === o.b;
  }
}

interface RaceExpectation {
  readonly race: RacePlan;
  readonly field: Field;
  readonly generated: Fingerprint;
  /** Bit per day user index: the user holds a ticket of the race. */
  readonly users: Uint8Array;
  userCount: number;
  /** Cash staked per bet type and combination code. */
  readonly pools: Partial<Record<BetType, Map<number, number>>>;
}

export interface DayExpectation {
  readonly races: Map<string, RaceExpectation>;
  readonly stakedCash: Float64Array;
  readonly stakedMedals: Float64Array;
}

/** expectDay reports progress every 2^20 tickets. */
const PROGRESS_EVERY_MASK = (1 << 20) - 1;

const hasBit = (bits: Uint8Array, u: number): boolean => (((bits[u >>> 3] as number) >>> (u & 7)) & 1) === 1;

/**
 * One walk of the day's stream: what the store should hold, before any pricing. It needs nothing
 * from the run, so a replay computes it first and debits the stakes from it.
 */
export function expectDay(day: RaceDay, onProgress?: () => void): DayExpectation {
  const plan = day.plan;
  if (plan === undefined) throw new Error('invariant violated: replay checks need a generated day');
  const races = new Map<string, RaceExpectation>();
  const byIndex: RaceExpectation[] = plan.races.map((p, i) => {
    const race = day.races[i] as RacePlan;
    const e: RaceExpectation = { race, field: p.field, generated: new Fingerprint(), users: new Uint8Array((plan.users >>> 3) + 1), userCount: 0, pools: {} };
    races.set(race.raceId, e);
    return e;
  });
  const stakedCash = new Float64Array(plan.users);
  const stakedMedals = new Float64Array(plan.users);
  const stream = openDayStream(plan);
  const cur = stream.cursor;
  let seen = 0;
  while (stream.next()) {
    if (cur.kind !== EVENT_TICKET) continue;
    if ((++seen & PROGRESS_EVERY_MASK) === 0) onProgress?.();
    const e = byIndex[cur.race.race.index] as RaceExpectation;
    const table = cur.race.race.combos[cur.typeSlot];
    if (table === undefined) throw new Error(`invariant violated: bet type slot ${cur.typeSlot} in race ${e.race.raceId}`);
    const u = cur.userIndex;
    e.generated.add(u, BET_TYPE_CODE[table.betType], table.codes[cur.comboIndex] as number, cur.stake / STAKE_UNIT, cur.medal ? 1 : 0);
    if (!hasBit(e.users, u)) {
      e.users[u >>> 3] = (e.users[u >>> 3] as number) | (1 << (u & 7));
      e.userCount++;
    }
    const staked = cur.medal ? stakedMedals : stakedCash;
    staked[u] = (staked[u] as number) + cur.stake;
    if (!cur.medal) {
      const pool = (e.pools[table.betType] ??= new Map());
      const code = table.codes[cur.comboIndex] as number;
      pool.set(code, (pool.get(code) ?? 0) + cur.stake);
    }
  }
  return { races, stakedCash, stakedMedals };
}

/** The race's payout table by the pure core, from the generated cash pools plus the outside sales. */
function expectedTable(e: RaceExpectation): PayoutTable {
  const pools: Partial<Record<BetType, Map<number, number>>> = {};
  for (const source of [e.pools, outsidePoolsOf(e.race) ?? {}]) {
    for (const [betType, pool] of Object.entries(source) as [BetType, ReadonlyMap<number, number>][]) {
      const target = (pools[betType] ??= new Map());
      for (const [code, yen] of pool) target.set(code, (target.get(code) ?? 0) + yen);
    }
  }
  const returnRates = returnRatesOf(e.race);
  return computePayoutTable({ field: e.field, scratched: e.race.scratched, result: e.race.result, pools, ...(returnRates ? { returnRates } : {}) });
}

const BET_TYPE_SLOTS = 16;
const CODE_SLOTS = 1000;
const priceIndex = (currency: number, betType: number, code: number): number => (currency * BET_TYPE_SLOTS + betType) * CODE_SLOTS + code;

/** Every (currency, bet type, combination) of the field priced by the reference rule; status -1 where it cannot be settled. */
function referencePrices(table: PayoutTable, field: Field): { status: (StoredTicket['status'] | undefined)[]; per100: Int32Array } {
  const status: (StoredTicket['status'] | undefined)[] = new Array(2 * BET_TYPE_SLOTS * CODE_SLOTS);
  const per100 = new Int32Array(2 * BET_TYPE_SLOTS * CODE_SLOTS);
  for (const betType of betTypesSold(field)) {
    for (const c of enumerateCombinations(betType, field)) {
      const code = encodeCombination(c);
      for (const [currency, name] of [[0, 'cash'], [1, 'medal']] as const) {
        const r = classifyCombination(table.byType[betType], code, name, DEFAULT_SETTLEMENT_RULES);
        if (!r.ok) continue;
        const i = priceIndex(currency, BET_TYPE_CODE[betType], code);
        status[i] = r.value.status;
        per100[i] = r.value.per100;
      }
    }
  }
  return { status, per100 };
}

/** Day user index of a user id (-1 when it is not one of the day's), for the generated id shape. */
export function dayUserIndexer(plan: DayPlan): (userId: string) => number {
  return (userId) => {
    const n = Number(userId.slice(1));
    return Number.isInteger(n) && n >= 0 && n < plan.users && userIdOf(n, plan.userDigits) === userId ? n : -1;
  };
}

/** The store's tickets as column chunks: the store's own when it has them, else built from objects. */
async function* chunksOf(rb: StoreReadback, raceId: string): AsyncGenerator<StoredTicketChunk> {
  if (rb.ticketChunksOfRace !== undefined) {
    yield* rb.ticketChunksOfRace(raceId);
    return;
  }
  const userIds: string[] = [];
  const statusNames: StoredTicket['status'][] = ['open', 'won', 'lost', 'refunded', 'special'];
  const rows: StoredTicket[] = [];
  for await (const t of rb.ticketsOfRace(raceId)) rows.push(t);
  const n = rows.length;
  const chunk = { count: n, user: new Uint32Array(n), userIds, betType: new Uint8Array(n), comboCode: new Uint16Array(n), stakeUnits: new Uint32Array(n), currency: new Uint8Array(n), status: new Uint8Array(n), statusNames, per100: new Uint32Array(n) };
  rows.forEach((t, i) => {
    chunk.user[i] = userIds.push(t.userId) - 1;
    chunk.betType[i] = BET_TYPE_CODE[t.betType];
    chunk.comboCode[i] = Number(t.combination.replace(/[-=]/g, ''));
    chunk.stakeUnits[i] = t.stake / STAKE_UNIT;
    chunk.currency[i] = t.currency === 'cash' ? 0 : 1;
    chunk.status[i] = statusNames.indexOf(t.status);
    chunk.per100[i] = t.per100;
  });
  yield chunk;
}

interface Payouts {
  readonly cash: Float64Array;
  readonly medals: Float64Array;
}

/** One race's stored tickets: the same multiset as generated, each priced as the core prices it. */
async function checkRaceTickets(rb: StoreReadback, e: RaceExpectation, toDay: (chunk: StoredTicketChunk, i: number) => number, paid: Payouts, f: Findings): Promise<void> {
  const prices = referencePrices(expectedTable(e), e.field);
  const stored = new Fingerprint();
  const raceId = e.race.raceId;
  for await (const chunk of chunksOf(rb, raceId)) {
    for (let i = 0; i < chunk.count; i++) {
      const u = toDay(chunk, i);
      const bt = chunk.betType[i] as number;
      const code = chunk.comboCode[i] as number;
      const units = chunk.stakeUnits[i] as number;
      const currency = chunk.currency[i] as number;
      stored.add(u, bt, code, units, currency);
      const p = priceIndex(currency, bt, code);
      const want = prices.status[p];
      const got = chunk.statusNames[chunk.status[i] as number];
      const per100 = chunk.per100[i] as number;
      const wantPer100 = prices.per100[p] as number;
      const userId = chunk.userIds[chunk.user[i] as number];
      if (want === undefined) f.add('settled-exactly-once', `race ${raceId}: user ${userId}'s ${BET_TYPES[bt]} ${code} ticket cannot be priced against the race's payout table`);
      else if (got !== want || per100 !== wantPer100) {
        f.add('settled-exactly-once', `race ${raceId}: user ${userId}'s ${BET_TYPES[bt]} ${code} ${currency === 0 ? 'cash' : 'medal'} ticket of ${units * STAKE_UNIT}: stored ${got} per100 ${per100}, the core computes ${want} per100 ${wantPer100}`);
      }
      if (u >= 0 && want !== undefined && want !== 'lost') {
        const into = currency === 0 ? paid.cash : paid.medals;
        into[u] = (into[u] as number) + units * wantPer100;
      }
    }
  }
  if (!stored.same(e.generated)) {
    f.add('settled-exactly-once', `race ${raceId}: the store holds ${stored.count} tickets that are not the ${e.generated.count} generated (count or fingerprint differs)`);
  }
}

async function checkMarkers(rb: StoreReadback, e: RaceExpectation, toDay: (userId: string) => number, f: Findings): Promise<void> {
  const markers = await rb.settlementMarkers(e.race.raceId);
  let inRace = 0;
  for (const m of markers) {
    const u = toDay(m.userId);
    if (u < 0 || !hasBit(e.users, u)) f.add('settled-exactly-once', `race ${e.race.raceId}: user ${m.userId} has a settlement marker but no ticket in the race`);
    else inRace++;
    if (m.applications !== undefined && m.applications !== 1) f.add('settled-exactly-once', `race ${e.race.raceId}: user ${m.userId}'s settlement was applied ${m.applications} times`);
  }
  if (inRace !== e.userCount) f.add('settled-exactly-once', `race ${e.race.raceId}: ${inRace} of its ${e.userCount} users have a settlement marker`);
}

function checkNotified(e: RaceExpectation, tally: NotificationTally, plan: DayPlan, f: Findings): void {
  const got = tally.races.get(e.race.raceId);
  if (e.userCount === 0) return;
  if (got === undefined) {
    f.add('notified-exactly-once', `race ${e.race.raceId}: none of its ${e.userCount} users was notified`);
    f.add('ranking-exactly-once', `race ${e.race.raceId}: the ranking was never notified`);
    return;
  }
  let missing = 0;
  let extra = 0;
  for (let b = 0; b < e.users.length; b++) {
    const want = e.users[b] as number;
    const have = got.settled[b] as number;
    if (want === have) continue;
    for (let k = 0; k < 8; k++) {
      const w = (want >>> k) & 1;
      const h = (have >>> k) & 1;
      if (w === 1 && h === 0) missing++;
      if (w === 0 && h === 1) extra++;
      if (w !== h && missing + extra <= EXAMPLES_MAX) {
        f.add('notified-exactly-once', `race ${e.race.raceId}: user ${userIdOf(b * 8 + k, plan.userDigits)} was ${w === 1 ? 'never notified' : 'notified without a ticket in the race'}`);
      }
    }
  }
  if (got.duplicates > 0) f.add('notified-exactly-once', `race ${e.race.raceId}: ${got.duplicates} settled notifications arrived for users already notified`);
  if (got.rankings !== 1) f.add('ranking-exactly-once', `race ${e.race.raceId}: the ranking was notified ${got.rankings} times`);
}

async function checkBalances(rb: StoreReadback, day: RaceDay, d: DayExpectation, paid: Payouts, bonusMedals: Float64Array, f: Findings): Promise<void> {
  const users = day.users;
  for (let u = 0; u < users.length; u++) {
    const opening = users[u] as (typeof users)[number];
    const cash = opening.cash - (d.stakedCash[u] as number) + (paid.cash[u] as number);
    const medals = opening.medals - (d.stakedMedals[u] as number) + (paid.medals[u] as number) + (bonusMedals[u] as number);
    const b = await rb.balances(opening.userId);
    if (b === undefined || b.cash !== cash || b.medals !== medals) {
      f.add('ledger-conservation', `user ${opening.userId}: balance cash ${b?.cash} medals ${b?.medals}, expected opening - stakes + payouts + bonuses = cash ${cash} medals ${medals}`);
    }
  }
}

async function checkBonuses(rb: StoreReadback, toDay: (userId: string) => number, bonusMedals: Float64Array, f: Findings): Promise<void> {
  const seen = new Set<string>();
  for (const b of await rb.bonuses()) {
    if (seen.has(b.bonusId)) f.add('bonuses-exactly-once', `bonus ${b.bonusId} granted twice`);
    seen.add(b.bonusId);
    const u = toDay(b.userId);
    if (u < 0) f.add('bonuses-exactly-once', `bonus ${b.bonusId} went to ${b.userId}, not a user of the day`);
    else if (!Number.isSafeInteger(b.medals) || b.medals < 0) f.add('bonuses-exactly-once', `bonus ${b.bonusId} of ${b.medals} medals is not a non-negative integer`);
    else bonusMedals[u] = (bonusMedals[u] as number) + b.medals;
  }
}

async function checkRankingClaims(rb: StoreReadback, d: DayExpectation, f: Findings): Promise<void> {
  const claims = new Map<string, number>();
  for (const c of await rb.rankingClaims()) {
    claims.set(c.raceId, (claims.get(c.raceId) ?? 0) + 1);
    const e = d.races.get(c.raceId);
    if (e !== undefined && c.postSettledUsers < e.userCount) f.add('ranking-exactly-once', `race ${c.raceId}: the ranking was claimed with ${c.postSettledUsers} of ${e.userCount} users post-settled (barrier)`);
  }
  for (const e of d.races.values()) {
    const n = claims.get(e.race.raceId) ?? 0;
    if (e.userCount > 0 && n !== 1) f.add('ranking-exactly-once', `race ${e.race.raceId}: the ranking was claimed ${n} times`);
  }
}

/** Maps a chunk's user (an index into the store's ids) to the day's index, caching per store index. */
function chunkUserMapper(toDay: (userId: string) => number): (chunk: StoredTicketChunk, i: number) => number {
  let ids: readonly string[] | undefined;
  let cache = new Int32Array(0);
  return (chunk, i) => {
    if (chunk.userIds !== ids) {
      ids = chunk.userIds;
      cache = new Int32Array(ids.length).fill(-2);
    }
    const s = chunk.user[i] as number;
    let u = cache[s] as number;
    if (u === -2) cache[s] = u = toDay(ids[s] as string);
    return u;
  };
}

export async function checkReplay(i: ReplayCheckInput): Promise<InvariantOutcome[]> {
  const { day, store } = i;
  const plan = day.plan;
  const rb = store.readback;
  if (plan === undefined || rb === undefined) throw new Error('invariant violated: replay checks need a generated day and a Store with read-backs');
  const f = new Findings();
  for (const e of i.errors) f.add('no-handler-errors', e.split('\n').slice(0, 2).join(' | '));
  if (i.idle === false) f.add('nothing-unacked', 'a pipeline stage still has unacked messages');
  if (i.deadLetters > 0) f.add('nothing-unacked', `${i.deadLetters} messages were dead-lettered`);
  const d = i.expectation ?? expectDay(day);
  const toDay = dayUserIndexer(plan);
  const paid: Payouts = { cash: new Float64Array(plan.users), medals: new Float64Array(plan.users) };
  const chunkToDay = chunkUserMapper(toDay);
  for (const e of d.races.values()) {
    await checkRaceTickets(rb, e, chunkToDay, paid, f);
    await checkMarkers(rb, e, toDay, f);
    checkNotified(e, i.notifications, plan, f);
  }
  for (const s of i.notifications.strays) f.add('notified-exactly-once', `notification ${s} is not about a user and race of the day`);
  const bonusMedals = new Float64Array(plan.users);
  await checkBonuses(rb, toDay, bonusMedals, f);
  await checkBalances(rb, day, d, paid, bonusMedals, f);
  await checkRankingClaims(rb, d, f);
  return f.outcomes();
}
