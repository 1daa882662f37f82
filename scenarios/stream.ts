// The day as one chronological event stream: every race contributes its tickets (in placement
// order, with a deadline rush), then a close event, then a result event at result time; races are
// merged by time through a small binary heap. Nothing is allocated per ticket: the current event
// lives in one mutable cursor that writers read before asking for the next.
import type { Rng } from '../core/ports.ts';
import { createRng, deriveRng } from '../core/rng.ts';
import { drawUser } from './activity.ts';
import { buildAlias, type AliasTable } from './alias.ts';
import type { DayPlan, PlannedRace } from './plan.ts';

export const EVENT_TICKET = 0;
export const EVENT_CLOSE = 1;
export const EVENT_RESULT = 2;
const PHASE_DONE = 3;

const U32 = 4294967296;

/** Per-race generation state; `cashPoolYen` accumulates cash stakes per flattened combination. */
export interface RaceState {
  readonly race: PlannedRace;
  readonly rng: Rng;
  readonly betTypeAlias: AliasTable;
  readonly comboAlias: readonly AliasTable[];
  /** Flattened combination index = comboOffset[typeSlot] + combo index. */
  readonly comboOffset: Int32Array;
  readonly cashPoolYen: Float64Array;
  remaining: number;
  /** Running order statistic: the next uniform is 1 - orderStat (ascending uniforms, no sort). */
  orderStat: number;
  nextAtMs: number;
  phase: number;
  /** The purchase in progress: tickets left in it and what they share. */
  purchaseLeft: number;
  purchaseUser: number;
  purchaseSlot: number;
  purchaseMedal: boolean;
  purchaseStake: number;
}

export interface DayCursor {
  kind: number;
  race: RaceState;
  /** Ticket fields (valid when kind is EVENT_TICKET). */
  ticketSeq: number;
  userIndex: number;
  typeSlot: number;
  /** Flattened combination index within the race. */
  comboFlat: number;
  comboIndex: number;
  medal: boolean;
  stake: number;
  placedAtMs: number;
  /** Event time for close and result events. */
  atMs: number;
}

export interface DayStream {
  readonly races: readonly RaceState[];
  readonly cursor: DayCursor;
  /** Moves to the next event; false when the day is over. */
  next(): boolean;
}

function raceState(race: PlannedRace, rng: Rng): RaceState {
  const comboOffset = new Int32Array(race.combos.length + 1);
  race.combos.forEach((c, i) => (comboOffset[i + 1] = (comboOffset[i] as number) + c.texts.length));
  return {
    race,
    rng,
    betTypeAlias: buildAlias(race.betTypeShares),
    comboAlias: race.combos.map((c) => buildAlias(c.probabilities)),
    comboOffset,
    cashPoolYen: new Float64Array(comboOffset[race.combos.length] as number),
    remaining: race.ticketCount,
    orderStat: 1,
    nextAtMs: 0,
    phase: 0,
    purchaseLeft: 0,
    purchaseUser: 0,
    purchaseSlot: 0,
    purchaseMedal: false,
    purchaseStake: 0,
  };
}

/** Steps of the tabulated rush curve; linear interpolation between them keeps times monotone. */
const RUSH_TABLE_STEPS = 4096;

/**
 * The inverse of the arrival CDF F(x) = (e^(rush x) - 1) / (e^rush - 1) on [0, 1], tabulated: the
 * intensity grows as e^(rush x) toward the close (rush 0 = uniform). One extra entry covers u = 1.
 */
export function rushInverseTable(rush: number): Float64Array {
  const t = new Float64Array(RUSH_TABLE_STEPS + 2);
  const scale = Math.expm1(rush);
  for (let k = 0; k <= RUSH_TABLE_STEPS; k++) {
    const u = k / RUSH_TABLE_STEPS;
    t[k] = rush < 1e-9 ? u : Math.log1p(u * scale) / rush;
  }
  t[RUSH_TABLE_STEPS + 1] = 1;
  return t;
}

export function openDayStream(plan: DayPlan): DayStream {
  const root = createRng(plan.seed).fork('tickets');
  const races = plan.races.map((r) => raceState(r, deriveRng(root.fork(`race/${r.index}`))));
  const activity = plan.activity;
  const { rush } = plan.spec.arrival;
  const rushTable = rushInverseTable(rush);
  const medalShareU32 = plan.spec.medalShare * U32;
  const stakes = plan.stakes;
  const purchaseSizes = stakes.purchaseSizes;

  /** Time of the next ticket: ascending uniform order statistics mapped through the rush CDF. */
  const advance = (s: RaceState): void => {
    if (s.phase === 0 && s.remaining > 0) {
      // orderStat *= w^(1/remaining); exp(y) ≈ 1 + y + y²/2 is exact to 1e-13 for |y| < 1e-4 and far cheaper.
      const y = Math.log((s.rng.nextU32() + 1) / U32) / s.remaining;
      s.orderStat *= y > -1e-4 ? 1 + y + 0.5 * y * y : Math.exp(y);
      const u = 1 - s.orderStat;
      const f = u * RUSH_TABLE_STEPS;
      const k = Math.floor(f);
      const x0 = rushTable[k] as number;
      const x = x0 + (f - k) * ((rushTable[k + 1] as number) - x0);
      const slot = s.race.slot;
      s.nextAtMs = Math.min(slot.opensAtMs + x * (slot.closeAtMs - slot.opensAtMs), slot.closeAtMs - 1);
      return;
    }
    if (s.phase === 0) {
      s.phase = EVENT_CLOSE;
      s.nextAtMs = s.race.slot.closeAtMs;
    } else if (s.phase === EVENT_CLOSE) {
      s.phase = EVENT_RESULT;
      s.nextAtMs = s.race.slot.resultAtMs;
    } else {
      s.phase = PHASE_DONE;
    }
  };

  // Binary min-heap of race indices by (nextAtMs, phase, index). Each entry's time is kept beside it
  // in a typed array: with a hundred races open, comparisons dominate the draw, and reading the
  // time from the race objects cost more than the draw itself.
  const heap = new Int32Array(races.length);
  const heapAtMs = new Float64Array(races.length);
  let size = 0;
  /** Ties on time (close and result events, equal ticket times) fall back to phase, then index. */
  const tieLess = (a: number, b: number): boolean => {
    const pa = (races[a] as RaceState).phase;
    const pb = (races[b] as RaceState).phase;
    return pa < pb || (pa === pb && a < b);
  };
  const siftDown = (i: number): void => {
    const item = heap[i] as number;
    const t = heapAtMs[i] as number;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      let c = l;
      if (r < size) {
        const tr = heapAtMs[r] as number;
        const tl = heapAtMs[l] as number;
        if (tr < tl || (tr === tl && tieLess(heap[r] as number, heap[l] as number))) c = r;
      }
      const tc = heapAtMs[c] as number;
      if (!(tc < t || (tc === t && tieLess(heap[c] as number, item)))) break;
      heap[i] = heap[c] as number;
      heapAtMs[i] = tc;
      i = c;
    }
    heap[i] = item;
    heapAtMs[i] = t;
  };
  for (const s of races) {
    advance(s);
    heapAtMs[size] = s.nextAtMs;
    heap[size++] = s.race.index;
  }
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(i);

  const cursor: DayCursor = {
    kind: EVENT_TICKET,
    race: races[0] as RaceState,
    ticketSeq: -1,
    userIndex: 0,
    typeSlot: 0,
    comboFlat: 0,
    comboIndex: 0,
    medal: false,
    stake: 0,
    placedAtMs: 0,
    atMs: 0,
  };

  /** A purchase (one user, currency, bet type and stake per point, like a formation bet) spans several tickets. */
  const drawPurchase = (s: RaceState): void => {
    const rng = s.rng;
    s.purchaseLeft = drawAlias(purchaseSizes, rng) + 1;
    s.purchaseUser = drawUser(activity, rng);
    s.purchaseSlot = drawAlias(s.betTypeAlias, rng);
    s.purchaseMedal = rng.nextU32() < medalShareU32;
    s.purchaseStake = (drawAlias(s.purchaseMedal ? stakes.medal : stakes.cash, rng) + 1) * 100;
  };

  const drawTicket = (s: RaceState): void => {
    if (s.purchaseLeft === 0) drawPurchase(s);
    s.purchaseLeft--;
    cursor.ticketSeq++;
    cursor.placedAtMs = Math.floor(s.nextAtMs);
    cursor.atMs = cursor.placedAtMs;
    cursor.userIndex = s.purchaseUser;
    const slot = s.purchaseSlot;
    cursor.typeSlot = slot;
    const combo = drawAlias(s.comboAlias[slot] as AliasTable, s.rng);
    cursor.comboIndex = combo;
    const flat = (s.comboOffset[slot] as number) + combo;
    cursor.comboFlat = flat;
    const medal = s.purchaseMedal;
    cursor.medal = medal;
    cursor.stake = s.purchaseStake;
    if (!medal) s.cashPoolYen[flat] = (s.cashPoolYen[flat] as number) + s.purchaseStake;
    s.remaining--;
  };

  return {
    races,
    cursor,
    next() {
      if (size === 0) return false;
      const index = heap[0] as number;
      const s = races[index] as RaceState;
      cursor.race = s;
      cursor.kind = s.phase;
      if (s.phase === 0) drawTicket(s);
      else cursor.atMs = s.nextAtMs;
      advance(s);
      if (s.phase === PHASE_DONE) {
        heap[0] = heap[--size] as number;
        heapAtMs[0] = heapAtMs[size] as number;
      } else heapAtMs[0] = s.nextAtMs;
      siftDown(0);
      return true;
    },
  };
}

/** Inlined alias draw (alias.ts sampleAlias) kept local so V8 sees one monomorphic call site. */
function drawAlias(t: AliasTable, rng: Rng): number {
  const i = Math.floor((rng.nextU32() / U32) * t.size);
  return rng.nextU32() < (t.cells[2 * i] as number) ? i : (t.cells[2 * i + 1] as number);
}
