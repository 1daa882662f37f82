// `raceday bench core`: how fast the pure core settles tickets and computes payout tables.
// A 9-rider keirin race with a realistic ticket mix (80% free medals, bet types by keirin's sales
// shares, combinations weighted towards favourites) is settled through settleColumns, the pricing
// kernel the stores run (the memory store and the Spanner store's columnar path price with it),
// several times; the median run gives `ticketsPerSecond`. `payoutTableMs` is the median time of
// computePayoutTable for the same race with all 7 bet types and every combination staked.
// `pathsAgree` compares the kernel with the object path (settleUserTickets) ticket by ticket:
// status, per100, payout and currency of every ticket both settled, not only the totals.
import { performance } from 'node:perf_hooks';
import { parseArgs, UsageError, withUsage } from '../cmdline/args.ts';
import { encodeCombination, enumerateCombinations, formatCombination, type Combination } from '../core/combination.ts';
import { computePayoutTable, type PayoutInput } from '../core/payout.ts';
import type { RaceResult } from '../core/race-result.ts';
import { createRng, type SeededRng } from '../core/rng.ts';
import { buildOutcomeLookup, createColumnOutput, createTicketColumns, settleColumns, STATUS_OF_CODE, type ColumnOutput, type TicketColumns } from '../core/settle-columns.ts';
import { settleUserTickets } from '../core/settlement.ts';
import { BET_TYPE_CODE, KEIRIN_SALES_PER_MILLE, bracketRiders, betTypesSold, type BetType, type Field } from '../core/sports.ts';
import type { Settlement, TicketOutcome } from '../core/settlement-record.ts';
import type { Ticket } from '../core/ticket.ts';

export const usage = `usage: raceday bench core [--tickets N] [--repetitions N] [--seed S] [--json]

Settles N tickets (default 5,000,000) of a 9-rider keirin race through the columnar fast path and
reports the median of the repetitions, plus payout-table and object-path timings.`;

const FIELD: Field = { sport: 'keirin', riders: 9 };
const RESULT: RaceResult = { status: 'official', order: [[3], [1, 5], [2], [7], [4], [9], [6], [8]] };
const MEDAL_SHARE = 0.8;
/** Keirin sales share by bet type (core/sports.ts), as fractions; mixOf normalises the sum. */
const BET_TYPE_SHARES: Readonly<Record<string, number>> = Object.fromEntries(Object.entries(KEIRIN_SALES_PER_MILLE).map(([t, perMille]) => [t, perMille / 1000]));
/** Riders' popularity: rider 1 the favourite, each next rider ~0.8 times as popular. */
const RIDER_WEIGHTS = [0, 1, 0.8, 0.64, 0.51, 0.41, 0.33, 0.26, 0.21, 0.17];
const PAYOUT_TABLE_REPETITIONS = 300;
const OBJECT_PATH_TICKETS = 200_000;
const TICKETS_PER_USER = 10;
const LAYOUT = 'columnar: betType Uint8 + comboCode Uint16 (decimal digits of the canonical combination) + stakeUnits Uint32 (stake/100) + currency Uint8 = 8 bytes a ticket; the payout table is flattened once per race into Uint8 status and Int32 per100 arrays indexed by currency*9000 + betTypeCode*1000 + comboCode (comboKey), so settling a ticket is two array loads and a multiply with no parsing, hashing or allocation';

interface ComboSampler {
  readonly combos: readonly Combination[];
  readonly cumulative: Float64Array;
}

function weightOf(betType: BetType, combo: Combination): number {
  // A bracket is as popular as its favourite rider.
  const brackets = betType === 'bracket_exacta' || betType === 'bracket_quinella';
  const weight = (n: number) => (brackets ? Math.max(...(bracketRiders(FIELD.riders)[n - 1] ?? []).map((r) => RIDER_WEIGHTS[r] ?? 0)) : (RIDER_WEIGHTS[n] ?? 0));
  return combo.reduce((w, n) => w * weight(n), 1);
}

function samplerOf(betType: BetType): ComboSampler {
  const combos = enumerateCombinations(betType, FIELD);
  const cumulative = new Float64Array(combos.length);
  let sum = 0;
  combos.forEach((c, i) => (cumulative[i] = sum += weightOf(betType, c)));
  for (let i = 0; i < cumulative.length; i++) cumulative[i] = (cumulative[i] as number) / sum;
  return { combos, cumulative };
}

function sampleIndex(cumulative: Float64Array, u: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cumulative[mid] as number) < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Mix {
  readonly types: readonly BetType[];
  readonly typeCumulative: Float64Array;
  readonly samplers: ReadonlyMap<BetType, ComboSampler>;
}

function mixOf(): Mix {
  const types = betTypesSold(FIELD);
  const typeCumulative = new Float64Array(types.length);
  let sum = 0;
  types.forEach((t, i) => (typeCumulative[i] = sum += BET_TYPE_SHARES[t] ?? 0));
  for (let i = 0; i < types.length; i++) typeCumulative[i] = (typeCumulative[i] as number) / sum;
  return { types, typeCumulative, samplers: new Map(types.map((t) => [t, samplerOf(t)])) };
}

function drawTicket(rng: SeededRng, mix: Mix): { betType: BetType; combo: Combination; units: number; medal: boolean } {
  const betType = mix.types[sampleIndex(mix.typeCumulative, rng.float())] as BetType;
  const s = mix.samplers.get(betType) as ComboSampler;
  const combo = s.combos[sampleIndex(s.cumulative, rng.float())] as Combination;
  const medal = rng.float() < MEDAL_SHARE;
  // Most tickets are the minimum stake; a few are larger.
  const units = rng.float() < 0.7 ? 1 : rng.int(2, 50);
  return { betType, combo, units, medal };
}

/** N tickets in columns, and the cash pools they form (plus a baseline on every combination). */
function generateColumns(count: number, rng: SeededRng, mix: Mix): { columns: TicketColumns; pools: PayoutInput['pools'] } {
  const columns = createTicketColumns(count);
  const pools: Partial<Record<BetType, Map<number, number>>> = {};
  for (const t of mix.types) pools[t] = new Map(enumerateCombinations(t, FIELD).map((c) => [encodeCombination(c), 1000]));
  for (let i = 0; i < count; i++) {
    const d = drawTicket(rng, mix);
    const code = encodeCombination(d.combo);
    columns.betType[i] = BET_TYPE_CODE[d.betType];
    columns.comboCode[i] = code;
    columns.stakeUnits[i] = d.units;
    columns.currency[i] = d.medal ? 1 : 0;
    if (!d.medal) {
      const pool = pools[d.betType] as Map<number, number>;
      pool.set(code, (pool.get(code) ?? 0) + d.units * 100);
    }
  }
  columns.count = count;
  return { columns, pools };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function time(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

/** The first ticket on which the kernel's output and the object path's outcomes differ, if any. */
export interface TicketDisagreement {
  readonly row: number;
  readonly columns: { readonly status: string; readonly per100: number; readonly payout: number; readonly currency: string };
  readonly object: { readonly status: string; readonly per100: number; readonly payout: number; readonly currency: string } | undefined;
}

/**
 * Compares, ticket by ticket, the kernel's output for rows [0, outcomes.length) with the object
 * path's outcome of the same ticket (outcomes[row]): status, per100, payout and currency.
 * Returns how many differ and the first that does.
 */
export function compareTickets(columns: TicketColumns, out: ColumnOutput, outcomes: readonly (TicketOutcome | undefined)[]): { readonly compared: number; readonly mismatches: number; readonly first?: TicketDisagreement } {
  let mismatches = 0;
  let first: TicketDisagreement | undefined;
  for (let row = 0; row < outcomes.length; row++) {
    const o = outcomes[row];
    const c = { status: STATUS_OF_CODE[out.status[row] as number] ?? 'invalid', per100: out.per100[row] as number, payout: out.payout[row] as number, currency: columns.currency[row] === 1 ? 'medal' : 'cash' };
    if (o !== undefined && o.status === c.status && o.per100 === c.per100 && o.payout === c.payout && o.currency === c.currency) continue;
    mismatches++;
    first ??= { row, columns: c, object: o === undefined ? undefined : { status: o.status, per100: o.per100, payout: o.payout, currency: o.currency } };
  }
  return first === undefined ? { compared: outcomes.length, mismatches } : { compared: outcomes.length, mismatches, first };
}

/** The object path on the first tickets of the columns, grouped into users of TICKETS_PER_USER tickets; outcomes by row. */
function objectPath(columns: TicketColumns, table: ReturnType<typeof computePayoutTable>, mix: Mix): { perSecond: number; cashPaid: number; medalsPaid: number; count: number; outcomes: (TicketOutcome | undefined)[] } {
  const count = Math.min(OBJECT_PATH_TICKETS, columns.count);
  const typeOfCode = new Map(mix.types.map((t) => [BET_TYPE_CODE[t], t]));
  const users: Ticket[][] = [];
  for (let i = 0; i < count; i++) {
    const betType = typeOfCode.get(columns.betType[i] as number) as BetType;
    const combo = String(columns.comboCode[i]).split('').map(Number);
    const userId = `u${Math.floor(i / TICKETS_PER_USER)}`;
    const t: Ticket = { ticketId: `t${i}`, userId, raceId: 'r1', betType, combination: formatCombination(betType, combo), stake: (columns.stakeUnits[i] as number) * 100, currency: columns.currency[i] === 1 ? 'medal' : 'cash' };
    if (i % TICKETS_PER_USER === 0) users.push([]);
    (users[users.length - 1] as Ticket[]).push(t);
  }
  let cashPaid = 0;
  let medalsPaid = 0;
  const settled: Settlement[] = [];
  const ms = time(() => {
    for (const tickets of users) {
      const r = settleUserTickets({ raceId: 'r1', userId: (tickets[0] as Ticket).userId, resultVersion: 1, tickets, table, field: FIELD });
      if (!r.ok) throw new Error(`bench ticket did not settle: ${r.error.message}`);
      cashPaid += r.value.cashDelta;
      medalsPaid += r.value.medalDelta;
      settled.push(r.value);
    }
  });
  // Ticket t<row> is row <row> of the columns.
  const outcomes: (TicketOutcome | undefined)[] = new Array(count).fill(undefined);
  for (const s of settled) for (const o of s.outcomes) outcomes[Number(o.ticketId.slice(1))] = o;
  return { perSecond: Math.round(count / (ms / 1000)), cashPaid, medalsPaid, count, outcomes };
}

function payoutTableMs(): number {
  const rng = createRng('payout-table');
  const pools: Partial<Record<BetType, Map<number, number>>> = {};
  for (const t of betTypesSold(FIELD)) pools[t] = new Map(enumerateCombinations(t, FIELD).map((c) => [encodeCombination(c), 100 * rng.int(1, 10_000)]));
  const input: PayoutInput = { field: FIELD, scratched: [], result: RESULT, pools };
  for (let i = 0; i < 20; i++) computePayoutTable(input); // warm up the JIT
  const runs: number[] = [];
  for (let i = 0; i < PAYOUT_TABLE_REPETITIONS; i++) runs.push(time(() => computePayoutTable(input)));
  return median(runs);
}

export async function runBench(argv: readonly string[]): Promise<number> {
  return withUsage(usage, async () => {
    const { flags, positionals } = parseArgs(argv, {
      tickets: { type: 'int', min: 1, max: 100_000_000 },
      repetitions: { type: 'int', min: 1, max: 50 },
      seed: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    });
    if (flags.help === true) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const count = (flags.tickets as number | undefined) ?? 5_000_000;
    const repetitions = (flags.repetitions as number | undefined) ?? 5;
    const seed = (flags.seed as string | undefined) ?? 'bench-core';
    const mix = mixOf();
    const { columns, pools } = generateColumns(count, createRng(seed), mix);
    const table = computePayoutTable({ field: FIELD, scratched: [], result: RESULT, pools });
    let lookup = buildOutcomeLookup(table, FIELD);
    const lookupBuildMs = time(() => (lookup = buildOutcomeLookup(table, FIELD)));
    const out = createColumnOutput(count);
    settleColumns(columns, lookup, 0, Math.min(count, 100_000), out); // warm up the JIT
    const runs: number[] = [];
    let totals = settleColumns(columns, lookup, 0, count, out);
    for (let i = 0; i < repetitions; i++) runs.push(time(() => (totals = settleColumns(columns, lookup, 0, count, out))));
    const settleMs = median(runs);
    const object = objectPath(columns, table, mix);
    const prefixOut = createColumnOutput(object.count);
    const prefix = settleColumns(columns, lookup, 0, object.count, prefixOut);
    const tickets = compareTickets(columns, prefixOut, object.outcomes);
    const report = {
      bench: 'core',
      node: process.version,
      tickets: count,
      repetitions,
      ticketsPerSecond: Math.round(count / (settleMs / 1000)),
      settleMsMedian: Number(settleMs.toFixed(2)),
      settleMsRuns: runs.map((r) => Number(r.toFixed(2))),
      payoutTableMs: Number(payoutTableMs().toFixed(4)),
      payoutTableRepetitions: PAYOUT_TABLE_REPETITIONS,
      lookupBuildMs: Number(lookupBuildMs.toFixed(3)),
      settleUserTicketsPerSecond: object.perSecond,
      objectPathTickets: object.count,
      objectPathTicketsPerUser: TICKETS_PER_USER,
      // The object path and the kernel settled every ticket alike (and so to the same totals).
      pathsAgree: tickets.mismatches === 0 && prefix.invalid === 0 && prefix.cashPaid === object.cashPaid && prefix.medalsPaid === object.medalsPaid,
      ticketsCompared: tickets.compared,
      ticketMismatches: tickets.mismatches,
      ...(tickets.first === undefined ? {} : { firstMismatch: tickets.first }),
      totals,
      mix: { medalShare: MEDAL_SHARE, betTypeShares: BET_TYPE_SHARES, riders: FIELD.riders, result: RESULT, combos: 'weighted by rider popularity (0.8 per rank)' },
      bytesPerTicket: 8,
      layout: LAYOUT,
      seed,
    };
    if (flags.json === true) process.stdout.write(`${JSON.stringify(report)}\n`);
    else process.stdout.write(summary(report));
    return report.pathsAgree ? 0 : 1;
  });
}

function summary(r: { ticketsPerSecond: number; tickets: number; settleMsMedian: number; payoutTableMs: number; settleUserTicketsPerSecond: number; lookupBuildMs: number; pathsAgree: boolean; node: string; layout: string }): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    `raceday bench core (node ${r.node})`,
    `  columnar settlement   ${n(r.ticketsPerSecond)} tickets/s  (${n(r.tickets)} tickets, median ${r.settleMsMedian} ms)`,
    `  settleUserTickets     ${n(r.settleUserTicketsPerSecond)} tickets/s  (object path, 10 tickets a user)`,
    `  payout table          ${r.payoutTableMs} ms  (9-rider keirin, 7 bet types, every combination staked)`,
    `  lookup build          ${r.lookupBuildMs} ms per race`,
    `  paths agree           ${r.pathsAgree ? 'yes' : 'NO'}`,
    `  layout: ${r.layout}`,
    '',
  ].join('\n');
}
