// Raw settlement capacity of a Spanner target: a bare client loop running the store's per-user
// settlement transaction (the same code the pipeline's settle worker calls) with no Pub/Sub, no
// workers and no pipeline around it; one sequential loop per shard, the loops in parallel. This
// is the ceiling the pipeline's settled-users-per-second is compared against (bench/emulators.ts).
// With `usersPerCommit` N > 1 the loop runs the store's group-commit transaction instead
// (settleBatchBody, the same body the store's batcher commits): N users per transaction, so the
// pipeline in its default group-commit mode is compared with a raw loop of the same shape.
import { computePayoutTable } from '../../core/payout.ts';
import { payoutTableToJson } from '../../core/payout-json.ts';
import type { UserRaceTickets } from '../../core/ports.ts';
import type { RaceResult } from '../../core/race-result.ts';
import { invariant } from '../../core/result.ts';
import { settleUserTickets } from '../../core/settlement.ts';
import type { Settlement } from '../../core/settlement-record.ts';
import type { Ticket } from '../../core/ticket.ts';
import { createSpannerClient, type SpannerTarget } from './spanner-client.ts';
import { ensureDatabases, shardDatabaseIds } from './spanner-admin.ts';
import { createSpannerStore, type SpannerStore } from './spanner-store.ts';
import { settleBatchBody, type SettleRequest } from './spanner-settle.ts';
import { prefetchTransactions, runReadWrite, type TransactionSource, type TxCounters } from './spanner-tx.ts';

export interface RawSettlementOptions {
  readonly target: SpannerTarget;
  readonly users: number;
  readonly ticketsPerUser?: number;
  readonly shards?: number;
  /** Base id of the throwaway databases (default: unique); they are dropped afterwards. */
  readonly databaseBase?: string;
  /** Concurrent settlement loops per shard (default 1: the emulator runs one transaction per database). */
  readonly loopsPerShard?: number;
  /** Users settled per transaction (default 1: the per-user transaction; N > 1: group commit). */
  readonly usersPerCommit?: number;
}

export interface RawSettlementResult {
  readonly users: number;
  readonly ticketsPerUser: number;
  readonly shards: number;
  readonly loopsPerShard: number;
  readonly usersPerCommit: number;
  readonly loadSeconds: number;
  readonly settleSeconds: number;
  readonly usersPerSecond: number;
  readonly transactionsAborted: number;
}

export const CAPACITY_LIMITS = { usersMax: 1_000_000, ticketsPerUserMax: 50, loopsPerShardMax: 64, usersPerCommitMax: 1_000 } as const;

const FIELD = { sport: 'keirin', riders: 7 } as const;
const RESULT: RaceResult = { status: 'official', order: [[3], [1], [5], [2], [4], [6], [7]] };
const COMBOS = ['3-1', '1-3', '3-5', '2-4', '5-1', '1-5', '4-2'];
const RACE_ID = 'cap-race';

function userIdOf(i: number): string {
  return `cu${String(i).padStart(7, '0')}`;
}

function ticketsOf(i: number, perUser: number): Ticket[] {
  return Array.from({ length: perUser }, (_, k) => ({
    ticketId: `t${k}`,
    userId: userIdOf(i),
    raceId: RACE_ID,
    betType: 'exacta' as const,
    combination: COMBOS[(i + k) % COMBOS.length] as string,
    stake: 100 * (1 + (k % 3)),
    currency: k % 2 === 0 ? ('cash' as const) : ('medal' as const),
  }));
}

/** Loads users, tickets, race and outcome; returns the pure settle function over the recorded table. */
async function prepare(store: SpannerStore, users: number, perUser: number): Promise<(input: UserRaceTickets) => Settlement> {
  await store.putRace({ raceId: RACE_ID, sport: FIELD.sport, riders: FIELD.riders, closeAtMs: 0, postAtMs: 1 });
  const chunkUsers = 10_000; // keeps memory flat for big runs: users and tickets are written in slices
  for (let from = 0; from < users; from += chunkUsers) {
    const ids = Array.from({ length: Math.min(chunkUsers, users - from) }, (_, k) => from + k);
    await store.putUsers(ids.map((i) => ({ userId: userIdOf(i), cash: 10_000, medals: 10_000 })));
    await store.loadTickets(ids.flatMap((i) => ticketsOf(i, perUser)));
  }
  const table = computePayoutTable({ field: FIELD, scratched: [], result: RESULT, pools: await store.cashPools(RACE_ID) });
  await store.recordOutcome({ raceId: RACE_ID, resultVersion: 1, resultJson: JSON.stringify(RESULT), payoutTableJson: payoutTableToJson(table), publishedAtMs: 0 });
  return (input) => {
    const r = settleUserTickets({ ...input, resultVersion: 1, table, field: FIELD });
    invariant(r.ok, `capacity settle failed: ${r.ok ? '' : r.error.message}`);
    return r.value;
  };
}

type Compute = (input: UserRaceTickets) => Settlement;

/** One loop per shard (times `loops`), each settling one user per transaction through the store. */
async function settleOneByOne(store: SpannerStore, byShard: string[][], loops: number, compute: Compute): Promise<void> {
  await Promise.all(
    byShard.flatMap((queue) =>
      Array.from({ length: loops }, async () => {
        for (let userId = queue.pop(); userId !== undefined; userId = queue.pop()) {
          const r = await store.settleUser(RACE_ID, userId, 1, compute);
          invariant(r.kind === 'applied', `capacity loop: ${userId} settled as ${r.kind}`);
        }
      }),
    ),
  );
}

/**
 * One loop per shard (times `loops`), each committing `perCommit` users per transaction through
 * settleBatchBody, the store's group-commit body. Returns the ABORTED retries it met.
 */
async function settleGrouped(target: SpannerTarget, databaseIds: readonly string[], byShard: string[][], perCommit: number, loops: number, compute: Compute): Promise<number> {
  const spanner = createSpannerClient(target);
  const databases = databaseIds.map((id) => spanner.instance(target.instanceId).database(id));
  const counters: TxCounters = { committed: 0, aborted: 0 };
  // Transactions prepared ahead, as the store does, so both sides run the same transaction code.
  const sources = databases.map((d) => prefetchTransactions(d));
  try {
    await Promise.all(
      byShard.flatMap((queue, shard) =>
        Array.from({ length: loops }, async () => {
          for (let batch = queue.splice(0, perCommit); batch.length > 0; batch = queue.splice(0, perCommit)) {
            const reqs: SettleRequest[] = batch.map((userId) => ({ raceId: RACE_ID, userId, resultVersion: 1, compute }));
            const out = await runReadWrite(databases[shard] as (typeof databases)[number], counters, (tx) => settleBatchBody(tx, reqs), { transactions: sources[shard] as TransactionSource });
            out.forEach((o, i) => invariant(o.ok && o.result.kind === 'applied', `capacity loop: ${batch[i]} not applied`));
          }
        }),
      ),
    );
    return counters.aborted;
  } finally {
    for (const s of sources) s.close();
    await Promise.all(databases.map((d) => d.close()));
    spanner.close();
  }
}

export async function measureRawSettlement(options: RawSettlementOptions): Promise<RawSettlementResult> {
  const perUser = options.ticketsPerUser ?? 5;
  const shards = options.shards ?? 1;
  const loops = options.loopsPerShard ?? 1;
  const perCommit = options.usersPerCommit ?? 1;
  invariant(Number.isInteger(perCommit) && perCommit >= 1 && perCommit <= CAPACITY_LIMITS.usersPerCommitMax, `usersPerCommit must be 1..${CAPACITY_LIMITS.usersPerCommitMax}`);
  invariant(Number.isInteger(options.users) && options.users >= 1 && options.users <= CAPACITY_LIMITS.usersMax, `users must be 1..${CAPACITY_LIMITS.usersMax}`);
  invariant(Number.isInteger(perUser) && perUser >= 1 && perUser <= CAPACITY_LIMITS.ticketsPerUserMax, `ticketsPerUser must be 1..${CAPACITY_LIMITS.ticketsPerUserMax}`);
  invariant(Number.isInteger(loops) && loops >= 1 && loops <= CAPACITY_LIMITS.loopsPerShardMax, `loopsPerShard must be 1..${CAPACITY_LIMITS.loopsPerShardMax}`);
  const base = options.databaseBase ?? `cap-${Date.now().toString(36)}${process.pid.toString(36)}`;
  const databaseIds = shardDatabaseIds(base, shards);
  await ensureDatabases({ ...options.target, databaseIds });
  const store = createSpannerStore({ ...options.target, databaseIds, transactionsPerShardMax: loops });
  try {
    const loadStartMs = Date.now();
    const compute = await prepare(store, options.users, perUser);
    const loadSeconds = (Date.now() - loadStartMs) / 1000;
    const byShard: string[][] = Array.from({ length: shards }, () => []);
    for (let i = 0; i < options.users; i++) (byShard[store.shardOfUser(userIdOf(i))] as string[]).push(userIdOf(i));
    const abortedBefore = store.stats().transactionsAborted;
    const startMs = Date.now();
    const groupAborts = perCommit > 1 ? await settleGrouped(options.target, databaseIds, byShard, perCommit, loops, compute) : 0;
    if (perCommit === 1) await settleOneByOne(store, byShard, loops, compute);
    const settleSeconds = (Date.now() - startMs) / 1000;
    return {
      users: options.users,
      ticketsPerUser: perUser,
      shards,
      loopsPerShard: loops,
      usersPerCommit: perCommit,
      loadSeconds,
      settleSeconds,
      usersPerSecond: Math.round((options.users / settleSeconds) * 10) / 10,
      transactionsAborted: store.stats().transactionsAborted - abortedBefore + groupAborts,
    };
  } finally {
    await store.close();
    const spanner = createSpannerClient(options.target);
    const handles = databaseIds.map((id) => spanner.instance(options.target.instanceId).database(id));
    await Promise.all(handles.map((d) => d.delete().catch(() => undefined)));
    // Close each handle's session pool before the client: a pool still filling after the client
    // closed emits an unhandled 'error' ("The client has already been closed") and kills the process.
    await Promise.all(handles.map((d) => d.close().catch(() => undefined)));
    spanner.close();
  }
}
