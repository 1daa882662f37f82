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
import { ascii, LineWriter, putBytes, putDigits, type ByteSink } from './jsonl.ts';
import { LIMITS } from './limits.ts';
import { buildPlan, GENERATOR_VERSION, type DayPlan, type PlannedRace } from './plan.ts';
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

const SEG_USER_ID = ascii('","userId":"u');
const SEG_PLACED = ascii(',"placedAtMs":');
const SEG_END = ascii('}\n');
/** Longest ticket line: fixed text, the race segment and the longest combination segment, plus digits. */
const TICKET_FIXED_BYTES = 160;

interface RaceSegments {
  /** `{"kind":"ticket","raceId":"…","ticketId":"t`, and the same preceded by the end of the previous ticket line. */
  readonly open: Uint8Array;
  readonly closeAndOpen: Uint8Array;
  /** Index flat * 2 + (medal ? 1 : 0): `","betType":"…","combination":"…","currency":"…","stake":`. */
  readonly combos: readonly Uint8Array[];
  readonly lineMaxBytes: number;
}

type SegmentCache = Map<string, { combos: Uint8Array[]; longest: number }>;

function raceSegments(r: PlannedRace, cache: SegmentCache): RaceSegments {
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

function line(w: LineWriter, value: object): void {
  w.text(`${JSON.stringify(value)}\n`);
}

function writeHeader(w: LineWriter, plan: DayPlan): void {
  const { spec } = plan;
  line(w, { kind: 'scenario', name: spec.name, seed: plan.seed, generatorVersion: GENERATOR_VERSION, races: plan.races.length, users: plan.users, tickets: plan.tickets, medalShare: spec.medalShare });
  for (const r of plan.races) {
    const { raceId, venue, sport, riders, opensAtMs, closeAtMs, postAtMs, resultAtMs } = r.slot;
    line(w, { kind: 'race', raceId, venue, sport, riders, opensAtMs, closeAtMs, postAtMs, resultAtMs, tickets: r.ticketCount });
  }
}

const SEG_USER = ascii('{"kind":"user","userId":"u');
const SEG_USER_CASH = ascii('","cash":');
const SEG_USER_MEDALS = ascii(',"medals":');

function writeUsers(w: LineWriter, plan: DayPlan): void {
  const b: BalanceInputs = { tickets: plan.tickets, totalWeight: plan.activity.totalWeight, medalShare: plan.spec.medalShare, stakes: plan.stakes };
  for (let i = 0; i < plan.users; i++) {
    const a = userAccount(i, plan.userDigits, weightOfUser(plan.activity, i), b);
    w.ensure(96);
    w.bytes(SEG_USER);
    w.padded(i, plan.userDigits);
    w.bytes(SEG_USER_CASH);
    w.uint(a.cash);
    w.bytes(SEG_USER_MEDALS);
    w.uint(a.medals);
    w.bytes(SEG_END);
  }
}

function writeRaceEvent(w: LineWriter, s: RaceState, kind: number, atMs: number, returnRates: Readonly<Record<string, string>>): void {
  const r = s.race;
  if (kind === EVENT_CLOSE) {
    line(w, { kind: 'close', raceId: r.slot.raceId, atMs });
    return;
  }
  const rates = Object.keys(returnRates).length > 0 ? { returnRate: returnRates } : {};
  line(w, { kind: 'result', raceId: r.slot.raceId, atMs, sport: r.field.sport, riders: r.field.riders, scratched: r.scratched, result: r.result, pools: officialPools(s), ...rates });
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
      writeRaceEvent(w, cur.race, cur.kind, cur.atMs, spec.returnRates);
      continue;
    }
    const seg = segs[cur.race.race.index] as RaceSegments;
    w.ensure(seg.lineMaxBytes);
    const buf = w.buf;
    let p = putBytes(buf, w.pos, open ? seg.closeAndOpen : seg.open);
    open = true;
    p = putDigits(buf, p, cur.ticketSeq, 0);
    p = putBytes(buf, p, SEG_USER_ID);
    p = putDigits(buf, p, cur.userIndex, digits);
    p = putBytes(buf, p, seg.combos[cur.comboFlat * 2 + (cur.medal ? 1 : 0)] as Uint8Array);
    p = putDigits(buf, p, cur.stake, 0);
    p = putBytes(buf, p, SEG_PLACED);
    w.pos = putDigits(buf, p, cur.placedAtMs, 0);
    tickets++;
    if (!cur.medal) cash++;
    if (tickets % every === 0) opts.onProgress?.(tickets, plan.tickets);
  }
  if (open) w.bytes(SEG_END);
  line(w, { kind: 'end', tickets, cashTickets: cash, medalTickets: tickets - cash });
  w.flush();
  opts.onProgress?.(tickets, plan.tickets);
  const seconds = (performance.now() - startedMs) / 1000;
  return {
    scenario: spec.name,
    seed,
    races: plan.races.length,
    users: plan.users,
    tickets,
    cashTickets: cash,
    medalTickets: tickets - cash,
    bytes: w.bytesWritten,
    seconds: Math.round(seconds * 1000) / 1000,
    ticketsPerSecond: Math.round(tickets / Math.max(seconds, 1e-9)),
    rssMbMax: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}
