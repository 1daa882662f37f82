// The scenario file format: a JSON object validated with zod, every field with a default so a
// preset only states what makes it different. Errors name the field and the allowed range, e.g.
// `races[2].riders: must be 7, 8 or 9 for keirin`.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parseRate } from '../core/rational.ts';
import { BET_TYPES, KEIRIN_SALES_PER_MILLE, SPORTS, SPORT_SPECS, betTypesSold, type BetType, type Sport } from '../core/sports.ts';
import { LIMITS } from './limits.ts';

/** Bet-type shares of tickets (in percent) when a scenario does not give its own. Keirin: national sales (core/sports.ts). */
export const DEFAULT_BET_TYPE_SHARES: Readonly<Record<Sport, Readonly<Partial<Record<BetType, number>>>>> = {
  keirin: Object.fromEntries(Object.entries(KEIRIN_SALES_PER_MILLE).map(([t, perMille]) => [t, perMille / 10])),
  // Assumption: PIST6 sells no brackets; its audience plays trifecta most, win as a beginners' entry.
  pist6: { trifecta: 60, exacta: 15, trio: 10, quinella: 5, wide: 5, win: 5 },
  // Assumption: autorace leans on exacta more than keirin does and sells win and place.
  autorace: { trifecta: 50, exacta: 22, trio: 10, quinella: 7, wide: 5, win: 3, place: 3 },
};

const allowedList = (xs: readonly number[]): string =>
  xs.length === 1 ? String(xs[0]) : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`;

const intIn = (lo: number, hi: number) =>
  z
    .number({ error: `must be an integer in ${lo}..${hi}` })
    .int({ error: `must be an integer in ${lo}..${hi}` })
    .min(lo, { error: `must be an integer in ${lo}..${hi}` })
    .max(hi, { error: `must be an integer in ${lo}..${hi}` });

const numIn = (lo: number, hi: number) =>
  z
    .number({ error: `must be a number in ${lo}..${hi}` })
    .min(lo, { error: `must be a number in ${lo}..${hi}` })
    .max(hi, { error: `must be a number in ${lo}..${hi}` });

const sportSchema = z.enum(SPORTS, { error: `must be one of ${SPORTS.join(', ')}` });
const sharesSchema = z.partialRecord(z.enum(BET_TYPES, { error: `must be a bet type: ${BET_TYPES.join(', ')}` }), numIn(0, 100));
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, { error: 'must be 1..40 characters of a-z, 0-9 and "-"' });

const MEETING_KINDS = ['daytime', 'night', 'midnight'] as const;

const meetingSchema = z.strictObject({
  sport: sportSchema,
  kind: z.enum(MEETING_KINDS, { error: `must be one of ${MEETING_KINDS.join(', ')}` }).default('daytime'),
  /** Venue slug; drawn from the sport's venue list when absent. */
  venue: slug.optional(),
  races: intIn(1, LIMITS.racesPerMeetingMax).optional(),
  /** Riders per race: one number, or a list the calendar draws from per race. */
  riders: z.union([intIn(1, 9), z.array(intIn(1, 9)).min(1)]).optional(),
  firstPostMinute: intIn(0, LIMITS.dayMinutes).optional(),
  intervalMinutes: intIn(1, 120).optional(),
  outsideSalesYenPerRace: intIn(0, LIMITS.outsideSalesYenPerRaceMax).optional(),
});

const raceSchema = z.strictObject({
  raceId: slug.optional(),
  venue: slug,
  sport: sportSchema,
  riders: intIn(1, 9),
  postMinute: intIn(0, LIMITS.dayMinutes),
  /** Share of the day's tickets relative to other races (a normal race weighs 1). */
  weight: numIn(0, 1_000_000).default(1),
  outsideSalesYen: intIn(0, LIMITS.outsideSalesYenPerRaceMax).default(0),
});

export const scenarioSchema = z
  .strictObject({
    name: slug,
    description: z.string().max(500).default(''),
    users: intIn(1, LIMITS.usersMax),
    tickets: intIn(0, LIMITS.ticketsMax),
    /** Fraction of tickets bought with free medals (outside the pools). */
    medalShare: numIn(0, 1).default(0.85),
    meetings: z.array(meetingSchema).max(LIMITS.meetingsMax).default([]),
    races: z.array(raceSchema).max(LIMITS.racesMax).default([]),
    race: z
      .strictObject({
        scratchRate: numIn(0, 0.5).default(0.02),
        deadHeatRate: numIn(0, 1).default(0.01),
        fallRate: numIn(0, 0.5).default(0.01),
        voidRate: numIn(0, 1).default(0.002),
        /** Sigma of log-strength: 0 makes every rider equal. */
        strengthSpread: numIn(0, 3).default(0.7),
      })
      .prefault({}),
    bettors: z
      .strictObject({
        /** Pareto tail of tickets per user: smaller is heavier. */
        activityAlpha: numIn(1.01, 10).default(1.3),
        cashStakeAlpha: numIn(1.01, 10).default(1.4),
        cashStakeUnitsMax: intIn(1, LIMITS.stakeUnitsMax).default(1000),
        medalStakeUnitsMax: intIn(1, 100).default(10),
        /** Mean tickets per purchase (geometric): a formation bet buys several points at once. */
        purchaseSizeMean: numIn(1, 20).default(2.5),
        /** Bettors' strength estimate is strength^temperature: 1 follows the model, 0 ignores it. */
        popularityTemperature: numIn(0, 3).default(1),
        /** Share of combination picks made uniformly at random (longshot players). */
        longshotShare: numIn(0, 1).default(0.05),
        betTypeShares: z.partialRecord(sportSchema, sharesSchema).default({}),
      })
      .prefault({}),
    arrival: z
      .strictObject({
        windowMinutes: intIn(1, LIMITS.dayMinutes).default(60),
        /** Deadline rush: intensity grows as exp(rush * x) over the window (x from 0 to 1); 0 is uniform. */
        rush: numIn(0, 30).default(6),
      })
      .prefault({}),
    timing: z
      .strictObject({
        closeBeforePostMinutes: intIn(0, 60).default(2),
        resultAfterPostMinutes: intIn(1, 60).default(5),
      })
      .prefault({}),
    returnRates: z.partialRecord(z.enum(BET_TYPES), z.string()).default({}),
  })
  .superRefine((spec, ctx) => {
    spec.meetings.forEach((m, i) => {
      const allowed = SPORT_SPECS[m.sport].ridersAllowed;
      const riders = m.riders === undefined ? [] : Array.isArray(m.riders) ? m.riders : [m.riders];
      for (const r of riders) {
        if (!allowed.includes(r)) ctx.addIssue({ code: 'custom', path: ['meetings', i, 'riders'], message: `must be ${allowedList(allowed)} for ${m.sport}` });
      }
    });
    const ids = new Set<string>();
    spec.races.forEach((r, i) => {
      const allowed = SPORT_SPECS[r.sport].ridersAllowed;
      if (!allowed.includes(r.riders)) ctx.addIssue({ code: 'custom', path: ['races', i, 'riders'], message: `must be ${allowedList(allowed)} for ${r.sport}` });
      const id = r.raceId ?? `${r.venue}-${i + 1}`;
      if (ids.has(id)) ctx.addIssue({ code: 'custom', path: ['races', i, 'raceId'], message: `must be unique, "${id}" is used twice` });
      ids.add(id);
    });
    if (spec.meetings.length === 0 && spec.races.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['meetings'], message: 'must list at least one meeting (or give races)' });
    }
    for (const [sport, shares] of Object.entries(spec.bettors.betTypeShares)) {
      const sold = new Set<BetType>([...betTypesSold({ sport: sport as Sport, riders: 9 }), ...betTypesSold({ sport: sport as Sport, riders: 8 })]);
      for (const t of Object.keys(shares ?? {})) {
        if (!sold.has(t as BetType)) ctx.addIssue({ code: 'custom', path: ['bettors', 'betTypeShares', sport, t], message: `is not sold in ${sport} (sold: ${[...sold].join(', ')})` });
      }
    }
    for (const [t, rate] of Object.entries(spec.returnRates)) {
      const r = parseRate(rate);
      if (!r.ok || r.value.num * 100n < r.value.den * 70n) {
        ctx.addIssue({ code: 'custom', path: ['returnRates', t], message: 'must be a decimal string in "0.70".."1" (the legal floor is 70%)' });
      }
    }
  });

export type ScenarioSpec = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type MeetingSpec = ScenarioSpec['meetings'][number];

/** `races[2].riders` from zod's path array. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(top level)' : out;
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

/** Validates a parsed scenario object; throws ScenarioError listing every bad field. */
export function parseScenario(value: unknown, source = 'scenario'): ScenarioSpec {
  const r = scenarioSchema.safeParse(value);
  if (r.success) return r.data;
  const lines = r.error.issues.slice(0, 20).map((i) => `${formatPath(i.path)}: ${i.message}`);
  throw new ScenarioError(`${source} is invalid:\n  ${lines.join('\n  ')}`);
}

const presetsDir = join(dirname(fileURLToPath(import.meta.url)), 'presets');

export function presetNames(): string[] {
  return ['smoke', 'typical-day', 'midnight', 'grand-prix', 'chaos'];
}

/** A preset name (`typical-day`) or a path to a JSON scenario file. */
export function loadScenario(nameOrPath: string): ScenarioSpec {
  const preset = join(presetsDir, `${nameOrPath}.json`);
  const file = /^[a-z0-9-]+$/.test(nameOrPath) && existsSync(preset) ? preset : nameOrPath;
  if (!existsSync(file)) throw new ScenarioError(`scenario "${nameOrPath}" is neither a preset (${presetNames().join(', ')}) nor a file`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ScenarioError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  return parseScenario(json, file);
}
