// A chaos run's run record: the `reliability` section (validated against the record's schema of
// it, which must agree with the seam's ReliabilityFigures), the figures gates and tables compare,
// one invariant per promise (nothing lost, nothing doubled, no notification lost after recovery),
// and every output written from it.
import { writeOutputs, type WrittenOutputs } from '../reports/record/outputs.ts';
import { parseReliability, type ReliabilityRun, type ReliabilitySection, type ReliabilityTotals, type SoakSection } from '../reports/record/reliability.ts';
import type { RunRecorder } from '../reports/record/recorder.ts';
import type { RunRecord } from '../reports/record/schema.ts';
import type { ReliabilityFigures } from './contracts.ts';

// The seam's figures must fit the record's schema of them: a field added to one alone fails to
// compile here (the record keeps a fault's kind as text, so later kinds still parse).
const _seamFitsRecord = (f: ReliabilityFigures): ReliabilityRun => ({ ...f, faults: [...f.faults], violations: [...f.violations] });
const _recordHasEverySeamField = (r: Required<ReliabilityRun>): Record<keyof ReliabilityFigures, unknown> => r;
void _seamFitsRecord;
void _recordHasEverySeamField;

export function reliabilitySection(runs: readonly ReliabilityFigures[], totals: ReliabilityTotals, soak?: SoakSection): ReliabilitySection {
  const section = { runs: runs.map((r) => ({ ...r, faults: [...r.faults], violations: [...r.violations] })), totals, ...(soak === undefined ? {} : { soak }) };
  const parsed = parseReliability(section);
  if (!parsed.ok) throw new Error(`invariant violated: the chaos run built a reliability section its own schema refuses: ${parsed.message}`);
  return parsed.value;
}

/** Figures, counters and invariants of the runs into the recorder (the section itself is added at the end). */
export function recordReliability(rec: RunRecorder, runs: readonly ReliabilityFigures[], totals: ReliabilityTotals): void {
  rec.figures({
    'reliability.runs': totals.runs,
    'reliability.faults': totals.faults,
    'reliability.tickets': totals.tickets,
    'reliability.settledExactlyOnce': totals.settledExactlyOnce,
    'reliability.lost': totals.lost,
    'reliability.doubled': totals.doubled,
    'reliability.notificationsLostAfterRecovery': totals.notificationsLostAfterRecovery,
    'reliability.notificationsDuplicatedAfterRecovery': totals.notificationsDuplicatedAfterRecovery,
    'reliability.recoveryP50Ms': totals.recoveryMs.p50,
    'reliability.recoveryMaxMs': totals.recoveryMs.max,
    ...(totals.redriven === undefined ? {} : { 'reliability.redrivenRaces': totals.redriven.races, 'reliability.redrivenUsers': totals.redriven.users, 'reliability.redrivenFanouts': totals.redriven.fanouts }),
  });
  rec.counters(Object.fromEntries(Object.entries(totals.faultsByKind).map(([k, v]) => [`reliability.faults.${k}`, v])));
  const bySeed = (pick: (r: ReliabilityFigures) => number, what: string): string[] => runs.filter((r) => pick(r) > 0).map((r) => `seed ${r.seed}: ${pick(r)} ${what}`);
  rec.invariant({ name: 'chaos: no ticket lost', ok: totals.lost === 0, violations: bySeed((r) => r.lost, 'tickets lost') });
  rec.invariant({ name: 'chaos: no ticket settled twice', ok: totals.doubled === 0, violations: bySeed((r) => r.doubled, 'tickets doubled') });
  rec.invariant({ name: 'chaos: no notification lost after recovery', ok: totals.notificationsLostAfterRecovery === 0, violations: bySeed((r) => r.notificationsLostAfterRecovery, 'notifications lost') });
  rec.invariant({ name: 'chaos: every checker held', ok: runs.every((r) => r.violations.length === 0), violations: runs.flatMap((r) => r.violations.slice(0, 20).map((v) => `seed ${r.seed}: ${v}`)) });
}

/** Stops the recorder, adds the section, writes metrics.json and every output into `dir`. */
export async function finishChaosRecord(rec: RunRecorder, ok: boolean, section: ReliabilitySection, dir: string): Promise<{ record: RunRecord; written: WrittenOutputs }> {
  const record: RunRecord = { ...rec.stop(ok), reliability: section as unknown as RunRecord['reliability'] };
  const written = await writeOutputs(dir, { records: [record] }, undefined, record);
  return { record, written };
}
