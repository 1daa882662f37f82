// The swarm's cohorts and how each behaves. A cohort is a share of the simulated users:
// - healthy: reads everything as it arrives;
// - slow: reads at most K KB/s (the socket is paused and resumed so the kernel's window closes,
//   exactly what a phone on a bad network does to the gateway);
// - stalled: subscribes, then never reads again (the socket stays paused);
// - flapping: drops its connection every so often and reconnects subscribing after the last
//   sequence it holds without a gap (`notifications(afterSeq: last)`).
import { UsageError } from '../../cmdline/args.ts';

export const COHORTS = ['healthy', 'slow', 'stalled', 'flapping'] as const;
export type Cohort = (typeof COHORTS)[number];

export type CohortCounts = Readonly<Record<Cohort, number>>;

export interface CohortBehaviour {
  /** slow: bytes a second a slow client reads (default 8 KB/s). */
  readonly slowReadBytesPerSecond: number;
  /** flapping: connection lifetime before the client drops it, ms (default 1,500). */
  readonly flapEveryMs: number;
  /** Every cohort but stalled reconnects after a close it did not ask for (an eviction), after this pause. */
  readonly reconnectDelayMs: number;
  /** A gateway silent this long (no pong, no frame) is taken for gone (client.ts LeanOptions); 0: never. */
  readonly livenessMs: number;
}

export const COHORT_BEHAVIOUR_DEFAULT: CohortBehaviour = {
  slowReadBytesPerSecond: 8 * 1024, // 8 KB/s
  flapEveryMs: 1_500, // 1.5 s
  reconnectDelayMs: 200, // 0.2 s
  livenessMs: 30_000, // 30 s: a half-open connection is noticed, a busy gateway is not mistaken for one
};

/**
 * Parses `slow=5%,stalled=10,flapping=1%` for `total` users: each share is a count or a
 * percentage of the total (rounded down, at least 1 when the percentage is above 0); the rest are
 * healthy. Naming `healthy` is refused: it is always the remainder.
 */
export function parseCohorts(spec: string, total: number): CohortCounts {
  const counts: Record<Cohort, number> = { healthy: 0, slow: 0, stalled: 0, flapping: 0 };
  if (spec.trim() !== '') {
    for (const part of spec.split(',')) {
      const m = /^\s*([a-z]+)\s*=\s*(\d+(?:\.\d+)?)(%?)\s*$/.exec(part);
      if (m === null) throw new UsageError(`cohort "${part}" must look like slow=5% or stalled=10`);
      const [, name, amount, pct] = m as unknown as [string, string, string, string];
      if (name === 'healthy') throw new UsageError('cohort healthy is the remainder: name only slow, stalled and flapping');
      if (!(COHORTS as readonly string[]).includes(name)) throw new UsageError(`unknown cohort "${name}" (cohorts: slow, stalled, flapping)`);
      const value = Number(amount);
      const n = pct === '%' ? (value > 0 ? Math.max(1, Math.floor((total * value) / 100)) : 0) : value;
      if (!Number.isInteger(n)) throw new UsageError(`cohort ${name} must be a whole number of users, got ${amount}`);
      counts[name as Cohort] = n;
    }
  }
  const named = counts.slow + counts.stalled + counts.flapping;
  if (named > total) throw new UsageError(`cohorts name ${named} users but the swarm has ${total}`);
  counts.healthy = total - named;
  return counts;
}

/**
 * Assigns cohorts to user indices 0..total-1, each named cohort spread evenly over the indices
 * (every k-th user, a collision moving to the next healthy slot). Spread, not grouped: the driver
 * publishes in user order, so a cohort grouped at the front would always be served first.
 */
export function assignCohorts(counts: CohortCounts): Cohort[] {
  const total = COHORTS.reduce((s, c) => s + counts[c], 0);
  const out: Cohort[] = new Array<Cohort>(total).fill('healthy');
  (['stalled', 'slow', 'flapping'] as const).forEach((c, offset) => {
    for (let k = 0; k < counts[c]; k++) {
      let i = (Math.floor(((k + 0.5) * total) / counts[c]) + offset) % total;
      while (out[i] !== 'healthy') i = (i + 1) % total;
      out[i] = c;
    }
  });
  return out;
}

/**
 * Deals users to `workers` workers: each cohort round robin on its own, so every worker holds its
 * share of every cohort (dealing all users round robin would not: a cohort spread every k-th user
 * can fall on one worker). Returns the user indices of each worker, in user order.
 */
export function dealToWorkers(cohortOf: readonly Cohort[], workers: number): number[][] {
  const out: number[][] = Array.from({ length: workers }, () => []);
  const seen: Record<Cohort, number> = { healthy: 0, slow: 0, stalled: 0, flapping: 0 };
  cohortOf.forEach((c, i) => {
    (out[seen[c] % workers] as number[]).push(i);
    seen[c]++;
  });
  return out;
}
