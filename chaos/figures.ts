// The figures of chaos runs: time to recover from a fault (read off a progress timeline), one
// run's recovery percentiles, several runs added up, and the text a person reads.
import type { ReliabilityTotals } from '../reports/record/reliability.ts';
import type { FaultEvent, Redriven, ReliabilityFigures } from './contracts.ts';

/** A stage's cumulative progress (users settled, notifications appended...) sampled over the run. */
export interface ProgressPoint {
  readonly tMs: number;
  readonly done: number;
}

/** A stretch of time in which the run gave the pipeline no work (a soak's day check and load). */
export interface IdleSpan {
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * Fault end -> the first sample after it at which progress moved past where it stood at the
 * end, less any time in that stretch when the run gave the pipeline no work (`idle`): a fault
 * that ends as a soak day is checked is not "recovering" while no race is posted. null when the
 * stage had nothing left to do at the fault's end (its total was reached), or never moved again
 * in the samples (the run's checkers then say why).
 */
export function recoveryAfter(endMs: number, progress: readonly ProgressPoint[], total: number, idle: readonly IdleSpan[] = []): number | null {
  let atEnd = 0;
  for (const p of progress) {
    if (p.tMs > endMs) break;
    atEnd = p.done;
  }
  if (atEnd >= total) return null;
  const next = progress.find((p) => p.tMs > endMs && p.done > atEnd);
  if (next === undefined) return null;
  const idleInside = idle.reduce((sum, i) => sum + Math.max(0, Math.min(i.toMs, next.tMs) - Math.max(i.fromMs, endMs)), 0);
  return Math.max(0, Math.round(next.tMs - endMs - idleInside));
}

/** Nearest-rank percentile of a list (0 when empty). */
export function percentile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}

export function recoverySummary(faults: readonly FaultEvent[]): { p50: number; max: number } {
  const measured = faults.map((f) => f.recoveredAfterMs).filter((x): x is number => x !== null);
  return { p50: percentile(measured, 0.5), max: measured.length === 0 ? 0 : Math.max(...measured) };
}

const addCounts = (into: Record<string, number>, from: Readonly<Record<string, number>>): void => {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
};

const sorted = (r: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)));

/** K runs added up; recovery percentiles over every fault of every run. */
/**
 * The reconciler's re-drives from the fleet's summed counters (pipeline/reconcile.ts), minus what
 * `before` had counted (a soak's earlier days); undefined when no reconciler ran.
 */
export function redrivenOf(counters: Readonly<Record<string, number>>, reconciling: boolean, before?: Redriven): Redriven | undefined {
  if (!reconciling) return undefined;
  return {
    fanouts: (counters['redriveFanouts'] ?? 0) - (before?.fanouts ?? 0),
    races: (counters['redriveRaces'] ?? 0) - (before?.races ?? 0),
    users: (counters['redriveUsers'] ?? 0) - (before?.users ?? 0),
  };
}

const redrivenText = (r: Redriven | undefined): string => (r === undefined ? '' : `; re-driven ${r.races} race(s), ${r.users} user(s), ${r.fanouts} fan-out(s)`);

export function totalFigures(runs: readonly ReliabilityFigures[]): ReliabilityTotals {
  const faultsByKind: Record<string, number> = {};
  const deadLettered: Record<string, number> = {};
  let tickets = 0;
  let settled = 0;
  let lost = 0;
  let doubled = 0;
  let nLost = 0;
  let nDup = 0;
  const redriven = { fanouts: 0, races: 0, users: 0 };
  for (const r of runs) {
    redriven.fanouts += r.redriven?.fanouts ?? 0;
    redriven.races += r.redriven?.races ?? 0;
    redriven.users += r.redriven?.users ?? 0;
    addCounts(faultsByKind, r.faultsByKind);
    addCounts(deadLettered, r.deadLettered);
    tickets += r.tickets;
    settled += r.settledExactlyOnce;
    lost += r.lost;
    doubled += r.doubled;
    nLost += r.notificationsLostAfterRecovery;
    nDup += r.notificationsDuplicatedAfterRecovery;
  }
  const faults = runs.flatMap((r) => r.faults);
  const measured = faults.filter((f) => f.recoveredAfterMs !== null).length;
  const failedRuns = runs.filter((r) => !r.ok).length;
  return {
    runs: runs.length,
    faultsByKind: sorted(faultsByKind),
    faults: faults.length,
    tickets,
    settledExactlyOnce: settled,
    lost,
    doubled,
    deadLettered: sorted(deadLettered),
    notificationsLostAfterRecovery: nLost,
    notificationsDuplicatedAfterRecovery: nDup,
    ...(runs.some((r) => r.redriven !== undefined) ? { redriven } : {}),
    recoveryMeasured: measured,
    recoveryNotNeeded: faults.length - measured,
    recoveryMs: recoverySummary(faults),
    failedRuns,
    ok: failedRuns === 0 && lost === 0 && doubled === 0 && nLost === 0,
  };
}

const kinds = (r: Readonly<Record<string, number>>): string => (Object.keys(r).length === 0 ? 'none' : Object.entries(r).map(([k, v]) => `${k} ${v}`).join(', '));

/** One line per run and the totals, for the terminal. */
export function figuresText(runs: readonly ReliabilityFigures[], totals: ReliabilityTotals): string {
  const lines = runs.map(
    (r) =>
      `seed ${r.seed}: ${r.faults.length} faults (${kinds(r.faultsByKind)}); ${r.tickets} tickets, ${r.settledExactlyOnce} settled exactly once, ${r.lost} lost, ${r.doubled} doubled; dead letters ${kinds(r.deadLettered)}; notifications lost ${r.notificationsLostAfterRecovery}, duplicated ${r.notificationsDuplicatedAfterRecovery}${redrivenText(r.redriven)}; recovery p50 ${r.recoveryMs.p50} ms, max ${r.recoveryMs.max} ms${r.ok ? '' : ` — FAILED: ${r.violations.slice(0, 3).join('; ')}`}`,
  );
  lines.push(
    `${totals.runs} run${totals.runs === 1 ? '' : 's'}: ${totals.faults} faults (${kinds(totals.faultsByKind)}); ${totals.tickets} tickets, ${totals.settledExactlyOnce} settled exactly once, ${totals.lost} lost, ${totals.doubled} doubled; dead letters ${kinds(totals.deadLettered)}; notifications lost after recovery ${totals.notificationsLostAfterRecovery}, duplicated ${totals.notificationsDuplicatedAfterRecovery}${redrivenText(totals.redriven)}; recovery p50 ${totals.recoveryMs.p50} ms, max ${totals.recoveryMs.max} ms over ${totals.recoveryMeasured} faults (${totals.recoveryNotNeeded} struck when the stage had nothing left to do); ${totals.ok ? 'OK' : `${totals.failedRuns} run(s) FAILED`}`,
  );
  return lines.join('\n');
}
