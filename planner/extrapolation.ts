// How far a prediction reaches beyond what its cost model measured: workload.users over the
// largest calibrated race. Beyond EXTRAPOLATION_WARN times it, the fitted costs are untested (a
// cost that grows with the race's size, such as index depth or hot splits, shows only there), so
// the prediction says so; a model that records no calibrated race at all is flagged as such.
import type { CostModel, Workload } from './contracts.ts';

export const EXTRAPOLATION_WARN = 2;

export function extrapolationOf(model: CostModel, workload: Workload): { readonly extrapolation: number; readonly warnings: readonly string[] } {
  const max = model.calibratedMax.users;
  if (!(max > 0)) {
    return { extrapolation: workload.users, warnings: [`PLAN.UNCALIBRATED: the cost model records no calibrated race (calibratedMax.users is ${max}); its figures are not measured at any size`] };
  }
  const x = Math.round((workload.users / max) * 1000) / 1000;
  const warnings = x > EXTRAPOLATION_WARN ? [`PLAN.EXTRAPOLATED: ${workload.users} users is ${x.toFixed(1)}x the largest calibrated race (${max} users); beyond ${EXTRAPOLATION_WARN}x the fitted costs are untested`] : [];
  return { extrapolation: x, warnings };
}
