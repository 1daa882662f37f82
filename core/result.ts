// Expected failures are values in the core: a `Result` carries either the value or a `DomainError`
// with a stable string code, because `instanceof` does not survive a process boundary.

export type ErrorCode =
  | 'BET.TYPE_UNKNOWN'
  | 'BET.TYPE_NOT_SOLD'
  | 'BET.COMBINATION_INVALID'
  | 'BET.STAKE_INVALID'
  | 'BET.INSUFFICIENT_BALANCE'
  | 'BET.RACE_CLOSED'
  | 'RACE.SPORT_UNKNOWN'
  | 'RACE.RIDERS_INVALID'
  | 'RACE.UNKNOWN'
  | 'RACE.SCRATCH_INVALID'
  | 'RESULT.STATUS_INVALID'
  | 'RESULT.ORDER_INVALID'
  /** The race already has a different recorded result: payouts are decided once (docs/result-finality.md). */
  | 'RESULT.ALREADY_FINAL'
  | 'RATE.INVALID'
  | 'POOL.INVALID'
  | 'INPUT.INVALID'
  | 'MESSAGE.INVALID'
  | 'MESSAGE.SCHEMA_VERSION'
  | 'SCENARIO.INVALID';

export interface DomainError {
  readonly code: ErrorCode;
  /** A sentence naming the bad part, e.g. `rider 10 is out of range 1..9 in "3-10"`. */
  readonly message: string;
  /** Where in the input the bad part is, e.g. `pools.trifecta.3-1-5`. */
  readonly path?: string;
}

export type Result<T, E = DomainError> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

export function err(code: ErrorCode, message: string, path?: string): { readonly ok: false; readonly error: DomainError } {
  return { ok: false, error: path === undefined ? { code, message } : { code, message, path } };
}

/** Prefixes the path of an error, so nested validators can report `pools.trifecta` + `3-1-5`. */
export function withPath<T>(r: Result<T>, prefix: string): Result<T> {
  if (r.ok) return r;
  const path = r.error.path === undefined || r.error.path === '' ? prefix : `${prefix}.${r.error.path}`;
  return { ok: false, error: { ...r.error, path } };
}

/** A broken invariant is a bug, not an expected failure: it throws and the caller crashes. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${message}`);
}
