// Group commit for the Spanner store's per-user writes (settlements, bonus grants, post-settled
// markers): calls that arrive while their shard's gate is busy wait together and
// commit in ONE read-write transaction when the gate frees, instead of one transaction each.
//
// Why: the emulator runs one read-write transaction per database at a time, so every transaction
// the pipeline spends besides the settlement itself is taken from settlement throughput. Measured
// here (`raceday bench emulators`, 1,000 users, 1 shard): 2.7 transactions per settled user (the
// settlement, a post-settled marker, about half a bonus grant) held the pipeline at 0.25 of the raw
// settlement loop. With group commit, post-settlement costs a transaction per batch of users, and
// settlements that queue behind a busy shard share one transaction (two reads and one commit for
// the batch instead of per user), which also cuts the client's CPU per user, the other limit here.
// Each caller still gets its own answer (which of its bonus ids were new; the post-settled count
// after its marker committed), so the Store port's contract is unchanged.
import type { Database, Transaction } from '@google-cloud/spanner';
import type { Bonus } from '../../core/ports.ts';
import { invariant } from '../../core/result.ts';
import { USER_COLUMNS } from './spanner-rows.ts';
import { runReadWrite, type TxCounters, type TxRunnerOptions } from './spanner-tx.ts';

export const BATCH_LIMITS = {
  /** Calls committed together at most (a marker is 2 cells, a bonus about 12 with its ledger row and balance). */
  itemsPerCommitMax: 500,
  /**
   * Users settled in one group-committed transaction at most. On the emulator a transaction's cost
   * grows faster than its size: measured with a bare loop over 10,000 users of 5 tickets
   * (measureRawSettlement), 1 user per commit ran 150 users/s, 10: 448, 20: 571, 40: 505, 60: 399,
   * 100: 364. So batches stay small; 25 users write about 2,500 cells, far below Spanner's 80,000
   * mutations per commit.
   */
  settlementsPerCommitMax: 25,
} as const;

/**
 * Group commit of settlements is a choice per backend, made explicitly (SpannerStoreOptions
 * .settlementsPerCommitMax, `--settlements-per-commit N`); when none is made:
 * - emulators: BATCH_LIMITS.settlementsPerCommitMax. The emulator runs one read-write transaction
 *   per database at a time, so settlements queue behind it anyway and sharing a transaction is what
 *   lifts its throughput (measured above).
 * - google (real Spanner): 1, a transaction per user. Real Spanner runs transactions concurrently
 *   and scales by splits; a batch makes its users wait for each other's reads and commit, couples
 *   their failures (one failed commit is retried user by user, ShardBatcher) and widens the locks
 *   each commit holds, for a gain nobody has measured there.
 */
export const SETTLEMENTS_PER_COMMIT_DEFAULT = {
  emulators: BATCH_LIMITS.settlementsPerCommitMax,
  google: 1,
} as const;

/** Settlements per commit for a store: the explicit choice, else the backend's default (above). */
export function settlementsPerCommitFor(emulator: boolean, chosen?: number): number {
  const n = chosen ?? (emulator ? SETTLEMENTS_PER_COMMIT_DEFAULT.emulators : SETTLEMENTS_PER_COMMIT_DEFAULT.google);
  invariant(Number.isSafeInteger(n) && n >= 1, `settlementsPerCommitMax must be a positive integer, got ${n}`);
  return n;
}

/**
 * Which queue a transaction waits in for its shard's slot. Post-settlement group commits (bonus
 * grants, post-settled markers) wait in `background`, everything else (settlements, bet
 * placement, loading) in `normal`. A `background` waiter gets the slot when no `normal` one waits,
 * or once it has waited LANE_LIMITS.backgroundWaitMaxMs: while a race settles, the shard's one
 * transaction at a time goes to settlements and post-settle batches fill up to their limit
 * meanwhile, and on a day where races keep the settlement queue full, post-settle still advances.
 *
 * Why: post-settle writes are needed by nobody until the ranking barrier (the user's notification
 * is published before them), while every slot they take delays the settlements behind it.
 * Measured (`raceday bench emulators` pipeline, 10,000 users, 25 per commit): serving them after
 * at most 16 settlement commits took 1.6-1.9 s of a 22-25 s settlement window (7%); deferred,
 * the window holds settlements only. Serving them first is worse still: each flush then carries
 * one or two users (measured: 13,545 commits for 4,000 users, one transaction per user).
 * The bound stays well inside the post-settle ack deadline (30 s), which a handler waiting for
 * two flushes (bonuses, then the marker) must not reach.
 */
export type Lane = 'normal' | 'background';

export const LANE_LIMITS = {
  /** Longest a `background` waiter yields to `normal` ones. */
  backgroundWaitMaxMs: 8_000,
} as const;

/** A counting semaphore with two FIFO lanes: at most `limit` holders; see Lane for the order. */
export class LaneGate {
  readonly #limit: number;
  readonly #backgroundWaitMaxMs: number;
  readonly #now: () => number;
  #held = 0;
  readonly #normal: (() => void)[] = [];
  readonly #background: { readonly grant: () => void; readonly sinceMs: number }[] = [];

  constructor(limit: number, backgroundWaitMaxMs: number = LANE_LIMITS.backgroundWaitMaxMs, now: () => number = () => performance.now()) {
    invariant(Number.isInteger(limit) && limit >= 1, `gate limit must be a positive integer, got ${limit}`);
    invariant(Number.isFinite(backgroundWaitMaxMs) && backgroundWaitMaxMs >= 0, `backgroundWaitMaxMs must be a non-negative number, got ${backgroundWaitMaxMs}`);
    this.#limit = limit;
    this.#backgroundWaitMaxMs = backgroundWaitMaxMs;
    this.#now = now;
  }

  async run<T>(fn: () => Promise<T>, lane: Lane = 'normal'): Promise<T> {
    if (this.#held >= this.#limit) {
      await new Promise<void>((grant) => {
        if (lane === 'normal') this.#normal.push(grant);
        else this.#background.push({ grant, sinceMs: this.#now() });
      });
    } else this.#held++;
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter (the count stays), or free it.
      const next = this.#next();
      if (next === undefined) this.#held--;
      else next();
    }
  }

  #next(): (() => void) | undefined {
    const oldest = this.#background[0];
    const backgroundDue = oldest !== undefined && (this.#normal.length === 0 || this.#now() - oldest.sinceMs >= this.#backgroundWaitMaxMs);
    return backgroundDue ? this.#background.shift()?.grant : this.#normal.shift();
  }
}

interface Pending<T, R> {
  readonly item: T;
  readonly resolve: (r: R) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Queues items for one shard and flushes them through the shard's gate: one flush is queued at a
 * time; everything added before the gate grants it joins it (up to the limit).
 *
 * With `keyOf`, a flush that cannot take every waiting item takes the oldest one and its
 * neighbours in key order rather than the first arrivals. Why: the emulator commits a batch of
 * users with adjacent keys faster than a scattered one. Measured with the bare settlement loop
 * (10,000 users, 25 per commit, one run each): users in key order 574 users/s, the same users
 * shuffled 431 and 447. The fan-out publishes in key order and the emulator mostly delivers in
 * that order, so in the pipeline here batches were already near-contiguous and the gain is within
 * run-to-run noise; the selection makes contiguity hold whatever the delivery order (Cloud Pub/Sub
 * does not keep order; on Cloud Spanner adjacent keys also mean fewer splits, so fewer
 * participants, per commit). The oldest item is always taken, so no item waits for more flushes
 * than there were items ahead of it.
 */
export class ShardBatcher<T, R> {
  readonly #gate: LaneGate;
  readonly #flush: (items: readonly T[]) => Promise<readonly R[]>;
  readonly #max: number;
  readonly #lane: Lane;
  readonly #keyOf: ((item: T) => string) | undefined;
  #pending: Pending<T, R>[] = [];
  #scheduled = false;
  #isolatedBatches = 0;

  constructor(gate: LaneGate, flush: (items: readonly T[]) => Promise<readonly R[]>, itemsMax: number = BATCH_LIMITS.itemsPerCommitMax, lane: Lane = 'normal', keyOf?: (item: T) => string) {
    invariant(Number.isInteger(itemsMax) && itemsMax >= 1, `batch size ${itemsMax} must be a positive integer`);
    this.#gate = gate;
    this.#flush = flush;
    this.#max = itemsMax;
    this.#lane = lane;
    this.#keyOf = keyOf;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (!this.#scheduled) this.#schedule();
    });
  }

  /** The next batch: every waiting item, or the oldest and its key-order neighbours (see the class). */
  #take(): Pending<T, R>[] {
    const keyOf = this.#keyOf;
    if (keyOf === undefined || this.#pending.length <= this.#max) return this.#pending.splice(0, this.#max);
    const oldest = this.#pending[0];
    const keyed = this.#pending.map((p) => ({ p, key: keyOf(p.item) }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)); // stable: equal keys keep arrival order
    const at = keyed.findIndex((k) => k.p === oldest);
    const start = Math.max(0, Math.min(at, keyed.length - this.#max));
    const batch = keyed.slice(start, start + this.#max).map((k) => k.p);
    const taken = new Set(batch);
    this.#pending = this.#pending.filter((p) => !taken.has(p));
    return batch;
  }

  #schedule(): void {
    this.#scheduled = true;
    void this.#gate.run(async () => {
      const batch = this.#take();
      this.#scheduled = false;
      if (this.#pending.length > 0) this.#schedule();
      let out: readonly R[];
      try {
        out = await this.#flush(batch.map((p) => p.item));
      } catch (e) {
        await this.#isolate(batch, e);
        return;
      }
      if (out.length !== batch.length) {
        const e = new Error(`invariant violated: group commit answered ${out.length} of ${batch.length} calls`);
        for (const p of batch) p.reject(e);
        return;
      }
      batch.forEach((p, i) => p.resolve(out[i] as R));
    }, this.#lane);
  }

  /**
   * A batch failed as a whole (a commit-time error such as the ALREADY_EXISTS backstop, or
   * ABORTED past the retry bound): retry its calls one transaction each, so only a call whose own
   * transaction fails gets an error. Why: rejecting the whole batch failed every user in it for
   * one user's fault, and batches take key-order neighbours, so the same neighbours met again on
   * redelivery and failed together until they were dead-lettered. The retries run one after
   * another in the slot the batch held, as the gate's one-transaction-at-a-time rule on the
   * emulator wants. A call whose batch did commit though its answer was lost sees its own write on
   * the retry (a duplicate settlement, a bonus already granted), as a redelivery would.
   */
  async #isolate(batch: readonly Pending<T, R>[], batchError: unknown): Promise<void> {
    if (batch.length === 1) {
      (batch[0] as Pending<T, R>).reject(batchError);
      return;
    }
    this.#isolatedBatches++;
    for (const p of batch) {
      try {
        const out = await this.#flush([p.item]);
        if (out.length !== 1) throw new Error(`invariant violated: group commit answered ${out.length} of 1 call`);
        p.resolve(out[0] as R);
      } catch (e) {
        p.reject(e);
      }
    }
  }

  /** Batches that failed as a whole and were retried call by call (see #isolate). */
  get isolatedBatches(): number {
    return this.#isolatedBatches;
  }
}

/** Keys without repeats (a batch may hold a redelivered call twice). */
export function uniqueKeys(keys: readonly string[][]): string[][] {
  const seen = new Map<string, string[]>();
  for (const k of keys) seen.set(k.join('\u0000'), k);
  return [...seen.values()];
}

export interface MarkRequest {
  readonly raceId: string;
  readonly userId: string;
}

/**
 * One transaction marking every (race, user) of the batch post-settled, each once, and counting the
 * new ones per race. A user the store never had is neither marked nor counted (a forged `settled`
 * must not move the ranking barrier); the ids of such users are returned.
 */
export function markPostSettledBatch(database: Database, counters: TxCounters, options: TxRunnerOptions, items: readonly MarkRequest[]): Promise<Set<string>> {
  return runReadWrite(
    database,
    counters,
    async (tx: Transaction) => {
      const races = [...new Set(items.map((i) => i.raceId))];
      const [[markers], [counts], [users]] = await Promise.all([
        tx.read('PostSettled', { keys: uniqueKeys(items.map((i) => [i.raceId, i.userId])), columns: ['RaceId', 'UserId'], json: true }),
        tx.read('PostSettledCounts', { keys: races.map((r) => [r]), columns: ['RaceId', 'UsersMarked'], json: true }),
        tx.read('Users', { keys: uniqueKeys(items.map((i) => [i.userId])), columns: ['UserId'], json: true }),
      ]);
      const known = new Set((users as { UserId: string }[]).map((u) => u.UserId));
      const unknown = new Set(items.filter((i) => !known.has(i.userId)).map((i) => i.userId));
      const marked = new Set((markers as { RaceId: string; UserId: string }[]).map((m) => `${m.RaceId}\u0000${m.UserId}`));
      const count = new Map((counts as { RaceId: string; UsersMarked: number }[]).map((c) => [c.RaceId, c.UsersMarked]));
      const changed = new Set<string>();
      for (const i of items) {
        if (unknown.has(i.userId)) continue;
        const key = `${i.raceId}\u0000${i.userId}`;
        if (marked.has(key)) continue; // already marked, or twice in this batch (a redelivery)
        marked.add(key);
        tx.insert('PostSettled', { RaceId: i.raceId, UserId: i.userId });
        count.set(i.raceId, (count.get(i.raceId) ?? 0) + 1);
        changed.add(i.raceId);
      }
      for (const raceId of changed) tx.upsert('PostSettledCounts', { RaceId: raceId, UsersMarked: count.get(raceId) });
      return unknown;
    },
    options,
  );
}

/**
 * One transaction granting the bonuses of several calls, each bonus id once. Returns, per call,
 * the ids granted now (an id asked twice in one batch counts for the first call that asked).
 */
export function grantBonusesBatch(database: Database, counters: TxCounters, options: TxRunnerOptions, calls: readonly (readonly Bonus[])[]): Promise<string[][]> {
  return runReadWrite(
    database,
    counters,
    async (tx: Transaction) => {
      const all = calls.flat();
      const userIds = [...new Set(all.map((b) => b.userId))];
      const [[existing], [users]] = await Promise.all([
        tx.read('Bonuses', { keys: [...new Set(all.map((b) => b.bonusId))].map((id) => [id]), columns: ['BonusId', 'UserId'], json: true }),
        tx.read('Users', { keys: userIds.map((u) => [u]), columns: USER_COLUMNS, json: true }),
      ]);
      const seen = new Map((existing as { BonusId: string; UserId: string }[]).map((r) => [r.BonusId, r.UserId]));
      const medals = new Map((users as { UserId: string; Medals: number }[]).map((u) => [u.UserId, u.Medals]));
      const credited = new Set<string>();
      const granted = calls.map((bonuses) => {
        const mine: string[] = [];
        for (const b of bonuses) {
          const owner = seen.get(b.bonusId);
          if (owner !== undefined) {
            invariant(owner === b.userId, `bonus ${b.bonusId} was granted to ${owner}, now asked for ${b.userId}`);
            continue;
          }
          const before = medals.get(b.userId);
          invariant(before !== undefined, `bonus ${b.bonusId} for unknown user ${b.userId}`);
          medals.set(b.userId, before + b.medals);
          seen.set(b.bonusId, b.userId);
          mine.push(b.bonusId);
          credited.add(b.userId);
          tx.insert('Bonuses', { BonusId: b.bonusId, UserId: b.userId, Medals: b.medals, Reason: b.reason });
          tx.insert('Ledger', { UserId: b.userId, EntryId: `bonus:${b.bonusId}`, Currency: 'medal', Amount: b.medals, Reason: 'bonus', Ref: b.bonusId });
        }
        return mine;
      });
      for (const userId of credited) tx.update('Users', { UserId: userId, Medals: medals.get(userId) });
      return granted;
    },
    options,
  );
}
