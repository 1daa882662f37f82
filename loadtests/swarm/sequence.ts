// Counting what one user's notification stream did against its per-user sequence numbers
// (1, 2, 3, ... per user, dense): duplicates (a sequence seen before), out-of-order arrivals (a
// new sequence below the highest one seen), and, once the expected count is known, losses (an
// expected sequence never seen). The swarm's only source of truth about delivery is this count,
// so it must be able to fail: its tests inject a duplicate and a gap.

export interface SequenceCounts {
  /** Distinct sequences received. */
  readonly distinct: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  /** Highest sequence received (0: none). */
  readonly maxSeq: number;
  /** Highest sequence below which nothing is missing: what a reconnecting client resumes after. */
  readonly contiguous: number;
}

export interface SequenceTracker {
  /** Records one arrival; returns 'new', 'duplicate' (dropped by a correct client) or 'out-of-order' (new, but late). */
  accept(seq: number): 'new' | 'duplicate' | 'out-of-order';
  counts(): SequenceCounts;
  /** Distinct sequences in 1..expected never received. */
  lostOf(expected: number): number;
}

export function createSequenceTracker(): SequenceTracker {
  // A bitmap of seen sequences that grows by doubling: users get a few notifications per race.
  let seen = new Uint8Array(64);
  let distinct = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let maxSeq = 0;
  let contiguous = 0;
  const has = (s: number): boolean => s < seen.length * 8 && ((seen[s >> 3] as number) & (1 << (s & 7))) !== 0;
  return {
    accept(seq) {
      if (!Number.isSafeInteger(seq) || seq < 1) throw new Error(`SWARM.BAD_SEQUENCE: a notification carried sequence ${String(seq)}, expected a positive integer`);
      if (has(seq)) {
        duplicates++;
        return 'duplicate';
      }
      while (seq >= seen.length * 8) {
        const grown = new Uint8Array(seen.length * 2);
        grown.set(seen);
        seen = grown;
      }
      seen[seq >> 3] = (seen[seq >> 3] as number) | (1 << (seq & 7));
      distinct++;
      while (has(contiguous + 1)) contiguous++;
      const late = seq < maxSeq;
      if (late) outOfOrder++;
      else maxSeq = seq;
      return late ? 'out-of-order' : 'new';
    },
    counts: () => ({ distinct, duplicates, outOfOrder, maxSeq, contiguous }),
    lostOf(expected) {
      let got = 0;
      for (let s = 1; s <= expected; s++) if (has(s)) got++;
      return expected - got;
    },
  };
}

/** Totals over users, given each user's expected count. */
export interface DeliveryTotals {
  readonly expected: number;
  /** Distinct notifications received. */
  readonly received: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  /** Distinct sequences above a user's expected count (the expectation was too low, or the gateway invented some). */
  readonly unexpected: number;
}
