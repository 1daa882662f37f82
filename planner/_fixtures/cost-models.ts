// Hand-written cost models for the predictors' tests: round figures of the order measured on this
// machine (a settlement group commit on the emulator of ~50 ms for 25 users of 10 tickets, about
// 500 users/s per database; the memory backend settling ~20,000 users/s), not a calibration.
// Tests vary them (scale one operation, change the parallelism) and check the predictions move.
import type { CostModel, LinearCost, OperationName, PlanConfiguration } from '../contracts.ts';

const cost = (baseUs: number, perUs: Record<string, number> = {}, cv = 0): LinearCost => ({ baseUs, perUs, cv, samples: 30 });

export const EMULATOR_MODEL: CostModel = {
  schemaVersion: 1,
  target: 'emulators',
  measuredAt: '2026-12-01T00:00:00.000Z',
  sources: ['test fixture: hand-written'],
  operations: {
    'settle.commit': cost(4_000, { users: 1_200, tickets: 50 }, 0.2),
    'postSettle.commit': cost(3_000, { users: 200 }, 0.2),
    'notify.append': cost(3_000, { notifications: 150 }, 0.2),
    'fanout.page': cost(20_000, { users: 20 }, 0.1),
    'publish.batch': cost(2_000, { messages: 20 }, 0.2),
    'deliver.message': cost(1_500, {}, 0.3),
    'ingest.result': cost(5_000, { tickets: 1 }),
    'ranking.claim': cost(5_000, { users: 5 }),
    'settled.check': cost(2_000, { users: 100 }, 0.2),
  },
  // Shards that scale (a shard USL with no contention: as if each database had a core of its own),
  // so the tests of sharding see the databases alone; EMULATOR_ONE_PROCESS_MODEL shares them.
  usl: [{ concurrency: 'spanner shards', throughput: 'users settled per second', lambda: 500, sigma: 0, kappa: 0, peakN: Number.POSITIVE_INFINITY, r2: 1, levels: [] }],
  parallelism: { transactionsPerUnit: 1 },
  calibratedMax: { users: 10_000, tickets: 50_000 },
};

/** The same costs with shards that do not scale (a flat shard USL, as measured here): every database shares one emulator process. */
export const EMULATOR_ONE_PROCESS_MODEL: CostModel = {
  ...EMULATOR_MODEL,
  usl: [{ concurrency: 'spanner shards', throughput: 'users settled per second', lambda: 500, sigma: 1, kappa: 0, peakN: 1, r2: 1, levels: [] }],
};

export const MEMORY_MODEL: CostModel = {
  schemaVersion: 1,
  target: 'memory',
  measuredAt: '2026-12-01T00:00:00.000Z',
  sources: ['test fixture: hand-written'],
  operations: {
    'settle.commit': cost(15, { users: 10, tickets: 2 }, 0.2),
    'postSettle.commit': cost(8, { users: 2 }, 0.2),
    'notify.append': cost(6, { notifications: 2 }, 0.2),
    'fanout.page': cost(100, { users: 0.2 }),
    'publish.batch': cost(4, { messages: 3 }, 0.2),
    'deliver.message': cost(5, {}, 0.2),
    'ingest.result': cost(100, { tickets: 0.05 }),
    'ranking.claim': cost(50, { users: 0.5 }),
    'settled.check': cost(4, { users: 1 }, 0.2),
  },
  usl: [],
  parallelism: { transactionsPerUnit: 1 },
  calibratedMax: { users: 100_000, tickets: 500_000 },
};

export const GOOGLE_MODEL: CostModel = {
  ...EMULATOR_MODEL,
  target: 'google',
  operations: { ...EMULATOR_MODEL.operations, 'settle.commit': cost(8_000, { users: 500, tickets: 20 }, 0.2), 'gateway.message': cost(200, {}, 0.2) },
  parallelism: { transactionsPerUnit: 1, writesPerSecondPerNode: 3_500, readsPerSecondPerNode: 22_500, maxCpuShare: 0.65 },
  calibratedMax: { users: 10_000, tickets: 50_000 },
};

/** The model with one operation's service time (base and per-unit terms) multiplied by `factor`. */
export function scaled(model: CostModel, op: OperationName, factor: number): CostModel {
  const c = model.operations[op];
  if (c === undefined) return model;
  const perUs = Object.fromEntries(Object.entries(c.perUs).map(([k, v]) => [k, v * factor]));
  return { ...model, operations: { ...model.operations, [op]: { ...c, baseUs: c.baseUs * factor, perUs } } };
}

export const BASE_CONFIGURATION: PlanConfiguration = {
  settleWorkers: 4,
  postSettleWorkers: 4,
  notifyWorkers: 4,
  maxInFlight: 16,
  spannerShards: 1,
  settlementsPerCommit: 25,
  fanout: 'per-user',
  gatewayInstances: 1,
  subscriberClients: 1,
};
