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
  readonly lineMaxBytes: number;
}

export type SegmentCache = Map<string, { combos: Uint8Array[]; longest: number }>;

export function raceSegments(r: PlannedRace, cache: SegmentCache): RaceSegments {
  const key = `${r.field.riders}/${r.betTypes.join(',')}`;
  let c = cache.get(key);
  if (c === undefined) {
    const combos = r.combos.flatMap((t) =>
      t.texts.flatMap((text) => ['cash', 'medal'].map((cur) => ascii(`","betType":"${t.betType}","combination":"${text}","currency":"${cur}","stake":`))),
    );
    c = { combos, longest: Math.max(...combos.map((p) => p.length)) };
    cache.set(key, c);
  }
  const open = `{"kind":"ticket","raceId":"${r.slot.raceId}","ticketId":"t`;
  return { open: ascii(open), closeAndOpen: ascii(`}\n${open}`), combos: c.combos, lineMaxBytes: TICKET_FIXED_BYTES + open.length + c.longest };
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
  p = putBytes(buf, p, seg.combos[comboFlat * 2 + (medal ? 1 : 0)] as Uint8Array);
  p = putDigits(buf, p, stake, 0);
  p = putBytes(buf, p, SEG_PLACED);
  return putDigits(buf, p, placedAtMs, 0);
}
