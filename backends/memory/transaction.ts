// Spanner-like optimistic transactions for the memory store. A transaction's read phase runs
// synchronously and returns a plan (a result plus the writes to apply); then the transaction
// yields, so concurrent transactions interleave exactly there, like concurrent Spanner
// transactions between their reads and their commit. At commit it checks that no user it touches
// was written meanwhile (per-user versions); on a conflict or an injected abort it backs off on
// the clock (exponential with jitter from the rng) and re-runs the read phase, a bounded number
// of times, then fails with ABORTED like a Spanner client that ran out of retries.
import type { Clock, Rng } from '../../core/ports.ts';
import type { GrowArray } from './columns.ts';
import { TRANSACTION_ABORTED } from './store-types.ts';

export const DEFAULT_MAX_TRANSACTION_ATTEMPTS = 16;
const RETRY_BACKOFF_MIN_MS = 1;
const RETRY_BACKOFF_MAX_MS = 32;

/** What a transaction's read phase decided: a result, and the writes to apply if it commits. */
export interface Plan<T> {
  readonly result: T;
  /** Absent for a read-only outcome (returned at once, nothing to validate). */
  readonly commit?: () => void;
  /** Users the writes touch (their versions are checked and bumped). */
  readonly users?: readonly number[];
  /** Whatever else the read depended on is unchanged (e.g. the race index was not rebuilt). */
  readonly stillValid?: () => boolean;
}

export interface TransactionCounters {
  committed: number;
  aborted: number;
  retried: number;
  injected: number;
  conflicts: number;
}

export interface TransactionRunnerOptions {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly abortProbability: number;
  /** The broken exactly-once mode: commit even over conflicting writes. */
  readonly ignoreConflicts: boolean;
  readonly maxAttempts: number;
  /** Virtual time between read and commit; 0 = one microtask. */
  readonly latencyMs: number;
  /** Per-user write versions. */
  readonly version: GrowArray<Uint32Array>;
  readonly counters: TransactionCounters;
}

export function createTransactionRunner(o: TransactionRunnerOptions): <T>(read: () => Plan<T>) => Promise<T> {
  const { clock, rng, counters, version } = o;
  return async <T>(read: () => Plan<T>): Promise<T> => {
    for (let attempt = 1; attempt <= o.maxAttempts; attempt++) {
      if (attempt > 1) counters.retried++;
      const plan = read();
      if (plan.commit === undefined) return plan.result;
      const users = plan.users ?? [];
      const seen = new Uint32Array(users.length);
      for (let i = 0; i < users.length; i++) seen[i] = version.data[users[i] as number] as number;
      if (o.latencyMs > 0) await clock.sleep(o.latencyMs);
      else await Promise.resolve();
      let conflict = false;
      for (let i = 0; i < users.length && !o.ignoreConflicts; i++) conflict ||= version.data[users[i] as number] !== seen[i];
      conflict ||= plan.stillValid?.() === false;
      const injected = !conflict && o.abortProbability > 0 && rng.nextU32() / 4294967296 < o.abortProbability;
      if (!conflict && !injected) {
        plan.commit();
        for (const u of users) version.data[u] = ((version.data[u] as number) + 1) >>> 0;
        counters.committed++;
        return plan.result;
      }
      counters.aborted++;
      if (conflict) counters.conflicts++;
      else counters.injected++;
      const capMs = Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_MIN_MS * 2 ** (attempt - 1));
      await clock.sleep(RETRY_BACKOFF_MIN_MS + (rng.nextU32() % capMs));
    }
    throw new Error(`${TRANSACTION_ABORTED}: transaction aborted ${o.maxAttempts} times`);
  };
}
