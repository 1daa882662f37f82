// The day as one chronological event stream: every race contributes its tickets (in placement
// order, with a deadline rush), then a close event, then a result event at result time; races are
// merged by time through a small binary heap. Nothing is allocated per ticket: the current event
// lives in one mutable cursor that writers read before asking for the next.
import { createRng } from '../core/rng.ts';
import { buildAlias, type AliasTable } from './alias.ts';
import { FastRng } from './fast-rng.ts';
import type { DayPlan, PlannedRace } from './plan.ts';

export const EVENT_TICKET = 0;
export const EVENT_CLOSE = 1;
export const EVENT_RESULT = 2;
const PHASE_DONE = 3;

const U32 = 4294967296;

/** Per-race generation state; `cashPoolYen` accumulates cash stakes per flattened combination. */
export interface RaceState {
  readonly race: PlannedRace;
  readonly rng: FastRng;
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

function raceState(race: PlannedRace, rng: FastRng): RaceState {
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
  };
}

export function openDayStream(plan: DayPlan): DayStream {
  const root = createRng(plan.seed).fork('tickets');
  const races = plan.races.map((r) => raceState(r, new FastRng(root.fork(`race/${r.index}`))));
  const users = plan.users > 0 ? plan.userWeights().alias : undefined;
  const { rush } = plan.spec.arrival;
  const rushScale = Math.expm1(rush);
  const medalShareU32 = plan.spec.medalShare * U32;
  const stakes = plan.stakes;

  /** Time of the next ticket: ascending uniform order statistics mapped through the rush CDF. */
  const advance = (s: RaceState): void => {
    if (s.phase === 0 && s.remaining > 0) {
      const w = (s.rng.nextU32() + 1) / U32;
      s.orderStat *= Math.exp(Math.log(w) / s.remaining);
      const u = 1 - s.orderStat;
      const x = rush < 1e-9 ? u : Math.log1p(u * rushScale) / rush;
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

  // Binary min-heap of race indices by (nextAtMs, phase, index).
  const heap = new Int32Array(races.length);
  let size = 0;
  const less = (a: number, b: number): boolean => {
    const ra = races[a] as RaceState;
    const rb = races[b] as RaceState;
    return ra.nextAtMs < rb.nextAtMs || (ra.nextAtMs === rb.nextAtMs && (ra.phase < rb.phase || (ra.phase === rb.phase && a < b)));
  };
  const siftDown = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) return;
      const r = l + 1;
      const c = r < size && less(heap[r] as number, heap[l] as number) ? r : l;
      if (!less(heap[c] as number, heap[i] as number)) return;
      const t = heap[c] as number;
      heap[c] = heap[i] as number;
      heap[i] = t;
      i = c;
    }
  };
  for (const s of races) {
    advance(s);
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

  const drawTicket = (s: RaceState): void => {
    const rng = s.rng;
    cursor.ticketSeq++;
    cursor.placedAtMs = Math.floor(s.nextAtMs);
    cursor.atMs = cursor.placedAtMs;
    cursor.userIndex = drawAlias(users as AliasTable, rng);
    const slot = drawAlias(s.betTypeAlias, rng);
    cursor.typeSlot = slot;
    const combo = drawAlias(s.comboAlias[slot] as AliasTable, rng);
    cursor.comboIndex = combo;
    const flat = (s.comboOffset[slot] as number) + combo;
    cursor.comboFlat = flat;
    const medal = rng.nextU32() < medalShareU32;
    cursor.medal = medal;
    const units = drawAlias(medal ? stakes.medal : stakes.cash, rng) + 1;
    cursor.stake = units * 100;
    if (!medal) s.cashPoolYen[flat] = (s.cashPoolYen[flat] as number) + units * 100;
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
      if (s.phase === PHASE_DONE) heap[0] = heap[--size] as number;
      siftDown(0);
      return true;
    },
  };
}

/** Inlined alias draw (alias.ts sampleAlias) kept local so V8 sees one monomorphic call site. */
function drawAlias(t: AliasTable, rng: FastRng): number {
  const i = Math.floor((rng.nextU32() / U32) * t.size);
  return rng.nextU32() < (t.cells[2 * i] as number) ? i : (t.cells[2 * i + 1] as number);
}
