// Measures the memory store alone at scale: bulk-load N tickets for U users into one keirin race
// (80% free-medal), then settle every user through settleUser with the core's settlement
// function, paging users the way the fan-out does. Prints one JSON object.
//   npx tsx backends/memory/store-bench.ts --users 1000000 --tickets 10000000 [--path objects|columns]
// `objects` settles through settleUser + core settleUserTickets (Ticket objects per user),
// `columns` through settleUserColumns + core buildOutcomeLookup (no per-ticket objects).
import { enumerateCombinations, encodeCombination } from '../../core/combination.ts';
import { computePayoutTable } from '../../core/payout.ts';
import type { Settlement } from '../../core/settlement-record.ts';
import { settleUserTickets } from '../../core/settlement.ts';
import { buildOutcomeLookup } from '../../core/settle-columns.ts';
import { BET_TYPE_CODE, KEIRIN_SALES_PER_MILLE, betTypesSold, type BetType, type Field } from '../../core/sports.ts';
import { createRng } from '../../core/rng.ts';
import { createMemoryStore } from './store.ts';

const BATCH_TICKETS = 1 << 20;
const PAGE_USERS = 1_000;
const MEDAL_SHARE_PERCENT = 80;
/** Bet type shares in per mille (keirin national sales, core/sports.ts), trifecta-heavy. */
const SHARES = Object.entries(KEIRIN_SALES_PER_MILLE) as [BetType, number][];

function flag(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${argv[i + 1]}`);
  return v;
}

/** CPU time of this process (user + system): steadier than wall time on a shared machine. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const rssMb = () => Math.round(process.memoryUsage().rss / 1e6);
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1e3);

async function main(argv: readonly string[]): Promise<void> {
  const users = flag(argv, 'users', 100_000);
  const path = argv.includes('--path') ? argv[argv.indexOf('--path') + 1] : 'objects';
  if (path !== 'objects' && path !== 'columns') throw new Error(`--path must be objects or columns, got ${path}`);
  const ticketCount = flag(argv, 'tickets', 1_000_000);
  const rng = createRng(`store-bench/${users}/${ticketCount}`);
  const field: Field = { sport: 'keirin', riders: 9 };
  const raceId = 'R1';
  const store = createMemoryStore({ ledgerLog: false, capacityTickets: ticketCount });
  const t0 = performance.now();
  const c0 = cpuMs();
  const accounts = Array.from({ length: users }, (_, i) => ({ userId: `U${String(i).padStart(7, '0')}`, cash: 1_000_000, medals: 1_000_000 }));
  await store.putUsers(accounts);
  await store.putRace({ raceId, sport: field.sport, riders: field.riders, closeAtMs: 0, postAtMs: 0 });
  const sold = new Set(betTypesSold(field));
  const typeTable: number[] = [];
  for (const [t, perMille] of SHARES) if (sold.has(t)) for (let i = 0; i < perMille; i++) typeTable.push(BET_TYPE_CODE[t]);
  const combos = new Map<number, Uint16Array>();
  for (const t of sold) combos.set(BET_TYPE_CODE[t], Uint16Array.from(enumerateCombinations(t, field).map(encodeCombination)));
  const batch = {
    raceId,
    count: 0,
    userIdx: new Uint32Array(BATCH_TICKETS),
    betType: new Uint8Array(BATCH_TICKETS),
    comboCode: new Uint16Array(BATCH_TICKETS),
    stakeUnits: new Uint32Array(BATCH_TICKETS),
    currency: new Uint8Array(BATCH_TICKETS),
    ticketNumber: new Uint32Array(BATCH_TICKETS),
  };
  for (let start = 0; start < ticketCount; start += BATCH_TICKETS) {
    const n = Math.min(BATCH_TICKETS, ticketCount - start);
    for (let i = 0; i < n; i++) {
      const bt = typeTable[rng.nextU32() % typeTable.length] as number;
      const codes = combos.get(bt) as Uint16Array;
      const medal = rng.nextU32() % 100 < MEDAL_SHARE_PERCENT;
      batch.userIdx[i] = rng.nextU32() % users;
      batch.betType[i] = bt;
      batch.comboCode[i] = codes[rng.nextU32() % codes.length] as number;
      batch.stakeUnits[i] = medal ? 1 : 1 + (rng.nextU32() % 10);
      batch.currency[i] = medal ? 1 : 0;
      batch.ticketNumber[i] = start + i + 1;
    }
    store.loadTicketColumns({ ...batch, count: n });
  }
  const loadedMs = performance.now() - t0;
  const loadCpuMs = cpuMs() - c0;
  const tIndex = performance.now();
  const cIndex = cpuMs();
  store.indexRace(raceId);
  const indexMs = performance.now() - tIndex;
  const indexCpuMs = cpuMs() - cIndex;
  const rssAfterLoadMb = rssMb();
  const table = computePayoutTable({ field, scratched: [], result: { status: 'official', order: [[3], [1], [5], [2], [4], [6], [7], [8], [9]] }, pools: await store.cashPools!(raceId) });
  const compute = (input: Parameters<Parameters<typeof store.settleUser>[3]>[0]): Settlement => {
    const r = settleUserTickets({ ...input, resultVersion: 1, table, field });
    if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
    return r.value;
  };
  const lookup = buildOutcomeLookup(table, field);
  const t1 = performance.now();
  const c1 = cpuMs();
  let settledUsers = 0;
  let settledTickets = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await store.pageUsersWithOpenTickets(raceId, cursor, PAGE_USERS);
    if (page.length === 0) break;
    if (path === 'objects') {
      const results = await Promise.all(page.map((u) => store.settleUser(raceId, u, 1, compute)));
      for (const r of results) {
        if (r.kind !== 'applied') throw new Error(`unexpected ${r.kind}`);
        settledUsers++;
        settledTickets += r.settlement.outcomes.length;
      }
    } else {
      const results = await Promise.all(page.map((u) => store.settleUserColumns(raceId, u, 1, lookup)));
      for (const r of results) {
        if (r.kind !== 'applied') throw new Error(`unexpected ${r.kind}`);
        settledUsers++;
        settledTickets += r.settlement.tickets;
      }
    }
    cursor = page[page.length - 1];
  }
  const settleMs = performance.now() - t1;
  const settleCpuMs = cpuMs() - c1;
  process.stdout.write(
    `${JSON.stringify({
      path,
      users,
      tickets: ticketCount,
      loadMs: Math.round(loadedMs),
      loadCpuMs: Math.round(loadCpuMs),
      indexBuildCpuMs: Math.round(indexCpuMs),
      settleCpuMs: Math.round(settleCpuMs),
      usersPerCpuSecond: Math.round(settledUsers / (settleCpuMs / 1000)),
      indexBuildMs: Math.round(indexMs),
      settleMs: Math.round(settleMs),
      settledUsers,
      settledTickets,
      usersPerSecond: Math.round(settledUsers / (settleMs / 1000)),
      ticketsPerSecond: Math.round(settledTickets / (settleMs / 1000)),
      rssAfterLoadMb,
      rssMbMax: peakRssMb(),
      stats: store.stats(),
    })}\n`,
  );
}

await main(process.argv.slice(2));
