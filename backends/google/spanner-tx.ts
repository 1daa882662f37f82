// Read-write transactions for the Spanner store (the per-shard gate is LaneGate, spanner-batch.ts):
// a bounded ABORTED retry loop with jittered backoff, counted for the report.
//
// Why our own loop rather than runTransactionAsync's: the client's runner waits 1-2 s (growing to
// 32 s) after every ABORTED and retries for up to an hour. On the emulator, which runs one
// read-write transaction per database and aborts the others, that turns ordinary contention into
// seconds of idle time; here the backoff starts at a few milliseconds and attempts are bounded,
// so a stuck transaction fails loudly instead of hiding in a retry loop.
import type { Database, Transaction } from '@google-cloud/spanner';

export const TX_LIMITS = {
  /** Attempts of one transaction before the ABORTED error is rethrown. */
  attemptsMax: 30,
  backoffMsMin: 2,
  backoffMsMax: 250,
} as const;

/** gRPC ABORTED: Spanner's "retry the whole transaction" answer (lock conflict, emulator's one-at-a-time rule). */
const ABORTED = 10;

export function isAborted(e: unknown): boolean {
  return typeof e === 'object' && e !== null && 'code' in e && e.code === ABORTED;
}

export interface TxCounters {
  committed: number;
  aborted: number;
}

export interface TxRunnerOptions {
  /** Uniform [0, 1) for backoff jitter; Math.random unless a seeded source is passed. */
  readonly random?: () => number;
  /** Where transactions come from (default: database.getTransaction() each time). */
  readonly transactions?: TransactionSource;
  /**
   * Fault injection (the fault simulator's aborts): asked once the body has run; true answers the
   * commit with ABORTED instead of sending it, so the whole body is retried as after a real abort.
   */
  readonly injectAbort?: () => boolean;
}

function injectedAbort(): Error {
  return Object.assign(new Error('ABORTED: injected by the fault simulator'), { code: ABORTED });
}

export interface TransactionSource {
  next(): Promise<Transaction>;
  /** Ends the transaction prepared ahead, if any (its session goes back to the pool). */
  close(): void;
}

export const PREFETCH_LIMITS = {
  /** A transaction prepared ahead and unused this long is ended and a fresh one taken instead. */
  staleMs: 10_000,
} as const;

/**
 * Transactions of one database, each prepared while the previous one runs. Taking a session from
 * the pool and creating the transaction is a round through the event loop; behind a gate that
 * admits one transaction per database, that round (about 3 ms of a 60 ms group commit in the
 * pipeline, where the loop is busy with Pub/Sub, against 0.3 ms in a bare loop) was spent holding
 * the slot. Prepared ahead, the next holder starts its first read at once. Nothing is sent to
 * Spanner until that read (the transaction begins inline), so a prepared transaction takes no lock.
 */
export function prefetchTransactions(database: Database, now: () => number = () => performance.now()): TransactionSource {
  interface Ahead {
    readonly tx: Promise<Transaction>;
    readonly atMs: number;
    failed: boolean;
  }
  let ahead: Ahead | undefined;
  const prepare = (): Ahead => {
    const entry: Ahead = { tx: database.getTransaction().then(([t]) => t), atMs: now(), failed: false };
    entry.tx.catch(() => {
      entry.failed = true; // not handed out: next() prepares a fresh one
    });
    return entry;
  };
  const endAhead = (): void => {
    const old = ahead;
    ahead = undefined;
    if (old !== undefined) void old.tx.then((t) => t.end(), () => undefined);
  };
  return {
    next() {
      if (ahead !== undefined && (ahead.failed || now() - ahead.atMs > PREFETCH_LIMITS.staleMs)) endAhead();
      const taken = ahead ?? prepare();
      ahead = prepare();
      return taken.tx;
    },
    close: endAhead,
  };
}

/**
 * Runs `body` in a read-write transaction on `database` and commits, retrying the whole body on
 * ABORTED. The body queues mutations on the transaction and returns a value; it must not have
 * effects outside the transaction, because it may run several times.
 */
export async function runReadWrite<T>(
  database: Database,
  counters: TxCounters,
  body: (tx: Transaction) => Promise<T>,
  options: TxRunnerOptions = {},
): Promise<T> {
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    const tx = options.transactions === undefined ? (await database.getTransaction())[0] : await options.transactions.next();
    try {
      const value = await body(tx);
      if (options.injectAbort?.() === true) throw injectedAbort();
      await tx.commit();
      counters.committed++;
      return value;
    } catch (e) {
      await tx.rollback().catch(() => undefined); // best effort: the emulator frees its lock sooner
      if (!isAborted(e)) throw e;
      counters.aborted++;
      if (attempt >= TX_LIMITS.attemptsMax) {
        throw new Error(`transaction still ABORTED after ${attempt} attempts (TX_LIMITS.attemptsMax)`, { cause: e });
      }
      const ceilingMs = Math.min(TX_LIMITS.backoffMsMax, TX_LIMITS.backoffMsMin * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, ceilingMs * (0.5 + random() / 2)));
    } finally {
      tx.end();
    }
  }
}
