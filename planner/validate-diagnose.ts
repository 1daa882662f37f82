// When a prediction misses, which operation's cost is off? `--diagnose` profiles each held-out
// run with the same port profilers the calibration uses and sets, operation by operation, what
// the held-out run's samples cost against what the model prices those same samples at (its
// linear cost at each sample's sizes). A ratio far from 1 names the cost to refit; ratios near 1
// with a missed makespan point at the model's structure (queueing, concurrency) instead.
import type { CostModel, LinearCost, OperationName } from './contracts.ts';
import type { RunProfile } from './profile.ts';

export interface OperationCheck {
  readonly operation: OperationName;
  /** Operations seen in the held-out run (the samples kept are a reservoir of them). */
  readonly count: number;
  readonly samples: number;
  /** Mean measured service time of the kept samples, µs. */
  readonly measuredMeanUs: number;
  /** Mean of the model's cost at each kept sample's sizes, µs. */
  readonly modelMeanUs: number;
  /** model / measured: above 1 the model prices the operation too dear, below 1 too cheap. */
  readonly ratio: number;
}

/** The model's cost of one operation at given sizes, µs (a size the model has no term for costs nothing). */
export function modelCostUs(cost: LinearCost, sizes: Readonly<Record<string, number>>): number {
  let us = cost.baseUs;
  for (const [term, per] of Object.entries(cost.perUs)) us += per * (sizes[term] ?? 0);
  return us;
}

/** Each operation of a profiled held-out run against the model, worst ratio first. */
export function checkOperations(model: CostModel, profile: RunProfile): OperationCheck[] {
  const out: OperationCheck[] = [];
  for (const [op, measured] of Object.entries(profile.operations) as [OperationName, NonNullable<RunProfile['operations'][OperationName]>][]) {
    const cost = model.operations[op];
    if (cost === undefined || measured.samples.length === 0) continue;
    const n = measured.samples.length;
    const measuredMeanUs = measured.samples.reduce((s, x) => s + x.durationUs, 0) / n;
    const modelMeanUs = measured.samples.reduce((s, x) => s + modelCostUs(cost, x.sizes), 0) / n;
    out.push({ operation: op, count: measured.count, samples: n, measuredMeanUs, modelMeanUs, ratio: measuredMeanUs > 0 ? modelMeanUs / measuredMeanUs : Number.POSITIVE_INFINITY });
  }
  return out.sort((a, b) => Math.abs(Math.log(b.ratio)) - Math.abs(Math.log(a.ratio)));
}

/**
 * The settle transactions' summed service time over (makespan x units): a unit runs one at a time,
 * so a share above 1 means the samples overlap and are waits, not service times, and a model
 * fitted from them prices every transaction too dear.
 */
export function settleBusyShare(profile: RunProfile, units: number): number {
  const settle = profile.operations['settle.commit'];
  const spanUs = profile.run.makespanMs * 1_000 * Math.max(1, units);
  return settle === undefined || !(spanUs > 0) ? 0 : settle.sumDurationUs / spanUs;
}

/** One line per operation: `settle.commit x3.10 (model 912 µs, held-out 294 µs, 310 samples)`. */
export function renderChecks(checks: readonly OperationCheck[]): string {
  return checks.map((c) => `${c.operation} x${c.ratio.toFixed(2)} (model ${Math.round(c.modelMeanUs)} us, held-out ${Math.round(c.measuredMeanUs)} us, ${c.samples} samples)`).join('; ');
}
