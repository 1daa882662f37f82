// The verdict every output leads with, and the gate results every output lists: the gate's own
// results when `raceday gate` ran (reports/gate/result.ts), else those stored in the records.
import { RECORD_STATUS, type GateResult, type GateVerdict } from '../gate/result.ts';
import type { GateRecord, RunRecord } from './schema.ts';

export type Verdict = 'PASS' | 'FAIL' | 'INCONCLUSIVE';

const VERDICT_OF_STATUS: Readonly<Record<GateRecord['status'], GateVerdict>> = Object.fromEntries(
  Object.entries(RECORD_STATUS).map(([verdict, status]) => [status, verdict as GateVerdict]),
) as Record<GateRecord['status'], GateVerdict>;

/** A gate stored in a run record, as the gate reports it. */
export function gateResultOf(g: GateRecord): GateResult {
  return { name: g.name, verdict: VERDICT_OF_STATUS[g.status], numbers: { ...(g.values ?? {}) }, message: g.message };
}

/** The gate results to show: those given (a gate that just ran), else every record's stored ones. */
export function gatesOf(records: readonly RunRecord[], given?: readonly GateResult[]): readonly GateResult[] {
  return given ?? records.flatMap((r) => r.gates.map(gateResultOf));
}

/** A gate result as the record stores it. */
export function gateRecordOf(g: GateResult): GateRecord {
  const values = Object.fromEntries(Object.entries(g.numbers).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
  return { name: g.name, status: RECORD_STATUS[g.verdict], message: g.message, values };
}

export const isFailure = (v: GateVerdict): boolean => v === 'breach' || v === 'regression' || v === 'error';

export interface VerdictSummary {
  readonly verdict: Verdict;
  /** Why, in a few words: "2 gates failed, 1 invariant failed". */
  readonly reasons: readonly string[];
}

/** FAIL when a run failed its own checks or a gate failed; INCONCLUSIVE when a gate could not decide; else PASS. */
export function verdictOf(records: readonly RunRecord[], gates: readonly GateResult[]): VerdictSummary {
  const reasons: string[] = [];
  const failedInvariants = records.flatMap((r) => r.invariants.filter((i) => !i.ok));
  const failedRuns = records.filter((r) => !r.ok);
  const failedGates = gates.filter((g) => isFailure(g.verdict));
  const inconclusive = gates.filter((g) => g.verdict === 'inconclusive');
  const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  if (failedGates.length > 0) reasons.push(`${plural(failedGates.length, 'gate')} failed`);
  if (failedInvariants.length > 0) reasons.push(`${plural(failedInvariants.length, 'invariant')} failed`);
  if (failedRuns.length > 0 && failedInvariants.length === 0) reasons.push(`${plural(failedRuns.length, 'run')} did not complete cleanly`);
  if (inconclusive.length > 0) reasons.push(`${plural(inconclusive.length, 'gate')} inconclusive`);
  const verdict: Verdict = failedGates.length > 0 || failedRuns.length > 0 || failedInvariants.length > 0 ? 'FAIL' : inconclusive.length > 0 ? 'INCONCLUSIVE' : 'PASS';
  if (reasons.length === 0) reasons.push(gates.length === 0 ? `every run completed and every invariant held` : `all ${plural(gates.length, 'gate')} passed, every invariant held`);
  return { verdict, reasons };
}
