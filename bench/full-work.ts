// When the pipeline's work on a race is done, for `raceday bench emulators`: not at the last
// settlement commit (the store's lane gate pushes bonus and marker transactions behind the
// settlements, so they may still be committing then) but once the ranking was shown AND every
// post-settle write (day progress and its bonuses, post-settled markers, the ranking claim, outbox
// clean-up) committed.
// The raw loop it is compared with does the same writes (spanner-capacity.ts), so the ratio
// compares the same work.
import type { Store } from '../core/ports.ts';

/** The store calls that are post-settle work: their commit times end the pipeline's work. */
const POST_SETTLE_WRITES = ['applyDayProgress', 'grantBonuses', 'markPostSettled', 'claimRanking', 'deleteOutbox'] as const;

export interface TimedWrites<S> {
  /** The store to run the pipeline on: the same store, its post-settle writes timed. */
  readonly store: S;
  /** Time (on `now`) the last post-settle write returned; 0 when none did. */
  lastWriteAtMs(): number;
  /** Post-settle write calls that returned. */
  writes(): number;
}

/** Wraps the store so that every post-settle write that returns records `now()`. */
export function timePostSettleWrites<S extends Store>(store: S, now: () => number): TimedWrites<S> {
  let last = 0;
  let count = 0;
  const timed = Object.create(store) as S;
  for (const name of POST_SETTLE_WRITES) {
    const method = store[name] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (method === undefined) continue;
    Object.defineProperty(timed, name, {
      value: async (...args: unknown[]) => {
        const r = await method.apply(store, args);
        last = Math.max(last, now());
        count++;
        return r;
      },
    });
  }
  return { store: timed, lastWriteAtMs: () => last, writes: () => count };
}

export interface WorkEnds {
  /** Publication -> last settlement committed. */
  readonly settleMakespanMs: number;
  /** Publication -> the ranking shown by the client; 0 when it never was. */
  readonly rankingMakespanMs: number;
  /** Publication -> the last post-settle write committed. */
  readonly postSettleMakespanMs: number;
}

/** Publication -> the end of the race's work: the latest of the three; a run whose ranking never came did not finish. */
export function fullWorkMakespanMs(e: WorkEnds): number {
  if (!(e.rankingMakespanMs > 0)) throw new Error('the pipeline never showed the ranking: its work did not finish');
  return Math.max(e.settleMakespanMs, e.rankingMakespanMs, e.postSettleMakespanMs);
}
