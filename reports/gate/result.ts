// What `raceday gate` decides, one entry per rule: the shape the gate prints as JSON and that the
// report writers (summary.md, junit.xml) render, so every output agrees on the verdicts and numbers.

/**
 * - `pass`: the rule holds (or a statistical comparison found no practical regression);
 * - `breach`: a deterministic figure broke its exact or tolerance rule (exit 99, as k6 does);
 * - `regression`: a wall-clock figure is significantly slower and the interval's lower bound is
 *   past the practical threshold;
 * - `inconclusive`: too few samples, or a significant change that is not shown to be practical
 *   once the sample cap was reached (a warning unless the rules make it fail);
 * - `error`: the rule could not be judged (the record lacks its figure or variant, no baseline).
 */
export type GateVerdict = 'pass' | 'breach' | 'regression' | 'inconclusive' | 'error';

export interface GateResult {
  /** The rule's name, unique in its rules file (a junit test case name). */
  readonly name: string;
  readonly verdict: GateVerdict;
  /** The figures behind the verdict (the observed value, the limit, p-values, the shift and its interval...). */
  readonly numbers: Readonly<Record<string, number | null>>;
  /** One line a person can act on: what was compared, against what, and why this verdict. */
  readonly message: string;
}

/** Exit codes of `raceday gate`, documented in docs/gate.md and `raceday help gate`. */
export const GATE_EXIT = {
  pass: 0,
  /** A usage error, or a rule the record cannot answer (a figure or variant it does not hold). */
  usage: 2,
  /** A statistical regression on a wall-clock figure. */
  regression: 98,
  /** A threshold breach on a deterministic figure, as k6 exits on a threshold. */
  breach: 99,
  /** Inconclusive after the sample cap, when the rules file asks for it to fail (`inconclusive: "fail"`). */
  inconclusive: 97,
} as const;

/** The exit code of a whole gate: an unanswerable rule outranks everything, then a breach outranks a regression, which outranks an inconclusive failure. */
export function gateExitCode(results: readonly GateResult[], inconclusiveFails: boolean): number {
  if (results.some((r) => r.verdict === 'error')) return GATE_EXIT.usage;
  if (results.some((r) => r.verdict === 'breach')) return GATE_EXIT.breach;
  if (results.some((r) => r.verdict === 'regression')) return GATE_EXIT.regression;
  if (inconclusiveFails && results.some((r) => r.verdict === 'inconclusive')) return GATE_EXIT.inconclusive;
  return GATE_EXIT.pass;
}

/** The run record's gate status of a verdict (a regression is the record's `fail`). */
export const RECORD_STATUS = { pass: 'pass', breach: 'breach', regression: 'fail', inconclusive: 'inconclusive', error: 'error' } as const satisfies Record<GateVerdict, string>;
