// A chaos run's reliability section built by hand for the report tests: two seeds (the second
// lost a ticket), faults of several kinds, dead letters, and a short soak with RSS and p99 samples.
import type { ReliabilitySection } from '../record/reliability.ts';

export function reliabilityFixture(options: { soak?: boolean; lostInSecondRun?: number } = {}): ReliabilitySection {
  const lost = options.lostInSecondRun ?? 1;
  const run = (seed: number, lostHere: number) => ({
    seed,
    scenario: 'smoke',
    faultsByKind: { kill: 3, latency: 1 },
    faults: [
      { kind: 'kill', target: 'fanout-1', phase: 'fanout', atMs: 1_200, durationMs: 400, recoveredAfterMs: 350 },
      { kind: 'kill', target: 'settle-2', phase: 'settle', atMs: 2_100, durationMs: 900, recoveredAfterMs: 1_250 },
      { kind: 'kill', target: 'post-settle-1', phase: 'barrier', atMs: 4_000, durationMs: 300, recoveredAfterMs: null },
      { kind: 'latency', target: 'spanner', phase: 'settle', atMs: 2_500, durationMs: 2_000, recoveredAfterMs: 90 },
    ],
    tickets: 5_000,
    users: 500,
    settledExactlyOnce: 5_000 - lostHere,
    lost: lostHere,
    doubled: 0,
    deadLettered: { 'DELIVERY.ATTEMPTS_EXHAUSTED': 2 },
    notificationsLostAfterRecovery: 0,
    notificationsDuplicatedAfterRecovery: 0,
    redriven: { fanouts: 0, races: seed - 1, users: 3 * (seed - 1) },
    recoveryMs: { p50: 350, max: 1_250 },
    ok: lostHere === 0,
    violations: lostHere === 0 ? [] : [`${lostHere} ticket(s) never settled`],
  });
  const runs = [run(1, 0), run(2, lost)];
  const section: ReliabilitySection = {
    runs,
    totals: {
      runs: 2,
      faultsByKind: { kill: 6, latency: 2 },
      faults: 8,
      tickets: 10_000,
      settledExactlyOnce: 10_000 - lost,
      lost,
      doubled: 0,
      deadLettered: { 'DELIVERY.ATTEMPTS_EXHAUSTED': 4 },
      notificationsLostAfterRecovery: 0,
      notificationsDuplicatedAfterRecovery: 0,
      redriven: { fanouts: 0, races: 1, users: 3 },
      recoveryMeasured: 6,
      recoveryNotNeeded: 2,
      recoveryMs: { p50: 350, max: 1_250 },
      failedRuns: lost === 0 ? 0 : 1,
      ok: lost === 0,
    },
  };
  if (options.soak !== true) return section;
  const minutes = 10;
  const times = Array.from({ length: 61 }, (_, i) => i * 10_000);
  return {
    ...section,
    soak: {
      minutes,
      days: 12,
      windowMs: 60_000,
      samples: [
        { metric: 'rss settle-1', unit: 'MB', points: times.map((t, i) => ({ tMs: t, value: 120 + (i % 5), group: 'pid-100' })) },
        { metric: 'rss notify-1', unit: 'MB', points: times.map((t) => ({ tMs: t, value: 90 + t / 60_000 * 3, group: 'pid-200' })) },
        { metric: 'settle p99', unit: 'ms', points: times.filter((_, i) => i % 6 === 0).map((t, i) => ({ tMs: t, value: 400 + (i % 3) * 20 })) },
      ],
      drift: [
        { metric: 'rss settle-1', unit: 'MB', samples: 55, warmupSamples: 6, slopePerMin: 0.05, lowPerMin: -0.2, highPerMin: 0.3, thresholdPerMin: 1, median: 122, verdict: 'no unbounded growth' },
        { metric: 'rss notify-1', unit: 'MB', samples: 55, warmupSamples: 6, slopePerMin: 3, lowPerMin: 2.9, highPerMin: 3.1, thresholdPerMin: 1, median: 105, verdict: 'growing' },
        { metric: 'settle p99', unit: 'ms', samples: 10, warmupSamples: 1, slopePerMin: 0.4, lowPerMin: -5, highPerMin: 6, thresholdPerMin: 8.4, median: 420, verdict: 'inconclusive' },
      ],
      verdict: 'growing: rss notify-1',
    },
  };
}
