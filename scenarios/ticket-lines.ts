// One ticket record as bytes: precomputed ASCII segments per race and per (combination,
// currency), with the four numbers in between written digit by digit. Shared by the single-thread
// generator and the serializer workers, so both produce the same bytes.
import { ascii, putBytes, putDigits } from './jsonl.ts';
import type { PlannedRace } from './plan.ts';

export const SEG_END = ascii('}\n');
const SEG_USER_ID = ascii('","userId":"u');
const SEG_PLACED = ascii(',"placedAtMs":');
/** Longest ticket line beyond its race and combination segments: fixed text plus digits. */
const TICKET_FIXED_BYTES = 160;

export interface RaceSegments {
  /** `{"kind":"ticket","raceId":"…","ticketId":"t`, and the same preceded by the end of the previous ticket line. */
  readonly open: Uint8Array;
  readonly closeAndOpen: Uint8Array;
  /** Index flat * 2 + (medal ? 1 : 0): `","betType":"…","combination":"…","currency":"…","stake":`. */
  readonly combos: readonly Uint8Array[];
  /** The same followed by the commonest stake and the next key: `…,"stake":100,"placedAtMs":`. */
  readonly combosCommonStake: readonly Uint8Array[];
  readonly lineMaxBytes: number;
}

export type SegmentCache = Map<string, { combos: Uint8Array[]; combosCommonStake: Uint8Array[]; longest: number }>;

/** Most medal tickets stake one unit: its digits and the next key go into the combination segment. */
const COMMON_STAKE = 100;

export function raceSegments(r: PlannedRace, cache: SegmentCache): RaceSegments {
  const key = `${r.field.riders}/${r.betTypes.join(',')}`;
  let c = cache.get(key);
  if (c === undefined) {
    const combos = r.combos.flatMap((t) =>
      t.texts.flatMap((text) => ['cash', 'medal'].map((cur) => ascii(`","betType":"${t.betType}","combination":"${text}","currency":"${cur}","stake":`))),
    );
    const tail = ascii(`${COMMON_STAKE}${new TextDecoder().decode(SEG_PLACED)}`);
    const combosCommonStake = combos.map((seg) => {
      const both = new Uint8Array(seg.length + tail.length);
      both.set(seg);
      both.set(tail, seg.length);
      return both;
    });
    c = { combos, combosCommonStake, longest: Math.max(...combos.map((p) => p.length)) };
    cache.set(key, c);
  }
  const open = `{"kind":"ticket","raceId":"${r.slot.raceId}","ticketId":"t`;
  return { open: ascii(open), closeAndOpen: ascii(`}\n${open}`), combos: c.combos, combosCommonStake: c.combosCommonStake, lineMaxBytes: TICKET_FIXED_BYTES + open.length + c.longest };
}

/**
 * Writes one ticket line at `p` and returns the end. The line is left open (no "}\n"): the next
 * ticket closes it and opens itself in one copy (`open` says a line is pending); whoever writes
 * something else first writes SEG_END.
 */
export function putTicket(
  buf: Uint8Array,
  p: number,
  seg: RaceSegments,
  open: boolean,
  seq: number,
  user: number,
  userDigits: number,
  comboFlat: number,
  medal: boolean,
  stake: number,
  placedAtMs: number,
): number {
  p = putBytes(buf, p, open ? seg.closeAndOpen : seg.open);
  p = putDigits(buf, p, seq, 0);
  p = putBytes(buf, p, SEG_USER_ID);
  p = putDigits(buf, p, user, userDigits);
  const k = comboFlat * 2 + (medal ? 1 : 0);
  if (stake === COMMON_STAKE) p = putBytes(buf, p, seg.combosCommonStake[k] as Uint8Array);
  else {
    p = putBytes(buf, p, seg.combos[k] as Uint8Array);
    p = putDigits(buf, p, stake, 0);
    p = putBytes(buf, p, SEG_PLACED);
  }
  return putDigits(buf, p, placedAtMs, 0);
}

/** Columnar events as the parallel generator hands them to serializers (see parallel.ts). */
export interface TicketColumns {
  readonly count: number;
  /** Race index per event; RACE_TEXT marks a pre-rendered record taken from `texts` in order. */
  readonly race: Uint16Array;
  readonly seq: Uint32Array;
  readonly user: Uint32Array;
  readonly comboFlat: Uint16Array;
  readonly medal: Uint8Array;
  readonly stake: Uint32Array;
  readonly placedAtMs: Uint32Array;
  readonly texts: readonly string[];
}

export const RACE_TEXT = 0xffff;

/**
 * Serializes a batch of events to JSON Lines bytes (whole lines: the last ticket is closed), into
 * `reuse` if it is large enough: a fresh buffer per batch costs page faults and GC.
 */
export function serializeColumns(b: TicketColumns, segs: readonly RaceSegments[], userDigits: number, reuse?: ArrayBuffer): Uint8Array {
  const texts = b.texts.map((t) => ascii(t));
  let lineMax = 0;
  for (const s of segs) lineMax = Math.max(lineMax, s.lineMaxBytes);
  const need = b.count * lineMax + texts.reduce((a, t) => a + t.length, 0) + SEG_END.length;
  const out = reuse !== undefined && reuse.byteLength >= need ? new Uint8Array(reuse) : new Uint8Array(need);
  let p = 0;
  let open = false;
  let nextText = 0;
  for (let i = 0; i < b.count; i++) {
    const race = b.race[i] as number;
    if (race === RACE_TEXT) {
      if (open) p = putBytes(out, p, SEG_END);
      open = false;
      p = putBytes(out, p, texts[nextText++] as Uint8Array);
      continue;
    }
    const seg = segs[race] as RaceSegments;
    p = putTicket(out, p, seg, open, b.seq[i] as number, b.user[i] as number, userDigits, b.comboFlat[i] as number, b.medal[i] === 1, b.stake[i] as number, b.placedAtMs[i] as number);
    open = true;
  }
  if (open) p = putBytes(out, p, SEG_END);
  return out.subarray(0, p);
}
