// The day's card: meetings expand into races with post, close and result times, riders and a
// weight that decides each race's share of the day's tickets. Times are ms on the scenario clock
// (0 = 00:00 of the day).
import type { SeededRng } from '../core/rng.ts';
import type { Sport } from '../core/sports.ts';
import type { MeetingSpec, ScenarioSpec } from './spec.ts';
import { VENUES } from './venues.ts';

export interface RaceSlot {
  readonly raceId: string;
  readonly venue: string;
  readonly sport: Sport;
  readonly riders: number;
  readonly opensAtMs: number;
  readonly closeAtMs: number;
  readonly postAtMs: number;
  readonly resultAtMs: number;
  readonly weight: number;
  readonly outsideSalesYen: number;
}

const MINUTE_MS = 60_000;

/**
 * The instant scenario time 0 stands for once races go into a store: 00:00 in Japan (UTC+9) on a
 * fixed date, 2026-12-30. Why: a store keeps post times as instants and the day missions count a
 * race on the Japan date of its post time, while scenario times are ms from the venue's midnight;
 * taken as instants they would start at 09:00 in Japan and put every race from 15:00 on the next
 * day.
 */
export const SCENARIO_DAY_START_MS = Date.UTC(2026, 11, 29, 15, 0, 0);

/** The instant of a scenario time (see SCENARIO_DAY_START_MS). */
export function scenarioInstantMs(scenarioMs: number): number {
  return SCENARIO_DAY_START_MS + scenarioMs;
}

interface KindDefaults {
  readonly races: number;
  readonly riders: readonly number[];
  readonly firstPostMinute: number;
  readonly intervalMinutes: number;
  readonly outsideSalesYenPerRace: number;
}

/**
 * Typical cards. Outside sales per race: keirin sells about 1.2 trillion yen over ~2,700 venue-days
 * of ~11 races (≈ 40M yen a race); midnight races sell far less; autorace ≈ 100 billion a year.
 * Daytime keirin mixes 9-rider races with 7-rider girls' races (about one in four).
 */
function kindDefaults(sport: Sport, kind: MeetingSpec['kind']): KindDefaults {
  if (sport === 'keirin') {
    if (kind === 'midnight') return { races: 7, riders: [7], firstPostMinute: 21 * 60, intervalMinutes: 20, outsideSalesYenPerRace: 8_000_000 };
    const first = kind === 'night' ? 15 * 60 + 30 : 10 * 60 + 30;
    return { races: 12, riders: [9, 9, 9, 7], firstPostMinute: first, intervalMinutes: 30, outsideSalesYenPerRace: 40_000_000 };
  }
  if (sport === 'pist6') return { races: 12, riders: [6], firstPostMinute: kind === 'daytime' ? 11 * 60 : 17 * 60, intervalMinutes: 20, outsideSalesYenPerRace: 3_000_000 };
  const first = kind === 'midnight' ? 20 * 60 + 30 : kind === 'night' ? 15 * 60 : 11 * 60;
  return { races: kind === 'midnight' ? 9 : 12, riders: [8], firstPostMinute: first, intervalMinutes: kind === 'midnight' ? 20 : 30, outsideSalesYenPerRace: 6_000_000 };
}

function pickVenue(sport: Sport, used: Set<string>, rng: SeededRng): string {
  const all = VENUES[sport];
  const free = all.filter((v) => !used.has(v));
  const pool = free.length > 0 ? free : all;
  return pool[rng.int(0, pool.length - 1)] as string;
}

function slot(spec: ScenarioSpec, base: Omit<RaceSlot, 'opensAtMs' | 'closeAtMs' | 'resultAtMs'>): RaceSlot {
  const closeAtMs = base.postAtMs - spec.timing.closeBeforePostMinutes * MINUTE_MS;
  return {
    ...base,
    closeAtMs,
    opensAtMs: Math.max(0, closeAtMs - spec.arrival.windowMinutes * MINUTE_MS),
    resultAtMs: base.postAtMs + spec.timing.resultAfterPostMinutes * MINUTE_MS,
  };
}

/** Expands meetings and explicit races into race slots ordered by post time (then id). */
export function buildCalendar(spec: ScenarioSpec, rng: SeededRng): RaceSlot[] {
  const slots: RaceSlot[] = [];
  const usedVenues = new Map<Sport, Set<string>>();
  for (const m of spec.meetings) {
    const d = kindDefaults(m.sport, m.kind);
    const used = usedVenues.get(m.sport) ?? new Set<string>();
    usedVenues.set(m.sport, used);
    const venue = m.venue ?? pickVenue(m.sport, used, rng);
    used.add(venue);
    // Meetings of one kind start a few minutes apart so post times interleave as on a real day.
    const offsetMinutes = m.firstPostMinute === undefined ? rng.int(0, 5) * 5 : 0;
    const first = (m.firstPostMinute ?? d.firstPostMinute) + offsetMinutes;
    const races = m.races ?? d.races;
    const riderChoices = m.riders === undefined ? d.riders : Array.isArray(m.riders) ? m.riders : [m.riders];
    for (let r = 1; r <= races; r++) {
      const riders = riderChoices[rng.int(0, riderChoices.length - 1)] as number;
      const isFinal = r === races;
      slots.push(
        slot(spec, {
          raceId: `${venue}-${m.kind}-${String(r).padStart(2, '0')}`,
          venue,
          sport: m.sport,
          riders,
          postAtMs: (first + (r - 1) * (m.intervalMinutes ?? d.intervalMinutes)) * MINUTE_MS,
          // The last race of a card (the final) sells about twice an ordinary race.
          weight: isFinal ? 2 : 1,
          outsideSalesYen: (m.outsideSalesYenPerRace ?? d.outsideSalesYenPerRace) * (isFinal ? 2 : 1),
        }),
      );
    }
  }
  spec.races.forEach((r, i) => {
    slots.push(
      slot(spec, {
        raceId: r.raceId ?? `${r.venue}-${i + 1}`,
        venue: r.venue,
        sport: r.sport,
        riders: r.riders,
        postAtMs: r.postMinute * MINUTE_MS,
        weight: r.weight,
        outsideSalesYen: r.outsideSalesYen,
      }),
    );
  });
  const ids = new Set<string>();
  for (const s of slots) {
    if (ids.has(s.raceId)) throw new Error(`scenario ${spec.name}: race id ${s.raceId} appears twice (give meetings distinct venues)`);
    ids.add(s.raceId);
  }
  return slots.sort((a, b) => a.postAtMs - b.postAtMs || (a.raceId < b.raceId ? -1 : a.raceId > b.raceId ? 1 : 0));
}

/** Splits `total` tickets over races in proportion to weight, exactly (largest remainder, ties by index). */
export function splitTickets(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) return weights.map(() => 0);
  const exact = weights.map((w) => (total * w) / sum);
  const out = exact.map((x) => Math.floor(x));
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((x, i) => ({ i, frac: x - Math.floor(x) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let k = 0; left > 0; k = (k + 1) % order.length, left--) out[(order[k] as { i: number }).i]! += 1;
  return out;
}
