// A capacity plan section as `raceday plan --out` writes it (reports/record/capacity-plan.ts), for
// the report's tests: a feasible google plan on 40 Spanner nodes with a curve of six node counts.
import type { CapacityPlanSection } from '../../record/capacity-plan.ts';

export function capacityPlanFixture(over: Partial<CapacityPlanSection> = {}): CapacityPlanSection {
  const curve = [10, 20, 30, 40, 50, 60].map((n) => ({ knob: n, makespanMs: 12_000_000 / n, makespanHighMs: 13_200_000 / n, virtualMakespanMs: n >= 30 && n <= 50 ? 11_800_000 / n : null, cost: n * 10 + 20, meetsSlo: 13_200_000 / n <= 400_000 }));
  return {
    version: 1,
    question: { users: 2_000_000, tickets: 20_000_000, sloSeconds: 400, target: 'google' },
    feasible: true,
    infeasible: [],
    configuration: { settleWorkers: 64, postSettleWorkers: 16, notifyWorkers: 16, maxInFlight: 100, spannerShards: 1, spannerNodes: 40, settlementsPerCommit: 20, fanout: 'per-user', gatewayInstances: 40, subscriberClients: 8 },
    cost: 474,
    predicted: {
      method: 'virtual-time',
      makespanMs: { p50: 295_000, low: 280_000, high: 330_000 },
      notifyMakespanMs: { p50: 300_000, low: 285_000, high: 336_000 },
      notifyLatencyMs: { p50: 150_000, p99: 297_000, p99High: 333_000 },
      throughputUsersPerSecond: 6_780,
      bottleneck: 'spanner.writes',
      utilisation: { 'spanner.writes': 0.97, 'spanner.reads': 0.1, 'settle.slots': 0.8 },
      extrapolation: 50,
    },
    headroom: { sloMs: 400_000, predictedHighMs: 330_000, marginMs: 70_000, marginShare: 0.175, bottleneck: 'spanner.writes', bottleneckUtilisation: 0.97 },
    mainKnob: { name: 'spannerNodes', label: 'Spanner nodes' },
    curve,
    assumptions: ['Rated writes are counted as row writes.', 'Per-operation service times are the emulators model.'],
    parameters: [
      { name: 'spannerWritesPerSecondPerNode', value: 3_500, unit: 'writes/s', kind: 'published', source: 'Spanner: Performance overview', url: 'https://cloud.google.com/spanner/docs/performance', asOf: '2026-12-01', overridden: false },
      { name: 'notificationBytes', value: 800, unit: 'bytes', kind: 'assumed', source: 'assumed by the planner', url: 'docs/cloud-parameters.md#assumptions', asOf: '2026-12-01', overridden: true },
    ],
    warnings: ['PLAN.EXTRAPOLATED: 2000000 users is 50x the largest calibrated race'],
    model: { target: 'google', measuredAt: '2026-12-01T19:40:00Z', sources: ['test'] },
    ...over,
  };
}
