// `raceday bench memory`: one race on the embedded backend at scale, end to end in real time:
// bulk-load users and tickets (columnar), ingest the result, fan out per user, settle every user
// through the columnar settle path, post-settle (bonuses, notifications, the ranking barrier and
// the day ranking) and count the notifications a client shows. Prints makespanMs, usersPerSecond,
// ticketsPerSecond and rssMbMax (process RSS sampled every few ms).
import { performance } from 'node:perf_hooks';
import { createMemoryBus, createMemoryStore, createRealClock, type MemoryStore } from '../backends/memory/index.ts';
import { parseArgs, UsageError, withUsage } from '../cmdline/args.ts';
import { encodeCombination, enumerateCombinations } from '../core/combination.ts';
import type { RaceResult } from '../core/race-result.ts';
import { createRng, type SeededRng } from '../core/rng.ts';
import { BET_TYPE_CODE, KEIRIN_SALES_PER_MILLE, betTypesSold, type BetType, type Field } from '../core/sports.ts';
import { formatFanoutVariant, parseFanoutVariant, parseNotifyVariant, type PipelineVariants } from '../pipeline/settings.ts';
import { runRealtime } from '../sim/realtime.ts';

export const usage = `usage: raceday bench memory [--users N] [--tickets N] [--seed S] [--workers N] [--max-in-flight N]
                            [--fanout V] [--notify V] [--json]

One 9-rider keirin race with N users (default 1,000,000) and N tickets (default 10,000,000), 80%
free medals, settled end to end on the memory backend: fan-out, settlement (columnar path),
post-settle and notifications. Prints makespanMs (result published -> last notification shown),
settleMakespanMs (-> last settlement), usersPerSecond, ticketsPerSecond, rssMbMax and cpuMs.`;

const FIELD: Field = { sport: 'keirin', riders: 9 };
const RESULT: RaceResult = { status: 'official', order: [[3], [1, 5], [2], [7], [4], [9], [6], [8]] };
const RACE_ID = 'bench-race';
const MEDAL_PER_MILLE = 800;
/** Keirin sales share by bet type in per mille (core/sports.ts). */
const SHARE_PER_MILLE: Readonly<Partial<Record<BetType, number>>> = KEIRIN_SALES_PER_MILLE;
const LOAD_BATCH_TICKETS = 1_000_000;
const RSS_SAMPLE_MS = 20;
const TIMEOUT_MS = 600_000;

/** Draws (bet type code, combination code) pairs with keirin's bet-type shares, combinations uniform. */
function comboDrawer(rng: SeededRng): () => [number, number] {
  const types = betTypesSold(FIELD);
  const table: [number, number[]][] = [];
  for (const t of types) {
    const codes = enumerateCombinations(t, FIELD).map(encodeCombination);
    for (let i = 0; i < (SHARE_PER_MILLE[t] ?? 0); i++) table.push([BET_TYPE_CODE[t], codes]);
  }
  return () => {
    const [bt, codes] = table[rng.int(0, table.length - 1)] as [number, number[]];
    return [bt, codes[rng.int(0, codes.length - 1)] as number];
  };
}

async function loadWorld(store: MemoryStore, users: number, tickets: number, seed: number): Promise<void> {
  const digits = String(users).length;
  const accounts = Array.from({ length: users }, (_, i) => ({ userId: `u${String(i).padStart(digits, '0')}`, cash: 1_000_000, medals: 1_000_000 }));
  await store.putUsers(accounts);
  const userIdx = new Uint32Array(users);
  for (let i = 0; i < users; i++) userIdx[i] = store.userIndexOf((accounts[i] as { userId: string }).userId);
  await store.putRace({ raceId: RACE_ID, sport: FIELD.sport, riders: FIELD.riders, closeAtMs: 0, postAtMs: 0 });
  const rng = createRng(`raceday-bench-memory/${seed}`);
  const draw = comboDrawer(rng);
  for (let from = 0; from < tickets; from += LOAD_BATCH_TICKETS) {
    const count = Math.min(LOAD_BATCH_TICKETS, tickets - from);
    const batch = {
      raceId: RACE_ID,
      count,
      userIdx: new Uint32Array(count),
      betType: new Uint8Array(count),
      comboCode: new Uint16Array(count),
      stakeUnits: new Uint32Array(count),
      currency: new Uint8Array(count),
      ticketNumber: new Uint32Array(count),
    };
    for (let i = 0; i < count; i++) {
      // Every user gets a ticket before anyone gets a second, then the rest at random.
      const n = from + i;
      batch.userIdx[i] = userIdx[n < users ? n : rng.int(0, users - 1)] as number;
      const [bt, code] = draw();
      batch.betType[i] = bt;
      batch.comboCode[i] = code;
      batch.stakeUnits[i] = rng.int(1, 10);
      batch.currency[i] = rng.int(0, 999) < MEDAL_PER_MILLE ? 1 : 0;
      batch.ticketNumber[i] = n;
    }
    store.loadTicketColumns(batch);
  }
  // The open-ticket index is built on first read; build it now, as a database maintains its index
  // while bets are placed, so the makespan measures settlement and not index construction.
  await store.pageUsersWithOpenTickets(RACE_ID, undefined, 1);
}

function variantsOf(flags: Record<string, unknown>): PipelineVariants {
  const fanout = parseFanoutVariant(typeof flags['fanout'] === 'string' ? flags['fanout'] : 'per-user');
  if (!fanout.ok) throw new UsageError(fanout.error.message);
  const notify = parseNotifyVariant(typeof flags['notify'] === 'string' ? flags['notify'] : 'after-commit');
  if (!notify.ok) throw new UsageError(notify.error.message);
  return { fanout: fanout.value, notify: notify.value, settlePath: 'columns' };
}

export function runBench(argv: readonly string[]): Promise<number> {
  return withUsage(usage, async () => {
    const { flags } = parseArgs(argv, {
      users: { type: 'int', min: 1, max: 50_000_000 },
      tickets: { type: 'int', min: 1, max: 200_000_000 },
      seed: { type: 'int', min: 0, max: 2 ** 31 },
      workers: { type: 'int', min: 1, max: 256 },
      'max-in-flight': { type: 'int', min: 1, max: 100_000 },
      fanout: { type: 'string' },
      notify: { type: 'string' },
      json: { type: 'boolean' },
    });
    const users = typeof flags['users'] === 'number' ? flags['users'] : 1_000_000;
    const tickets = typeof flags['tickets'] === 'number' ? flags['tickets'] : 10_000_000;
    if (tickets < users) throw new UsageError(`--tickets (${tickets}) must be at least --users (${users}): every user holds a ticket`);
    const workers = typeof flags['workers'] === 'number' ? flags['workers'] : 8;
    const maxInFlight = typeof flags['max-in-flight'] === 'number' ? flags['max-in-flight'] : 256;
    const variants = variantsOf(flags);
    let rssMax = process.memoryUsage().rss;
    const sample = () => {
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
    };
    const sampler = setInterval(sample, RSS_SAMPLE_MS);
    const clock = createRealClock();
    const bus = createMemoryBus({ clock });
    const store = createMemoryStore({ clock, ledgerLog: false, notificationLog: false, capacityTickets: tickets });
    const loadStarted = performance.now();
    await loadWorld(store, users, tickets, typeof flags['seed'] === 'number' ? flags['seed'] : 1);
    const loadMs = performance.now() - loadStarted;
    const stage = { workers, maxInFlight };
    const cpuBefore = process.cpuUsage();
    const r = await runRealtime({
      store,
      bus,
      clock,
      pipeline: { variants, stages: { settle: stage, postSettle: stage, notify: stage } },
      result: { raceId: RACE_ID, resultVersion: 1, result: RESULT, scratched: [] },
      keepNotifications: false,
      timeoutMs: TIMEOUT_MS,
      onPoll: sample,
    });
    const cpu = process.cpuUsage(cpuBefore);
    clearInterval(sampler);
    sample();
    // End to end: the race result published -> the last notification shown by the client (the
    // users' own or the day ranking, whichever came last).
    const endMs = Math.max(r.notifyMakespanMs, r.rankingMakespanMs);
    const seconds = endMs / 1000;
    const out = {
      bench: 'memory',
      users,
      tickets,
      medalShare: MEDAL_PER_MILLE / 1000,
      variants: { fanout: formatFanoutVariant(variants.fanout), notify: variants.notify, settlePath: variants.settlePath },
      workers,
      maxInFlight,
      loadMs: Math.round(loadMs),
      ingestMs: Math.round(r.ingestMs),
      settledUsers: r.settledUsers,
      notificationsShown: r.client.shownCount(),
      makespanMs: Math.round(endMs),
      notifyMakespanMs: Math.round(r.notifyMakespanMs),
      rankingMakespanMs: Math.round(r.rankingMakespanMs),
      settleMakespanMs: Math.round(r.makespanMs),
      usersPerSecond: Math.round(r.settledUsers / seconds),
      ticketsPerSecond: Math.round(tickets / seconds),
      settleLatencyMs: r.settleLatencyMs,
      rssMbMax: Math.round(rssMax / 2 ** 20),
      // CPU time of the process during the run (all threads): on a shared machine the makespan
      // stretches while this does not, so it tells a busy run from a slow one.
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      handlerErrors: r.counters.handlerErrors,
      timedOut: r.timedOut,
      node: process.version,
    };
    if (flags['json'] === true) process.stdout.write(`${JSON.stringify(out)}\n`);
    else process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return r.timedOut || r.counters.handlerErrors > 0 || r.settledUsers !== users ? 1 : 0;
  });
}
