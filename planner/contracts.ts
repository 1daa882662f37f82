// The seams of the capacity planner. A cost model is fitted from measured runs (calibrate.ts), the
// virtual-time model runs the real pipeline on the memory backend with the model's service times
// and concurrency limits to predict a configuration (predict.ts), the recommender searches the
// knobs for the cheapest configuration that meets an SLO (recommend.ts), and the validator
// predicts runs it never saw and compares (validate.ts). Every figure here is plain JSON, so a
// cost model, a prediction and a plan travel in files and in the run record.

/** Where a model's figures come from and what they predict. */
export type PlanTarget = 'memory' | 'emulators' | 'google';

/**
 * A service time that grows linearly with the size of the work: base + sum(per[k] * size[k]),
 * in microseconds, with the spread of the residuals for prediction intervals.
 */
export interface LinearCost {
  readonly baseUs: number;
  /** Microseconds per unit of each size term, e.g. { users: 800, tickets: 40 } or { messages: 12 }. */
  readonly perUs: Readonly<Record<string, number>>;
  /** Coefficient of variation of the measured samples around the fit (0 = deterministic). */
  readonly cv: number;
  /** Samples the fit used. */
  readonly samples: number;
}

/** The operations the cost model prices; each maps to a place in the pipeline's ports. */
export const OPERATIONS = [
  'settle.commit', // one settlement transaction (a user, or a group commit of several): sizes users, tickets
  'postSettle.commit', // bonus, mission and post-settled marker writes of one settled message
  'notify.append', // appending notifications to the per-user log: sizes notifications
  'fanout.page', // reading one page of users with open tickets: sizes users
  'publish.batch', // one publish call: sizes messages
  'deliver.message', // the bus's per-message delivery overhead, publish to handler start
  'ingest.result', // ingest of one race result: sizes tickets (cash pools read)
  'ranking.claim', // the ranking claim and its broadcast: sizes users
  'settled.check', // post-settle's and notify's read of the stored settlement totals a `settled` message names: sizes users (rows read)
  'gateway.message', // the gateway's cost of one notification frame to one socket
] as const;
export type OperationName = (typeof OPERATIONS)[number];

/**
 * Universal Scalability Law fit of throughput X against concurrency N:
 * X(N) = lambda * N / (1 + sigma * (N - 1) + kappa * N * (N - 1)).
 */
export interface UslFit {
  /** What N counts (e.g. "settle workers x in flight", "shards"). */
  readonly concurrency: string;
  /** What X counts (e.g. "users settled per second"). */
  readonly throughput: string;
  readonly lambda: number;
  readonly sigma: number;
  readonly kappa: number;
  /** N at which X peaks: sqrt((1 - sigma) / kappa), Infinity when kappa is 0. */
  readonly peakN: number;
  readonly r2: number;
  /** The measured levels (at least 6 for a fit the planner trusts). */
  readonly levels: readonly { readonly n: number; readonly throughput: number }[];
}

/**
 * The units that run work in parallel and what bounds each. On the emulators a Spanner database
 * runs one read-write transaction at a time; on Google Cloud a node (1,000 processing units)
 * carries a rated read and write rate.
 */
export interface Parallelism {
  /** Read-write transactions one unit runs at once (1 per emulator database). */
  readonly transactionsPerUnit: number;
  /**
   * Emulators: transactions the one emulator process runs at full speed at once, whatever the
   * shard count (fitted from calibration runs over several shard counts, normalise.ts). Absent:
   * the shard USL's X(shards) / X(1), else 1.
   */
  readonly processCapacity?: number;
  /** Google only: the rated write rate of one node and the CPU share the planner may use. */
  readonly writesPerSecondPerNode?: number;
  readonly readsPerSecondPerNode?: number;
  readonly maxCpuShare?: number;
}

/** A fitted cost model: what `raceday plan --calibrate` produces and the shipped defaults hold. */
export interface CostModel {
  readonly schemaVersion: 1;
  readonly target: PlanTarget;
  /** ISO date-time the measurements were taken. */
  readonly measuredAt: string;
  /** Where the figures came from: run ids, commands, machine. */
  readonly sources: readonly string[];
  readonly operations: Readonly<Partial<Record<OperationName, LinearCost>>>;
  readonly usl: readonly UslFit[];
  readonly parallelism: Parallelism;
  /** The largest calibrated run (users, tickets): predictions beyond 2x are flagged. */
  readonly calibratedMax: { readonly users: number; readonly tickets: number };
  /**
   * A fixed time from the result's publication before the fan-out's first page, ms: what every
   * calibration run took beyond its operations' costs (the intercept of measured makespan against
   * the model's prediction; see normalise.ts). Absent = 0.
   */
  readonly startupMs?: number;
  /**
   * Emulators: how much the start-up grows, ms, for each run the emulator pair served before this
   * one (the Spanner emulator's reads slow down with every transaction it has served, and a run's
   * start path is reads: measured, docs/capacity-model.md). With it, `startupMs` is the start-up of
   * a run on a pair that served no run before it; `atPairAge` (normalise.ts) gives the model of a
   * run on an older pair. Absent = 0.
   */
  readonly startupPerPairRunMs?: number;
  /**
   * How far the calibration runs' own makespans scattered around the normalised model: the
   * standard deviation of measured / predicted - 1 (the measurement's noise; widens every
   * prediction interval by twice it). Absent = 0.
   */
  readonly runSpread?: number;
  /**
   * Emulators: how the costs scale with settle concurrency N (settle workers x messages in flight
   * per worker), fitted by normalisation from calibration runs at several N (normalise.ts): every
   * cost x (N' / referenceN)^exponent, N' being N held inside [minN, maxN], the calibrated range.
   * Measured: the raw model over-predicts the emulators' runs more, the higher their concurrency
   * (docs/capacity-model.md, "Costs against concurrency"). Absent: no scaling.
   */
  readonly concurrencyScale?: ConcurrencyScale;
}

export interface ConcurrencyScale {
  readonly exponent: number;
  readonly referenceN: number;
  readonly minN: number;
  readonly maxN: number;
}

/** The knobs a plan sets: what `raceday run` takes, plus the production-only ones. */
export interface PlanConfiguration {
  readonly settleWorkers: number;
  readonly postSettleWorkers: number;
  readonly notifyWorkers: number;
  /** Flow control: messages in flight per worker. */
  readonly maxInFlight: number;
  /** Emulators: Spanner databases users are sharded over. Google: 1 (one database). */
  readonly spannerShards: number;
  /** Google: Spanner nodes (1,000 processing units each). */
  readonly spannerNodes?: number;
  readonly settlementsPerCommit: number;
  readonly fanout: string;
  readonly gatewayInstances: number;
  /** Subscriber clients (processes holding Pub/Sub streaming pulls) per stage. */
  readonly subscriberClients: number;
}

/** The work of one race to predict. */
export interface Workload {
  readonly users: number;
  readonly tickets: number;
  readonly races?: number;
}

export interface Interval {
  readonly p50: number;
  readonly low: number;
  readonly high: number;
}

export interface Prediction {
  readonly configuration: PlanConfiguration;
  readonly workload: Workload;
  /** Result published -> last user settled, ms, with a prediction interval. */
  readonly makespanMs: Interval;
  readonly notifyMakespanMs: Interval;
  readonly notifyLatencyMs: { readonly p50: number; readonly p99: number; readonly p99High: number };
  readonly throughputUsersPerSecond: number;
  /** The resource with the highest utilisation, named as in `utilisation`. */
  readonly bottleneck: string;
  /** Busy share per resource over the makespan, 0..1. */
  readonly utilisation: Readonly<Record<string, number>>;
  /** How the figure was made: the virtual-time pipeline, or the closed-form queueing model. */
  readonly method: 'virtual-time' | 'closed-form';
  /** workload.users / calibratedMax.users; above 2 the prediction is flagged. */
  readonly extrapolation: number;
  readonly warnings: readonly string[];
}

/** A predictor: the virtual-time model and the closed-form cross-check implement it. */
export type Predict = (model: CostModel, configuration: PlanConfiguration, workload: Workload) => Promise<Prediction>;
