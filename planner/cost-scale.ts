// Scaling a cost model's service times: by one factor (normalisation), and by settle concurrency
// (a model whose normalisation fitted a concurrency scale). Every time the predictors draw is a
// service time, so scaling them all scales a prediction's makespan by the same factor.
import type { ConcurrencyScale, CostModel, LinearCost, OperationName, PlanConfiguration } from './contracts.ts';

/** Every operation's cost times `factor` (base, per-unit terms; cv and samples unchanged). */
export function scaleCosts(model: CostModel, factor: number): CostModel {
  if (!(factor > 0) || !Number.isFinite(factor)) throw new Error(`invariant violated: a cost scale must be a finite number > 0, got ${factor}`);
  const operations: Partial<Record<OperationName, LinearCost>> = {};
  for (const [name, op] of Object.entries(model.operations) as [OperationName, LinearCost][]) {
    operations[name] = { ...op, baseUs: op.baseUs * factor, perUs: Object.fromEntries(Object.entries(op.perUs).map(([k, v]) => [k, v * factor])) };
  }
  return { ...model, operations };
}

/** Settle concurrency N of a configuration: settle workers x messages in flight per worker. */
export function settleConcurrency(configuration: Pick<PlanConfiguration, 'settleWorkers' | 'maxInFlight'>): number {
  return Math.max(1, configuration.settleWorkers) * Math.max(1, configuration.maxInFlight);
}

/** The cost multiplier of a concurrency scale at N, N held inside the calibrated range. */
export function concurrencyFactor(scale: ConcurrencyScale, n: number): number {
  const held = Math.min(scale.maxN, Math.max(scale.minN, n));
  return (held / scale.referenceN) ** scale.exponent;
}

/**
 * The model as it prices a run of this configuration: its costs times its concurrency scale's
 * factor at the configuration's settle concurrency. A model without one is returned as it is.
 * Both predictors call it first, so every prediction of a configuration prices it alike.
 */
export function atConcurrency(model: CostModel, configuration: Pick<PlanConfiguration, 'settleWorkers' | 'maxInFlight'>): CostModel {
  const scale = model.concurrencyScale;
  if (scale === undefined || scale.exponent === 0) return model;
  const { concurrencyScale: _applied, ...rest } = model;
  return scaleCosts(rest, concurrencyFactor(scale, settleConcurrency(configuration)));
}

/** `, x (N / 239)^-0.06 at settle concurrency N (held to 16..1024)`, or '' without a scale: for progress lines and sources. */
export function describeConcurrencyScale(scale: ConcurrencyScale | undefined): string {
  return scale === undefined ? '' : `, x (N / ${scale.referenceN})^${scale.exponent.toFixed(2)} at settle concurrency N (held to ${scale.minN}..${scale.maxN})`;
}
