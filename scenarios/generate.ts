// `raceday generate` as a library: writes a whole race day as JSON Lines to a synchronous byte
// sink in constant memory. Record kinds, in order of appearance:
//   {"kind":"scenario", name, seed, generatorVersion, races, users, tickets, medalShare}   (first line)
//   {"kind":"race", raceId, venue, sport, riders, opensAtMs, closeAtMs, postAtMs, resultAtMs, tickets}
//   {"kind":"user", userId, cash, medals}                       (opening balances)
//   then, chronologically (scenario clock, ms from 00:00):
//   {"kind":"ticket", raceId, ticketId, userId, betType, combination, currency, stake, placedAtMs}
//   {"kind":"close", raceId, atMs}                              (betting closes)
//   {"kind":"result", raceId, atMs, sport, riders, scratched, result, pools, returnRate?}
//       `pools` are the official pools (cash tickets + outside sales, yen per combination); the
//       fields sport..returnRate are exactly one input line of `raceday payout`.
//   {"kind":"end", tickets, cashTickets, medalTickets}          (last line)
import type { BetType } from '../core/sports.ts';
import { weightOfUser } from './activity.ts';
import { userAccount, type BalanceInputs } from './bettors.ts';
import { ascii, LineWriter, type ByteSink } from './jsonl.ts';
import { putTicket, raceSegments, SEG_END, type RaceSegments, type SegmentCache } from './ticket-lines.ts';
import { LIMITS } from './limits.ts';
import { buildPlan, GENERATOR_VERSION, type DayPlan } from './plan.ts';
import type { ScenarioSpec } from './spec.ts';
import { EVENT_CLOSE, EVENT_TICKET, openDayStream, type RaceState } from './stream.ts';

export interface GenerateSummary {
  readonly scenario: string;
  readonly seed: number;
  readonly races: number;
  readonly users: number;
  readonly tickets: number;
  readonly cashTickets: number;
  readonly medalTickets: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly ticketsPerSecond: number;
  /** Peak resident set of the process so far (getrusage maxrss). */
  readonly rssMbMax: number;
}

export interface GenerateOptions {
  readonly sink: ByteSink;
  /** Called every `progressEveryTickets` tickets and once at the end. */
  readonly onProgress?: (ticketsDone: number, ticketsTotal: number) => void;
  readonly progressEveryTickets?: number;
}

/** Official pools of a race: cash stakes generated so far plus outside sales, yen per combination. */
export function officialPools(s: RaceState): Partial<Record<BetType, Record<string, number>>> {
  const out: Partial<Record<BetType, Record<string, number>>> = {};
  s.race.combos.forEach((table, slot) => {
    const outside = s.race.outsidePools[table.betType] ?? {};
    const pool: Record<string, number> = {};
    table.texts.forEach((text, i) => {
      const yen = (s.cashPoolYen[(s.comboOffset[slot] as number) + i] as number) + (outside[text] ?? 0);
      if (yen > 0) pool[text] = yen;
    });
    if (Object.keys(pool).length > 0) out[table.betType] = pool;
  });
  return out;
}

export function line(w: LineWriter, value: object): void {
  w.text(`${JSON.stringify(value)}\n`);
}

export function writeHeader(w: LineWriter, plan: DayPlan): void {
  const { spec } = plan;
  line(w, { kind: 'scenario', name: spec.name, seed: plan.seed, generatorVersion: GENERATOR_VERSION, races: plan.races.length, users: plan.users, tickets: plan.tickets, medalShare: spec.medalShare });
  for (const r of plan.races) {
    const { raceId, venue, sport, riders, opensAtMs, closeAtMs, postAtMs, resultAtMs } = r.slot;
    line(w, { kind: 'race', raceId, venue, sport, riders, opensAtMs, closeAtMs, postAtMs, resultAtMs, tickets: r.ticketCount });
  }
}

/** Longest user line: fixed text, a user id and two balances. */
const USER_LINE_MAX_BYTES = 96;
const SEG_USER = ascii('{"kind":"user","userId":"u');
const SEG_USER_CASH = ascii('","cash":');
const SEG_USER_MEDALS = ascii(',"medals":');

export function writeUsers(w: LineWriter, plan: DayPlan, from = 0, to = plan.users): void {
  const b: BalanceInputs = { tickets: plan.tickets, totalWeight: plan.activity.totalWeight, medalShare: plan.spec.medalShare, stakes: plan.stakes };
  for (let i = from; i < to; i++) {
    const a = userAccount(i, plan.userDigits, weightOfUser(plan.activity, i), b);
    w.ensure(USER_LINE_MAX_BYTES);
    w.bytes(SEG_USER);
    w.padded(i, plan.userDigits);
    w.bytes(SEG_USER_CASH);
    w.uint(a.cash);
    w.bytes(SEG_USER_MEDALS);
    w.uint(a.medals);
    w.bytes(SEG_END);
  }
}

/** The user lines [from, to) as one byte array (a parallel generator job). */
export function userLines(plan: DayPlan, from: number, to: number): Uint8Array {
  const w = new LineWriter(() => {
    throw new Error('invariant violated: user lines overflow their buffer');
  }, (to - from) * USER_LINE_MAX_BYTES + 1);
  writeUsers(w, plan, from, to);
  return w.buf.subarray(0, w.pos);
}

/** The `close` or `result` record of a race as one line of text (rare: JSON.stringify is fine). */
export function raceEventLine(s: RaceState, kind: number, atMs: number, returnRates: Readonly<Record<string, string>>): string {
  const r = s.race;
  if (kind === EVENT_CLOSE) return `${JSON.stringify({ kind: 'close', raceId: r.slot.raceId, atMs })}\n`;
  const rates = Object.keys(returnRates).length > 0 ? { returnRate: returnRates } : {};
  const record = { kind: 'result', raceId: r.slot.raceId, atMs, sport: r.field.sport, riders: r.field.riders, scratched: r.scratched, result: r.result, pools: officialPools(s), ...rates };
  return `${JSON.stringify(record)}\n`;
}

export function generateJsonl(spec: ScenarioSpec, seed: number, opts: GenerateOptions): GenerateSummary {
  const startedMs = performance.now();
  const plan = buildPlan(spec, seed);
  const w = new LineWriter(opts.sink, LIMITS.outputBufferBytes);
  writeHeader(w, plan);
  writeUsers(w, plan);
  const stream = openDayStream(plan);
  const cache: SegmentCache = new Map();
  const segs = plan.races.map((r) => raceSegments(r, cache));
  const cur = stream.cursor;
  const digits = plan.userDigits;
  const every = opts.progressEveryTickets ?? 1 << 20;
  let tickets = 0;
  let cash = 0;
  // A ticket line is left open (without "}\n") so the next ticket closes it and opens itself in one copy.
  let open = false;
  while (stream.next()) {
    if (cur.kind !== EVENT_TICKET) {
      if (open) w.bytes(SEG_END);
      open = false;
      w.text(raceEventLine(cur.race, cur.kind, cur.atMs, spec.returnRates));
      continue;
    }
    const seg = segs[cur.race.race.index] as RaceSegments;
    w.ensure(seg.lineMaxBytes);
    w.pos = putTicket(w.buf, w.pos, seg, open, cur.ticketSeq, cur.userIndex, digits, cur.comboFlat, cur.medal, cur.stake, cur.placedAtMs);
    open = true;
    tickets++;
    if (!cur.medal) cash++;
    if (tickets % every === 0) opts.onProgress?.(tickets, plan.tickets);
  }
  if (open) w.bytes(SEG_END);
  line(w, { kind: 'end', tickets, cashTickets: cash, medalTickets: tickets - cash });
  w.flush();
  opts.onProgress?.(tickets, plan.tickets);
  return summarize(spec, seed, plan, tickets, cash, w.bytesWritten, startedMs);
}

export function summarize(spec: ScenarioSpec, seed: number, plan: DayPlan, tickets: number, cash: number, bytes: number, startedMs: number): GenerateSummary {
  const seconds = (performance.now() - startedMs) / 1000;
  return {
    scenario: spec.name,
    seed,
    races: plan.races.length,
    users: plan.users,
    tickets,
    cashTickets: cash,
    medalTickets: tickets - cash,
    bytes,
    seconds: Math.round(seconds * 1000) / 1000,
    ticketsPerSecond: Math.round(tickets / Math.max(seconds, 1e-9)),
    rssMbMax: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
