// A toy cost model and predictor for the recommender's tests: each stage's rate follows its
// workers, flow control and (for settle) group commit and shards, with an optional USL penalty on
// settle workers, so the search has real trade-offs to find without the planner's own predictors.
import type { CostModel, PlanConfiguration, Prediction, Predict, Workload } from '../contracts.ts';

export interface ToyOptions {
  /** USL contention on settle workers (0: none). */
  readonly sigma?: number;
  readonly kappa?: number;
  /** Multiplies every makespan (a virtual predictor that disagrees with the closed form). */
  readonly slowdown?: number;
  /** Notify makespan over settle makespan (default 1.1). */
  readonly notifyFactor?: number;
  /**
   * Users per second one notify worker notifies, apart from settlement: the notify latency p99
   * is the makespan plus the users over all notify workers' rate, and notify workers no longer
   * bound the makespan (a plan sized for settlement alone notifies late).
   */
  readonly notifyPerWorker?: number;
}

export function toyModel(o: ToyOptions = {}): CostModel {
  const sigma = o.sigma ?? 0;
  const kappa = o.kappa ?? 0;
  return {
    schemaVersion: 1,
    target: 'emulators',
    measuredAt: '2026-12-01T00:00:00Z',
    sources: ['toy model for tests'],
    operations: { 'settle.commit': { baseUs: 2000, perUs: { users: 500 }, cv: 0.1, samples: 10 } },
    usl: kappa > 0 ? [{ concurrency: 'settle workers', throughput: 'users/s', lambda: 100, sigma, kappa, peakN: Math.sqrt((1 - sigma) / kappa), r2: 0.99, levels: [] }] : [],
    parallelism: { transactionsPerUnit: 1 },
    calibratedMax: { users: 10_000, tickets: 100_000 },
  };
}

function rates(model: CostModel, c: PlanConfiguration): Record<string, number> {
  const usl = model.usl[0];
  const n = c.settleWorkers;
  const penalty = usl === undefined ? 1 : 1 + usl.sigma * (n - 1) + usl.kappa * n * (n - 1);
  const commitMs = 2 + 0.5 * c.settlementsPerCommit;
  const units = model.target === 'google' ? 1_000 : c.spannerShards * model.parallelism.transactionsPerUnit;
  const concurrency = Math.min(c.settleWorkers * c.maxInFlight, units);
  return {
    settle: (concurrency * c.settlementsPerCommit * 1000) / commitMs / penalty,
    'post-settle': c.postSettleWorkers * c.maxInFlight * 1000,
    notify: c.notifyWorkers * c.maxInFlight * 2000,
    gateway: c.gatewayInstances * 20_000,
  };
}

function notifyApart(makespanMs: number, notifySeconds: number): Prediction['notifyLatencyMs'] {
  const p99 = makespanMs + notifySeconds * 1000;
  return { p50: makespanMs / 2 + notifySeconds * 500, p99, p99High: p99 * 1.2 };
}

export function toyPredict(o: ToyOptions = {}): Predict {
  return async (model: CostModel, c: PlanConfiguration, w: Workload): Promise<Prediction> => {
    const r = rates(model, c);
    if (o.notifyPerWorker !== undefined) delete r['notify'];
    const slowest = Math.min(...Object.values(r));
    const bottleneck = Object.entries(r).find(([, v]) => v === slowest)?.[0] ?? 'settle';
    const p50 = ((w.users / slowest) * 1000 + 50) * (o.slowdown ?? 1);
    return {
      configuration: c,
      workload: w,
      makespanMs: { p50, low: p50 * 0.9, high: p50 * 1.2 },
      notifyMakespanMs: { p50: p50 * (o.notifyFactor ?? 1.1), low: p50, high: p50 * (o.notifyFactor ?? 1.1) * 1.2 },
      notifyLatencyMs: o.notifyPerWorker === undefined ? { p50: p50 / 2, p99: p50, p99High: p50 * 1.2 } : notifyApart(p50, w.users / (c.notifyWorkers * o.notifyPerWorker)),
      throughputUsersPerSecond: w.users / (p50 / 1000),
      bottleneck,
      utilisation: Object.fromEntries(Object.entries(r).map(([k, v]) => [k, slowest / v])),
      method: o.slowdown === undefined ? 'closed-form' : 'virtual-time',
      extrapolation: w.users / model.calibratedMax.users,
      warnings: [],
    };
  };
}
