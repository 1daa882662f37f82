// The gateway bench's subscribers as two swarms: those who watch the next race's odds (every slow
// and stalled client, and a share of the healthy ones) and those who only wait for their
// notifications. Odds cost bytes per second per watcher, and the machine carries only so many:
// the bench chooses how many healthy users watch (docs/bench.md). The two reports are merged
// exactly: HDR histograms added bucket by bucket, counts summed cohort by cohort.
import { startSwarm, type Cohort, type CohortCounts, type CohortReport, type SwarmReport, type SwarmUser } from '../loadtests/swarm.ts';
import { percentilesOf } from '../reports/latency.ts';

export interface SplitSwarmOptions {
  readonly wsUrl: string;
  readonly users: readonly SwarmUser[];
  readonly cohorts: CohortCounts;
  /** Healthy users that also watch the odds race (the slow and stalled ones always do). */
  readonly healthyWatchers: number;
  readonly watchRaceId: string | undefined;
  readonly slowReadBytesPerSecond: number;
  readonly workers?: number;
}

export interface SplitSwarm {
  readonly ready: Promise<{ connected: number; failed: number; firstError?: string }>;
  stop(perUserDefault: number): Promise<SwarmReport>;
}

type Swarm = ReturnType<typeof startSwarm>;

/** Users 0..n-1: the first `healthyWatchers + slow + stalled` watch (cohorts assigned within), the rest do not. */
export function startSplitSwarm(o: SplitSwarmOptions): SplitSwarm {
  const watching = o.watchRaceId === undefined ? 0 : Math.min(o.users.length, o.healthyWatchers + o.cohorts.slow + o.cohorts.stalled + o.cohorts.flapping);
  const parts: Swarm[] = [];
  const common = { wsUrl: o.wsUrl, isolation: 'process' as const, behaviour: { slowReadBytesPerSecond: o.slowReadBytesPerSecond } };
  const share = (n: number): number | undefined => (o.workers === undefined ? undefined : Math.max(1, Math.round((o.workers * n) / o.users.length)));
  if (watching > 0) {
    const w = share(watching);
    parts.push(startSwarm({ ...common, users: o.users.slice(0, watching), cohorts: { ...o.cohorts, healthy: watching - o.cohorts.slow - o.cohorts.stalled - o.cohorts.flapping }, watchRaceId: o.watchRaceId as string, ...(w === undefined ? {} : { workers: w }) }));
  }
  if (watching < o.users.length) {
    const n = share(o.users.length - watching);
    parts.push(startSwarm({ ...common, users: o.users.slice(watching), cohorts: { healthy: o.users.length - watching, slow: 0, stalled: 0, flapping: 0 }, ...(n === undefined ? {} : { workers: n }) }));
  }
  const ready = Promise.all(parts.map((p) => p.ready)).then((rs) => {
    const firstError = rs.find((r) => r.firstError !== undefined)?.firstError;
    return { connected: rs.reduce((s, r) => s + r.connected, 0), failed: rs.reduce((s, r) => s + r.failed, 0), ...(firstError === undefined ? {} : { firstError }) };
  });
  return {
    ready,
    async stop(perUserDefault) {
      const stopped = await Promise.all(parts.map((p) => p.stop({ default: perUserDefault })));
      return mergeSwarmReports(stopped);
    },
  };
}

function sumCohort(a: CohortReport, b: CohortReport): Omit<CohortReport, 'notificationLatencyMs' | 'oddsLatencyMs'> {
  const closes: Record<string, number> = { ...a.closesByCode };
  for (const [code, n] of Object.entries(b.closesByCode)) closes[code] = (closes[code] ?? 0) + n;
  const d = (k: keyof CohortReport['delivery']) => a.delivery[k] + b.delivery[k];
  return {
    ...a,
    users: a.users + b.users, connects: a.connects + b.connects, connectFailures: a.connectFailures + b.connectFailures, closesByCode: closes,
    errors: a.errors + b.errors, notificationFrames: a.notificationFrames + b.notificationFrames, oddsFrames: a.oddsFrames + b.oddsFrames, bytes: a.bytes + b.bytes,
    notificationsAfterStall: a.notificationsAfterStall + b.notificationsAfterStall,
    delivery: { expected: d('expected'), received: d('received'), lost: d('lost'), duplicates: d('duplicates'), outOfOrder: d('outOfOrder'), unexpected: d('unexpected') },
  };
}

/** One report from several swarms' (cohort totals summed, latency histograms merged exactly). */
export function mergeSwarmReports(parts: readonly Awaited<ReturnType<Swarm['stop']>>[]): SwarmReport {
  const first = parts[0];
  if (first === undefined) throw new Error('invariant violated: no swarm to merge');
  if (parts.length === 1) return first.report;
  const histograms = new Map(first.histograms);
  for (const p of parts.slice(1)) {
    for (const [key, h] of p.histograms) {
      const into = histograms.get(key);
      if (into === undefined) histograms.set(key, h);
      else into.add(h);
    }
  }
  const cohorts: Partial<Record<Cohort, CohortReport>> = {};
  for (const p of parts) {
    for (const [c, r] of Object.entries(p.report.cohorts) as [Cohort, CohortReport][]) {
      const sum = cohorts[c] === undefined ? r : sumCohort(cohorts[c], r);
      const pct = (kind: string) => {
        const h = histograms.get(`${c}/${kind}`);
        return h === undefined || h.totalCount === 0 ? null : percentilesOf(h);
      };
      cohorts[c] = { ...sum, notificationLatencyMs: pct('notification'), oddsLatencyMs: pct('odds') };
    }
  }
  const d = (k: keyof SwarmReport['delivery']) => parts.reduce((s, p) => s + p.report.delivery[k], 0);
  return {
    ...first.report,
    users: parts.reduce((s, p) => s + p.report.users, 0),
    workers: parts.reduce((s, p) => s + p.report.workers, 0),
    cohorts,
    delivery: { expected: d('expected'), received: d('received'), lost: d('lost'), duplicates: d('duplicates'), outOfOrder: d('outOfOrder'), unexpected: d('unexpected') },
    workerLoopDelayMs: parts.flatMap((p) => p.report.workerLoopDelayMs),
  };
}
