// The Store port on Cloud Spanner (or its emulator) through @google-cloud/spanner.
//
// Sharding (`databaseIds` with more than one id, `--spanner-shards N`) is an EMULATOR-ONLY
// technique: the emulator runs one read-write transaction per database at a time; a second one
// waits (measured here: 2 to 7 seconds) and is then often ABORTED ("The emulator only supports one
// transaction at a time"), so the only way to get parallel transactions out of it is several
// databases. Users (and
// everything keyed by user: tickets, markers, ledger, bonuses, post-settled markers, outbox) live
// in the shard `shardOf(userId)`; races and outcomes are small and written to every shard, so bet
// placement checks the race in the same transaction as the balance. Real Spanner scales one
// database by splits; there, use one database id.
//
// Per shard, a gate bounds concurrent read-write transactions. On the emulator the default is 1:
// concurrent transactions on one database only stall and abort each other, so queueing them
// client-side keeps the emulator busy back to back with no aborts. Two processes (two stores) on
// the same databases still collide at the emulator; that is what the ABORTED retry loop is for.
import type { Database, Transaction } from '@google-cloud/spanner';
import type { Settlement } from '../../core/settlement-record.ts';
import type { Bonus, Clock, NotificationKey, RaceInfo, RaceOutcome, RankingClaimant, RankingClaimState, SettleResult, Store, StoreStats, SummarySettleResult, UserAccount } from '../../core/ports.ts';
import { computeFromLookup, summaryOf, summaryResult } from './spanner-columns.ts';
import { createSettlementReads, createStoreReadback } from './spanner-checks.ts';
import { RANKING_CLAIM_LEASE_MS } from '../../core/ranking.ts';
import { invariant } from '../../core/result.ts';
import { isSport } from '../../core/sports.ts';
import type { Ticket } from '../../core/ticket.ts';
import { loadedTicketCombination } from '../../core/combination.ts';
import { createSpannerClient, type SpannerTarget } from './spanner-client.ts';
import { placeBetInDatabase } from './spanner-bet.ts';
import { createReadBacks, type SpannerReadBacks } from './spanner-readback.ts';
import { NEW_USER_CELLS, TICKET_CELLS, assertId, batchesOf, groupByShard, newUserRow, openTicketRow, shardOf } from './spanner-rows.ts';
import { settleBatchBody, settleInDatabase, type BatchSettleOutcome, type SettleRequest } from './spanner-settle.ts';
import { prefetchTransactions, runReadWrite, type TxCounters, type TxRunnerOptions } from './spanner-tx.ts';
import { BATCH_LIMITS, LaneGate, ShardBatcher, settlementsPerCommitFor, grantBonusesBatch, markPostSettledBatch, type MarkRequest } from './spanner-batch.ts';
import { pageOpenUsers } from './spanner-paging.ts';
import { applyDayProgressBatch, checkDayProgressRequest, type DayProgressOutcome, type DayProgressRequest } from './spanner-missions.ts';
import { markDeadLetteredTx, readDeadLettered } from './spanner-dead-letters.ts';
import { appendNotificationsBatch, checkAppend, chunkByUser, NOTIFICATION_BATCH, readNotificationsAfter, readNotificationsLogged } from './spanner-notifications.ts';
import type { NotificationBody } from '../../core/notification.ts';
import { createProgressReads } from './spanner-progress.ts';
import { guardPoolErrors, ignoreClosedClient, type ErrorEmitter } from './spanner-pool-errors.ts';

export interface SpannerStoreOptions extends SpannerTarget {
  /** One database per shard; users are spread over them by a stable hash (emulator-only technique). */
  readonly databaseIds: readonly string[];
  /** Read-write transactions in flight per shard; default 1 on the emulator, 64 on Google Cloud. */
  readonly transactionsPerShardMax?: number;
  /** The clock bets are checked against (race close time); real time unless given. */
  readonly clock?: Clock;
  /** Uniform [0, 1) for retry jitter. */
  readonly random?: () => number;
  /**
   * Settlements that wait for a busy shard commit together, up to this many users per transaction
   * (spanner-batch.ts); 1 gives every user a transaction of its own. Default per backend
   * (SETTLEMENTS_PER_COMMIT_DEFAULT): group commit on the emulator, a transaction per user on
   * Google Cloud.
   */
  readonly settlementsPerCommitMax?: number;
  /** Fault injection for the fault simulator: read-write transactions answered ABORTED at commit (then retried) with this probability. */
  readonly faults?: { readonly abortProbability: number; readonly random: () => number };
}

/** The Store methods that are optional in the port and that this backend always offers. */
type Offered = 'settleUserColumns' | 'applyDayProgress' | 'markDeadLettered' | 'deadLetteredUsers' | 'markRankingPublished' | 'rankingClaim' | 'cashPools' | 'countUsersWithOpenTickets' | 'recordFanoutUsers' | 'fanoutUsers' | 'getSettlementTotals' | 'pageSettlementTotals' | 'readOutbox' | 'deleteOutbox' | 'readback' | 'unrankedRaces' | 'terminalUserCount' | 'pageTerminalUsers' | 'notificationsLogged' | 'racesRankedSince';

export interface SpannerStore extends Omit<Store, Offered>, Required<Pick<Store, Offered>>, SpannerReadBacks {
  /** The whole settlement record as stored (outcomes from the tickets, ledger entries, totals). */
  getSettlement(raceId: string, userId: string): Promise<Settlement | undefined>;
  readonly shards: number;
  readonly databaseIds: readonly string[];
  shardOfUser(userId: string): number;
  /** Settlements committed together at most (1: group commit off), as chosen or defaulted for the backend. */
  readonly settlementsPerCommit: number;
}

const REAL_TIME: Clock = { nowMs: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) };
const EMULATOR_TX_PER_SHARD = 1;
const CLOUD_TX_PER_SHARD = 64;
/** Bonuses.BonusId is STRING(200) and the ledger entry id adds a `bonus:` prefix to it. */
const BONUS_ID_LENGTH_MAX = 190;

interface OutcomeRow {
  RaceId: string;
  ResultVersion: number;
  ResultJson: string;
  PayoutTableJson: string;
  PublishedAtMs: number;
}
const OUTCOME_COLUMNS = ['RaceId', 'ResultVersion', 'ResultJson', 'PayoutTableJson', 'PublishedAtMs'];

function raceRow(r: RaceInfo): Record<string, unknown> {
  assertId('raceId', r.raceId);
  invariant(isSport(r.sport), `race ${r.raceId}: sport ${JSON.stringify(r.sport)} unknown`);
  invariant(Number.isSafeInteger(r.riders) && r.riders > 0, `race ${r.raceId}: riders ${r.riders}`);
  invariant(Number.isSafeInteger(r.closeAtMs) && Number.isSafeInteger(r.postAtMs), `race ${r.raceId}: times must be integer ms`);
  return { RaceId: r.raceId, Sport: r.sport, Riders: r.riders, CloseAtMs: r.closeAtMs, PostAtMs: r.postAtMs };
}

function outcomeFromRow(row: OutcomeRow): RaceOutcome {
  return { raceId: row.RaceId, resultVersion: row.ResultVersion, resultJson: row.ResultJson, payoutTableJson: row.PayoutTableJson, publishedAtMs: row.PublishedAtMs };
}

export function createSpannerStore(options: SpannerStoreOptions): SpannerStore {
  const shardCount = options.databaseIds.length;
  invariant(shardCount >= 1, 'createSpannerStore: databaseIds must name at least one database');
  invariant(new Set(options.databaseIds).size === shardCount, 'createSpannerStore: databaseIds must be distinct');
  const settlementsPerCommit = settlementsPerCommitFor(options.emulator, options.settlementsPerCommitMax);
  const spanner = createSpannerClient(options);
  const instance = spanner.instance(options.instanceId);
  const databases: Database[] = options.databaseIds.map((id) => instance.database(id));
  // A Database is an EventEmitter at run time (its session pool's errors are re-emitted on it); its typings omit on().
  const poolErrors = guardPoolErrors(databases as unknown as readonly ErrorEmitter[]);
  let closed: Promise<void> | undefined;
  const gateLimit = options.transactionsPerShardMax ?? (options.emulator ? EMULATOR_TX_PER_SHARD : CLOUD_TX_PER_SHARD);
  const gates = databases.map(() => new LaneGate(gateLimit));
  const counters: TxCounters = { committed: 0, aborted: 0 };
  const clock = options.clock ?? REAL_TIME;
  const random = options.random === undefined ? {} : { random: options.random };
  // One transaction per shard is prepared while the shard's current one runs (prefetchTransactions).
  const sources = databases.map((d) => prefetchTransactions(d));
  const faults = options.faults;
  const injectAbort = faults === undefined || faults.abortProbability === 0 ? {} : { injectAbort: () => faults.random() < faults.abortProbability };
  const txOptions = (shard: number): TxRunnerOptions => ({ ...random, ...injectAbort, transactions: sources[shard] });

  const db = (shard: number): Database => databases[shard] as Database;
  const gate = (shard: number): LaneGate => gates[shard] as LaneGate;
  const userShard = (userId: string): number => shardOf(userId, shardCount);
  /** Races, claims and fan-out counts of a race live in (or are read from) its home shard. */
  const raceShard = (raceId: string): number => shardOf(raceId, shardCount);
  const inTx = <T>(shard: number, body: (tx: Transaction) => Promise<T>): Promise<T> => gate(shard).run(() => runReadWrite(db(shard), counters, body, txOptions(shard)));
  const eachShard = <T>(fn: (shard: number) => Promise<T>): Promise<T[]> => Promise.all(databases.map((_, shard) => fn(shard)));

  /** Writes rows in bulk commits, shards in parallel, commits of one shard one after another. */
  async function bulkWrite<T>(items: readonly T[], keyOf: (item: T) => string, cellsPerRow: number, write: (tx: Transaction, batch: T[]) => void | Promise<void>): Promise<void> {
    const groups = groupByShard(items, keyOf, shardCount);
    await eachShard(async (shard) => {
      for (const batch of batchesOf(groups[shard] as T[], cellsPerRow)) {
        await inTx(shard, async (tx) => await write(tx, batch));
      }
    });
  }

  const readBacks = createReadBacks({ databases, userShard, raceShard, emulator: options.emulator });
  // Post-settlement writes are group-committed per shard (spanner-batch.ts): one transaction per
  // batch of users rather than per user, so they take little from settlement throughput.
  const markBatchers = databases.map(
    (d, shard) =>
      new ShardBatcher<MarkRequest, number>(gate(shard), async (items) => {
        const unknown = await markPostSettledBatch(d, counters, txOptions(shard), items);
        // Strong reads after the batch committed: of two users marked last in different shards,
        // the later commit's reader sees the earlier one, so someone sees the full count (the barrier).
        const races = [...new Set(items.map((i) => i.raceId))];
        const counts = new Map(await Promise.all(races.map(async (r) => [r, await readBacks.postSettledCount(r)] as const)));
        // -1: the user was never put; markPostSettled turns it into an error (nothing was marked).
        return items.map((i) => (unknown.has(i.userId) ? -1 : (counts.get(i.raceId) as number)));
      }, BATCH_LIMITS.itemsPerCommitMax, 'background'),
  );
  const settleBatchers = databases.map(
    (d, shard) =>
      new ShardBatcher<SettleRequest, BatchSettleOutcome>(gate(shard), (reqs) => runReadWrite(d, counters, (tx) => settleBatchBody(tx, reqs), txOptions(shard)), settlementsPerCommit, 'normal', (r) => r.userId),
  );
  const bonusBatchers = databases.map((d, shard) => new ShardBatcher<readonly Bonus[], string[]>(gate(shard), (calls) => grantBonusesBatch(d, counters, txOptions(shard), calls), BATCH_LIMITS.itemsPerCommitMax, 'background'));
  const dayBatchers = databases.map((d, shard) => new ShardBatcher<DayProgressRequest, DayProgressOutcome>(gate(shard), (reqs) => applyDayProgressBatch(d, counters, txOptions(shard), reqs), BATCH_LIMITS.itemsPerCommitMax, 'background'));
  const settlementReads = createSettlementReads({ databases, userShard, raceShard });
  // Notifications are on the user's path (published right after): the normal lane, not behind settlements' back.
  const notificationBatchers = databases.map((d, shard) => new ShardBatcher<readonly NotificationBody[], number[]>(gate(shard), (calls) => appendNotificationsBatch(d, counters, txOptions(shard), calls), NOTIFICATION_BATCH.callsPerCommitMax, 'normal'));

  const store: SpannerStore = {
    ...readBacks,
    ...settlementReads,
    ...createProgressReads({ databases }),
    readback: createStoreReadback({ databases, userShard, raceShard }),
    shards: shardCount,
    databaseIds: [...options.databaseIds],
    shardOfUser: userShard,
    settlementsPerCommit,

    async putUsers(users: readonly UserAccount[]): Promise<void> {
      await bulkWrite(users.map(newUserRow), (r) => r.UserId, NEW_USER_CELLS, (tx, batch) => tx.upsert('Users', batch));
    },

    async putRace(race: RaceInfo): Promise<void> {
      const row = raceRow(race);
      await eachShard((shard) => inTx(shard, async (tx) => tx.upsert('Races', row)));
    },

    async getRace(raceId: string): Promise<RaceInfo | undefined> {
      return readBacks.readRace(raceId);
    },

    placeBet(bet) {
      return inTx(userShard(bet.userId), (tx) => placeBetInDatabase(tx, bet, clock.nowMs()));
    },

    async loadTickets(tickets: readonly Ticket[]): Promise<void> {
      // The same refusals on every backend (core/combination.ts): a combination the race's field
      // cannot have, and a ticket of a user that was never put, are errors naming the ticket.
      const fields = new Map<string, RaceInfo | undefined>();
      for (const raceId of new Set(tickets.map((t) => t.raceId))) fields.set(raceId, await readBacks.readRace(raceId));
      for (const t of tickets) {
        const race = fields.get(t.raceId);
        const checked = loadedTicketCombination(t, race === undefined ? undefined : { sport: race.sport, riders: race.riders });
        if (!checked.ok) throw new Error(checked.error.message);
      }
      const rows = tickets.map(openTicketRow);
      await bulkWrite(rows, (r) => r.UserId, TICKET_CELLS, async (tx, batch) => {
        const userIds = [...new Set(batch.map((r) => r.UserId))];
        const [found] = await tx.read('Users', { keys: userIds.map((u) => [u]), columns: ['UserId'], json: true });
        const known = new Set((found as { UserId: string }[]).map((f) => f.UserId));
        const missing = batch.find((r) => !known.has(r.UserId));
        if (missing !== undefined) throw new Error(`loadTickets: ticket ${missing.TicketId}: user ${missing.UserId} is not known (put the user first) [USER.UNKNOWN]`);
        tx.insert('Tickets', batch);
      });
    },

    async recordOutcome(outcome: RaceOutcome): Promise<boolean> {
      assertId('raceId', outcome.raceId);
      invariant(Number.isSafeInteger(outcome.resultVersion) && outcome.resultVersion >= 1, `result version ${outcome.resultVersion} must be a positive integer`);
      invariant(Number.isSafeInteger(outcome.publishedAtMs), `publishedAtMs ${outcome.publishedAtMs} must be integer ms`);
      const row: OutcomeRow = { RaceId: outcome.raceId, ResultVersion: outcome.resultVersion, ResultJson: outcome.resultJson, PayoutTableJson: outcome.payoutTableJson, PublishedAtMs: outcome.publishedAtMs };
      // First wins (docs/result-finality.md): shard 0 decides. Its transaction reads every
      // version of the race and inserts only when there is none, so of two different results
      // racing, exactly one is recorded. Shards are written in order and getOutcome reads the
      // last one, so a reader that sees the outcome knows every shard has it (bets are closed
      // everywhere). A crash midway leaves a prefix written; the retry of the same outcome finds
      // it in shard 0 and writes the rest (reporting true, so the fan-out still runs).
      let recorded = false;
      for (let shard = 0; shard < shardCount; shard++) {
        const wrote = await inTx(shard, async (tx) => {
          const [[races], [existing]] = await Promise.all([
            tx.read('Races', { keys: [outcome.raceId], columns: ['RaceId'], json: true }),
            tx.read('RaceOutcomes', { ranges: [{ startClosed: [outcome.raceId], endClosed: [outcome.raceId] }], columns: OUTCOME_COLUMNS, json: true }),
          ]);
          invariant(races.length === 1, `recordOutcome: race ${outcome.raceId} was never put`);
          const old = (existing as OutcomeRow[])[0];
          if (old === undefined) {
            tx.insert('RaceOutcomes', row);
            return 'wrote' as const;
          }
          const same = old.ResultVersion === row.ResultVersion && old.ResultJson === row.ResultJson && old.PayoutTableJson === row.PayoutTableJson;
          invariant(same || shard === 0, `race ${outcome.raceId}: shard ${shard} holds result v${old.ResultVersion}, shard 0 let v${row.ResultVersion} through`);
          return same ? ('same' as const) : ('other' as const);
        });
        if (wrote === 'other') return false;
        recorded ||= wrote === 'wrote';
      }
      return recorded;
    },

    async getOutcome(raceId: string): Promise<RaceOutcome | undefined> {
      assertId('raceId', raceId);
      const [rows] = await db(shardCount - 1).table('RaceOutcomes').read({ ranges: [{ startClosed: [raceId], endClosed: [raceId] }], columns: OUTCOME_COLUMNS, json: true });
      const latest = (rows as OutcomeRow[]).reduce<OutcomeRow | undefined>((a, r) => (a === undefined || r.ResultVersion > a.ResultVersion ? r : a), undefined);
      return latest === undefined ? undefined : outcomeFromRow(latest);
    },

    async pageUsersWithOpenTickets(raceId: string, afterUserId: string | undefined, limit: number): Promise<readonly string[]> {
      assertId('raceId', raceId);
      invariant(Number.isSafeInteger(limit) && limit >= 1, `page limit ${limit} must be a positive integer`);
      const pages = await eachShard((shard) => pageOpenUsers(db(shard), raceId, afterUserId, limit));
      return pages.flat().sort().slice(0, limit);
    },

    async settleUser(raceId, userId, resultVersion, compute, outbox): Promise<SettleResult> {
      assertId('raceId', raceId);
      assertId('userId', userId);
      const shard = userShard(userId);
      const req: SettleRequest = { raceId, userId, resultVersion, compute, outbox };
      if (settlementsPerCommit === 1) return gate(shard).run(() => settleInDatabase(db(shard), counters, req, txOptions(shard)));
      const outcome = await (settleBatchers[shard] as ShardBatcher<SettleRequest, BatchSettleOutcome>).add(req);
      if (!outcome.ok) throw outcome.error;
      return outcome.result;
    },

    async settleUserColumns(raceId, userId, resultVersion, lookup, outbox): Promise<SummarySettleResult> {
      const wrapOutbox = outbox === undefined ? undefined : (s: Settlement) => outbox(summaryOf(s));
      return summaryResult(await store.settleUser(raceId, userId, resultVersion, computeFromLookup(lookup, resultVersion), wrapOutbox));
    },

    async grantBonuses(bonuses: readonly Bonus[]): Promise<readonly string[]> {
      for (const b of bonuses) {
        assertId('userId', b.userId);
        invariant(b.bonusId.length > 0 && b.bonusId.length <= BONUS_ID_LENGTH_MAX, `bonus id ${JSON.stringify(b.bonusId)} must be 1..${BONUS_ID_LENGTH_MAX} characters`);
        invariant(Number.isSafeInteger(b.medals) && b.medals > 0, `bonus ${b.bonusId}: medals ${b.medals} must be a positive integer`);
      }
      const groups = groupByShard(bonuses, (b) => b.userId, shardCount);
      const granted = await eachShard(async (shard) => ((groups[shard] as Bonus[]).length === 0 ? [] : (bonusBatchers[shard] as ShardBatcher<readonly Bonus[], string[]>).add(groups[shard] as Bonus[])));
      return granted.flat();
    },

    async applyDayProgress(entry, bonusesOf): Promise<readonly Bonus[]> {
      const req: DayProgressRequest = { entry, bonusesOf };
      checkDayProgressRequest(req);
      const outcome = await (dayBatchers[userShard(entry.userId)] as ShardBatcher<DayProgressRequest, DayProgressOutcome>).add(req);
      if (!outcome.ok) throw outcome.error;
      return outcome.granted;
    },

    async markPostSettled(raceId: string, userId: string): Promise<number> {
      assertId('raceId', raceId);
      assertId('userId', userId);
      const count = await (markBatchers[userShard(userId)] as ShardBatcher<MarkRequest, number>).add({ raceId, userId });
      if (count < 0) throw new Error(`markPostSettled: user ${userId} is not known [USER.UNKNOWN]`);
      return count;
    },

    async markDeadLettered(raceId: string, userId: string, reason: string): Promise<number> {
      assertId('raceId', raceId);
      assertId('userId', userId);
      await inTx(userShard(userId), (tx) => markDeadLetteredTx(tx, raceId, userId, reason, clock.nowMs()));
      // A strong read after the commit, as for markPostSettled: the last terminal user is seen by someone.
      return readBacks.postSettledCount(raceId);
    },

    async deadLetteredUsers(raceId: string) {
      assertId('raceId', raceId);
      return readDeadLettered(databases, raceId);
    },

    async claimRanking(raceId: string, claimant?: RankingClaimant): Promise<boolean> {
      assertId('raceId', raceId);
      // Counted before the claim (strong reads): what the barrier saw, kept for the checkers.
      const postSettledUsers = await readBacks.postSettledCount(raceId);
      return inTx(raceShard(raceId), async (tx) => {
        const [rows] = await tx.read('RankingClaims', { keys: [raceId], columns: ['ClaimedAtMs', 'Claimant', 'ClaimAttempt', 'PublishedAtMs'], json: true });
        const held = (rows as { ClaimedAtMs: number; Claimant: string | null; ClaimAttempt: number | null; PublishedAtMs: number | null }[])[0];
        const now = clock.nowMs();
        if (held === undefined) {
          tx.insert('RankingClaims', { RaceId: raceId, ClaimedAtMs: now, PostSettledUsers: postSettledUsers, Claimant: claimant?.id ?? null, ClaimAttempt: claimant?.attempt ?? null });
          return true;
        }
        if (held.PublishedAtMs !== null) return false;
        // The claimant's redelivery (a later attempt) claims again; a duplicate of the same attempt does not.
        const redelivered = claimant !== undefined && held.Claimant === claimant.id && held.ClaimAttempt !== null && claimant.attempt > Number(held.ClaimAttempt);
        // A lease: an unpublished claim this old is taken over (its claimant presumably died after claiming).
        if (!redelivered && now - Number(held.ClaimedAtMs) < RANKING_CLAIM_LEASE_MS) return false;
        tx.update('RankingClaims', { RaceId: raceId, ClaimedAtMs: now, Claimant: claimant?.id ?? null, ClaimAttempt: claimant?.attempt ?? null });
        return true;
      });
    },

    async markRankingPublished(raceId: string): Promise<void> {
      assertId('raceId', raceId);
      await inTx(raceShard(raceId), async (tx) => {
        const [rows] = await tx.read('RankingClaims', { keys: [raceId], columns: ['PublishedAtMs'], json: true });
        const held = (rows as { PublishedAtMs: number | null }[])[0];
        invariant(held !== undefined, `markRankingPublished: the ranking of ${raceId} was never claimed`);
        if (held.PublishedAtMs === null) tx.update('RankingClaims', { RaceId: raceId, PublishedAtMs: clock.nowMs() });
      });
    },

    async rankingClaim(raceId: string): Promise<RankingClaimState | undefined> {
      assertId('raceId', raceId);
      return inTx(raceShard(raceId), async (tx) => {
        const [rows] = await tx.read('RankingClaims', { keys: [raceId], columns: ['Claimant', 'ClaimAttempt', 'PublishedAtMs'], json: true });
        const held = (rows as { Claimant: string | null; ClaimAttempt: number | null; PublishedAtMs: number | null }[])[0];
        if (held === undefined) return undefined;
        const claimant = held.Claimant === null ? undefined : { id: held.Claimant, attempt: Number(held.ClaimAttempt ?? 0) };
        return { claimant, published: held.PublishedAtMs !== null };
      });
    },

    async recordFanoutUsers(raceId: string, users: number): Promise<number> {
      assertId('raceId', raceId);
      invariant(Number.isSafeInteger(users) && users >= 0, `fan-out user count ${users} must be a non-negative integer`);
      return inTx(raceShard(raceId), async (tx) => {
        const [rows] = await tx.read('FanoutCounts', { keys: [raceId], columns: ['UsersFound'], json: true });
        const recorded = (rows as { UsersFound: number }[])[0];
        if (recorded !== undefined) return recorded.UsersFound;
        tx.insert('FanoutCounts', { RaceId: raceId, UsersFound: users });
        return users;
      });
    },

    async appendNotifications(bodies: readonly NotificationBody[]): Promise<readonly number[]> {
      checkAppend(bodies);
      const groups = groupByShard(bodies.map((b, i) => ({ b, i })), (x) => x.b.userId, shardCount);
      const seqs = new Array<number>(bodies.length);
      await eachShard(async (shard) => {
        const batcher = notificationBatchers[shard] as ShardBatcher<readonly NotificationBody[], number[]>;
        const chunks = chunkByUser(groups[shard] as { b: NotificationBody; i: number }[], (x) => x.b.userId);
        await Promise.all(
          chunks.map(async (chunk) => {
            const got = await batcher.add(chunk.map((x) => x.b));
            chunk.forEach((x, k) => (seqs[x.i] = got[k] as number));
          }),
        );
      });
      return seqs;
    },

    async notificationsAfter(userId: string, afterSeq: number, limit: number) {
      return readNotificationsAfter(db(userShard(userId)), userId, afterSeq, limit);
    },

    async notificationsLogged(keys) {
      // One read per shard the keys live in, answered in the order asked.
      const byShard = new Map<number, number[]>();
      keys.forEach((k, i) => {
        const shard = userShard(k.userId);
        const mine = byShard.get(shard);
        if (mine === undefined) byShard.set(shard, [i]);
        else mine.push(i);
      });
      const out: boolean[] = new Array<boolean>(keys.length).fill(false);
      await Promise.all([...byShard].map(async ([shard, at]) => {
        const logged = await readNotificationsLogged(db(shard), at.map((i) => keys[i] as NotificationKey));
        at.forEach((i, j) => (out[i] = logged[j] === true));
      }));
      return out;
    },

    async deleteOutbox(outboxIds: readonly string[]): Promise<void> {
      if (outboxIds.length === 0) return;
      // Outbox rows live in their user's shard, which the id does not tell: delete everywhere
      // (a delete of a missing key is a no-op, so racing relays are harmless).
      const keys = outboxIds.map((id) => [id]);
      await eachShard((shard) => inTx(shard, async (tx) => tx.deleteRows('Outbox', keys)));
    },

    stats(): StoreStats {
      return { transactionsCommitted: counters.committed, transactionsAborted: counters.aborted };
    },

    close(): Promise<void> {
      // Idempotent: a second close() (a signal handler and the normal path both closing) waits for the first.
      closed ??= (async () => {
        poolErrors.closing();
        for (const s of sources) s.close();
        await Promise.all(databases.map((d) => d.close().catch((e: unknown) => ignoreClosedClient(e))));
        spanner.close();
      })();
      return closed;
    },
  };

  return store;
}
