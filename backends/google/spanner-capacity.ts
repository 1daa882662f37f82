// Raw capacity of a Spanner target for one race's whole settlement work: a bare client loop, no
// Pub/Sub, no workers, no pipeline around it, running the store's own transaction bodies for
// everything the pipeline commits per user: the settlement (settleBody, or with `usersPerCommit`
// N > 1 the group-commit body settleBatchBody, N users per transaction), the day progress and the
// mission bonuses it earns for users who hit (applyDayProgressBatch, what post-settle's
// applyDayProgress commits), the post-settled markers (markPostSettledBatch) and each user's
// `settled` notification appended to the notification log (appendNotificationsBatch, what notify
// commits), then the ranking (the settlement totals read back, ranked, the ranking claimed, and
// every user's ranking notification appended to the log). One sequential loop per shard, the
// loops in parallel. This is the ceiling the pipeline's users per second is compared against
// (bench/emulators.ts): both sides load the world of spanner-capacity-world.ts and do the same
// transactions, so the ratio prices the pipeline's own overhead (Pub/Sub, fan-out, workers) only.
//
// The post-settle writes are committed the way a bare loop commits them fastest: the day progress
// and markers of the users settled so far wait and go in one transaction each once
// itemsPerCommitMax users have them (notifications: NOTIFICATION_BATCH.bodiesPerCommitMax) (the pipeline's lane gate lets them fill batches of that size while
// settlements run), and whatever is left after the last settlement is flushed at the end.
import type { Database } from '@google-cloud/spanner';
import { dayRaceEntry, missionBonuses, raceDayOf, settlementFacts } from '../../core/missions.ts';
import { computePayoutTable } from '../../core/payout.ts';
import { payoutTableToJson } from '../../core/payout-json.ts';
import type { SettleResult, SettlementTotals, Store, UserRaceTickets } from '../../core/ports.ts';
import { RANKING_NOTIFICATION_TOP, rankUsers } from '../../core/ranking.ts';
import { invariant } from '../../core/result.ts';
import { settleUserTickets } from '../../core/settlement.ts';
import type { Settlement } from '../../core/settlement-record.ts';
import { rankingNotificationsOf, settledNotification, type NotificationBody } from '../../core/notification.ts';
import { BATCH_LIMITS, markPostSettledBatch, type MarkRequest } from './spanner-batch.ts';
import { appendNotificationsBatch, NOTIFICATION_BATCH } from './spanner-notifications.ts';
import { capacityWorld, loadCapacityWorld, type CapacityWorld, type WorldLoadingStore } from './spanner-capacity-world.ts';
import { createSpannerClient, type SpannerTarget } from './spanner-client.ts';
import { ensureDatabases, shardDatabaseIds } from './spanner-admin.ts';
import { applyDayProgressBatch, type DayProgressRequest } from './spanner-missions.ts';
import { guardPoolErrors, type ErrorEmitter } from './spanner-pool-errors.ts';
import { createSpannerStore, type SpannerStore } from './spanner-store.ts';
import { settleBatchBody, settleInDatabase, type SettleRequest } from './spanner-settle.ts';
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

/** Transactions the loop committed, by kind (ABORTED retries not counted). */
export interface RawTransactions {
  readonly settlement: number;
  /** Day progress and the bonuses it earns (users with hits only, as in post-settle). */
  readonly dayProgress: number;
  readonly marker: number;
  /** The ranking claim (one per race). */
  readonly ranking: number;
  /** Notification log appends: the settled notifications (the ranking's go through the store's own batching). */
  readonly notifications: number;
}

export interface RawSettlementResult {
  readonly users: number;
  readonly ticketsPerUser: number;
  readonly shards: number;
  readonly loopsPerShard: number;
  readonly usersPerCommit: number;
  readonly loadSeconds: number;
  /** First settlement begun -> last settlement committed. */
  readonly settleSeconds: number;
  /** First settlement begun -> every bonus and marker committed, the ranking read and claimed. */
  readonly workSeconds: number;
  /** users / workSeconds: the whole work, what the pipeline's figure is compared with. */
  readonly usersPerSecond: number;
  readonly bonusesGranted: number;
  readonly transactions: RawTransactions;
  readonly transactionsAborted: number;
}

export const CAPACITY_LIMITS = { usersMax: 1_000_000, ticketsPerUserMax: 50, loopsPerShardMax: 64, usersPerCommitMax: 1_000 } as const;

/** Totals read per page for the ranking (the pipeline's post-settle pages the same way). */
const RANKING_PAGE_USERS = 5_000;

type Compute = (input: UserRaceTickets) => Settlement;

/**
 * Loads the world and records the race's official outcome; returns the pure settle function over
 * the recorded table. Exported for the test that both bench sides load the same rows.
 */
export async function prepareCapacityWorld(store: WorldLoadingStore & Pick<Store, 'cashPools' | 'recordOutcome'>, world: CapacityWorld): Promise<Compute> {
  invariant(store.cashPools !== undefined, 'the capacity loop needs a store that sums cash pools');
  await loadCapacityWorld(store, world);
  const field = { sport: world.race.sport, riders: world.race.riders };
  const table = computePayoutTable({ field, scratched: [], result: world.result, pools: await store.cashPools(world.race.raceId) });
  await store.recordOutcome({ raceId: world.race.raceId, resultVersion: 1, resultJson: JSON.stringify(world.result), payoutTableJson: payoutTableToJson(table), publishedAtMs: 0 });
  return (input) => {
    const r = settleUserTickets({ ...input, resultVersion: 1, table, field });
    invariant(r.ok, `capacity settle failed: ${r.ok ? '' : r.error.message}`);
    return r.value;
  };
}

interface LoopContext {
  readonly raceId: string;
  readonly day: string;
  readonly publishedAtMs: number;
  readonly perCommit: number;
  readonly compute: Compute;
  readonly counters: TxCounters;
  readonly tx: { settlement: number; dayProgress: number; marker: number; notifications: number };
  bonusesGranted: number;
  lastSettledMs: number;
}

/** One shard's loop: settle `perCommit` users per transaction, then their day progress, markers and notifications in batches. */
async function shardLoop(database: Database, source: TransactionSource, queue: string[], ctx: LoopContext): Promise<void> {
  const options = { transactions: source };
  const days: DayProgressRequest[] = [];
  const marks: MarkRequest[] = [];
  const notes: NotificationBody[] = [];
  const flushNotes = async (): Promise<void> => {
    if (notes.length === 0) return;
    const calls = notes.splice(0).map((n) => [n]);
    await appendNotificationsBatch(database, ctx.counters, options, calls);
    ctx.tx.notifications += Math.ceil(calls.length / NOTIFICATION_BATCH.bodiesPerCommitMax);
  };
  const flush = async (): Promise<void> => {
    if (days.length > 0) {
      const outcomes = await applyDayProgressBatch(database, ctx.counters, options, days.splice(0));
      for (const o of outcomes) {
        invariant(o.ok, `capacity loop: day progress failed: ${o.ok ? '' : String(o.error)}`);
        ctx.bonusesGranted += o.granted.length;
      }
      ctx.tx.dayProgress++;
    }
    if (marks.length > 0) {
      await markPostSettledBatch(database, ctx.counters, options, marks.splice(0));
      ctx.tx.marker++;
    }
  };
  for (let batch = queue.splice(0, ctx.perCommit); batch.length > 0; batch = queue.splice(0, ctx.perCommit)) {
    const reqs: SettleRequest[] = batch.map((userId) => ({ raceId: ctx.raceId, userId, resultVersion: 1, compute: ctx.compute }));
    const results: SettleResult[] =
      reqs.length === 1 && ctx.perCommit === 1
        ? [await settleInDatabase(database, ctx.counters, reqs[0] as SettleRequest, options)]
        : (await runReadWrite(database, ctx.counters, (tx) => settleBatchBody(tx, reqs), options)).map((o, i) => {
            invariant(o.ok, `capacity loop: ${batch[i]} failed: ${o.ok ? '' : String(o.error)}`);
            return o.result;
          });
    ctx.tx.settlement++;
    ctx.lastSettledMs = performance.now();
    results.forEach((r, i) => {
      invariant(r.kind === 'applied', `capacity loop: ${batch[i]} settled as ${r.kind}`);
      // As post-settle: a race without hits adds nothing to the day and earns nothing.
      const facts = settlementFacts(r.settlement);
      if (facts.hits > 0) days.push({ entry: dayRaceEntry(facts, ctx.raceId, ctx.day), bonusesOf: (before) => missionBonuses(facts, before).bonuses });
      marks.push({ raceId: ctx.raceId, userId: r.settlement.userId });
      notes.push(settledNotification(r.settlement, ctx.publishedAtMs));
    });
    if (notes.length >= NOTIFICATION_BATCH.bodiesPerCommitMax) await flushNotes();
    if (marks.length >= BATCH_LIMITS.itemsPerCommitMax) await flush();
  }
  await flushNotes();
  await flush();
}

/** The ranking's work once everyone is post-settled: every settlement's totals read, ranked, the claim committed. */
async function rankAndClaim(store: SpannerStore, raceId: string, users: number, publishedAtMs: number): Promise<void> {
  const marked = await store.postSettledCount(raceId);
  invariant(marked === users, `capacity loop: ${marked} of ${users} users post-settled`);
  const totals: SettlementTotals[] = [];
  for (let after: string | undefined; ; ) {
    const page = await store.pageSettlementTotals(raceId, after, RANKING_PAGE_USERS);
    totals.push(...page);
    if (page.length < RANKING_PAGE_USERS) break;
    after = page[page.length - 1]?.userId;
  }
  invariant(totals.length === users, `capacity loop: ${totals.length} settlement totals for ${users} users`);
  const ranking = rankUsers(totals, RANKING_NOTIFICATION_TOP);
  invariant(await store.claimRanking(raceId), `capacity loop: the ranking of ${raceId} was already claimed`);
  // As the pipeline's ranking: every user's own ranking notification, appended NOTIFICATION_BATCH.bodiesPerCommitMax at a time.
  const userIds = totals.map((t) => t.userId);
  for (let i = 0; i < userIds.length; i += NOTIFICATION_BATCH.bodiesPerCommitMax) {
    await store.appendNotifications(rankingNotificationsOf(raceId, userIds.slice(i, i + NOTIFICATION_BATCH.bodiesPerCommitMax), ranking, RANKING_NOTIFICATION_TOP, publishedAtMs));
  }
}

function checkOptions(options: RawSettlementOptions, perUser: number, loops: number, perCommit: number): void {
  invariant(Number.isInteger(perCommit) && perCommit >= 1 && perCommit <= CAPACITY_LIMITS.usersPerCommitMax, `usersPerCommit must be 1..${CAPACITY_LIMITS.usersPerCommitMax}`);
  invariant(Number.isInteger(options.users) && options.users >= 1 && options.users <= CAPACITY_LIMITS.usersMax, `users must be 1..${CAPACITY_LIMITS.usersMax}`);
  invariant(Number.isInteger(perUser) && perUser >= 1 && perUser <= CAPACITY_LIMITS.ticketsPerUserMax, `ticketsPerUser must be 1..${CAPACITY_LIMITS.ticketsPerUserMax}`);
  invariant(Number.isInteger(loops) && loops >= 1 && loops <= CAPACITY_LIMITS.loopsPerShardMax, `loopsPerShard must be 1..${CAPACITY_LIMITS.loopsPerShardMax}`);
}

export async function measureRawSettlement(options: RawSettlementOptions): Promise<RawSettlementResult> {
  const perUser = options.ticketsPerUser ?? 5;
  const shards = options.shards ?? 1;
  const loops = options.loopsPerShard ?? 1;
  const perCommit = options.usersPerCommit ?? 1;
  checkOptions(options, perUser, loops, perCommit);
  const base = options.databaseBase ?? `cap-${Date.now().toString(36)}${process.pid.toString(36)}`;
  const databaseIds = shardDatabaseIds(base, shards);
  await ensureDatabases({ ...options.target, databaseIds });
  const store = createSpannerStore({ ...options.target, databaseIds, transactionsPerShardMax: loops });
  const spanner = createSpannerClient(options.target);
  const databases = databaseIds.map((id) => spanner.instance(options.target.instanceId).database(id));
  const poolErrors = guardPoolErrors(databases as unknown as readonly ErrorEmitter[]);
  // Transactions prepared ahead, as the store does, so both sides run the same transaction code.
  const sources = databases.map((d) => prefetchTransactions(d));
  try {
    const world = capacityWorld(options.users, perUser);
    const loadStartMs = performance.now();
    const compute = await prepareCapacityWorld(store, world);
    const loadSeconds = (performance.now() - loadStartMs) / 1000;
    const byShard: string[][] = Array.from({ length: shards }, () => []);
    for (let i = 0; i < options.users; i++) (byShard[store.shardOfUser(world.userIdOf(i))] as string[]).push(world.userIdOf(i));
    const publishedAtMs = (await store.getOutcome(world.race.raceId))?.publishedAtMs ?? Date.now();
    const ctx: LoopContext = { raceId: world.race.raceId, day: raceDayOf(world.race.postAtMs), publishedAtMs, perCommit, compute, counters: { committed: 0, aborted: 0 }, tx: { settlement: 0, dayProgress: 0, marker: 0, notifications: 0 }, bonusesGranted: 0, lastSettledMs: 0 };
    const abortedBefore = store.stats().transactionsAborted;
    const startMs = performance.now();
    await Promise.all(byShard.flatMap((queue, shard) => Array.from({ length: loops }, () => shardLoop(databases[shard] as Database, sources[shard] as TransactionSource, queue, ctx))));
    await rankAndClaim(store, world.race.raceId, options.users, ctx.publishedAtMs);
    const workSeconds = (performance.now() - startMs) / 1000;
    return {
      users: options.users,
      ticketsPerUser: perUser,
      shards,
      loopsPerShard: loops,
      usersPerCommit: perCommit,
      loadSeconds: Math.round(loadSeconds * 10) / 10,
      settleSeconds: Math.round((ctx.lastSettledMs - startMs) / 10) / 100,
      workSeconds: Math.round(workSeconds * 100) / 100,
      usersPerSecond: Math.round((options.users / workSeconds) * 10) / 10,
      bonusesGranted: ctx.bonusesGranted,
      transactions: { ...ctx.tx, ranking: 1 },
      transactionsAborted: store.stats().transactionsAborted - abortedBefore + ctx.counters.aborted,
    };
  } finally {
    for (const s of sources) s.close();
    poolErrors.closing();
    await store.close();
    await Promise.all(databases.map((d) => d.delete().catch(() => undefined)));
    // Close each handle's session pool before the client: a pool still filling after the client
    // closed emits an unhandled 'error' ("The client has already been closed") and kills the process.
    await Promise.all(databases.map((d) => d.close().catch(() => undefined)));
    spanner.close();
  }
}
