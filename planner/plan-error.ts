// The planner's expected failures: stable string codes, as the core's DomainError has, kept here so
// the core's closed list of codes does not grow with every planner refusal.

export type PlanErrorCode =
  /** A USL fit was asked for with fewer concurrency levels than it can be trusted on. */
  | 'PLAN.TOO_FEW_LEVELS'
  /** A concurrency level or throughput is not a positive finite number. */
  | 'PLAN.LEVELS_INVALID'
  /** A cost model (file or JSON) does not have the shape planner/contracts.ts CostModel describes. */
  | 'PLAN.CALIBRATION_INVALID'
  /** A cost model file could not be read or is not JSON. */
  | 'PLAN.CALIBRATION_UNREADABLE'
  /** Run records given to calibrate from hold no profile (not written with `raceday run --profile`). */
  | 'PLAN.NO_PROFILE'
  /** Calibration runs could not be made or measured nothing. */
  | 'PLAN.CALIBRATION_FAILED';

export interface PlanError {
  readonly code: PlanErrorCode;
  /** One sentence naming the bad part, e.g. `operations.settle.commit.baseUs: must be >= 0`. */
  readonly message: string;
  readonly path?: string;
}

export type PlanResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: PlanError };

export function planErr(code: PlanErrorCode, message: string, path?: string): { readonly ok: false; readonly error: PlanError } {
  return { ok: false, error: path === undefined ? { code, message } : { code, message, path } };
}

/** The error as one line: `CODE: message`. */
export function formatPlanError(e: PlanError): string {
  return `${e.code}: ${e.message}`;
}
