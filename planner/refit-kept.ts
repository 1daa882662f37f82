// Study tool: re-normalises the calibration a validation kept (`raceday plan --validate --out DIR`
// writes DIR/calibration.json) with the planner code as it is now, and re-predicts that
// validation's held-out configurations against their measured makespans (the --json table).
// Used to check a change of the normalisation on validations already made; it fits nothing from
// the held-out runs (their measurements are only compared with).
//
//   npx tsx planner/refit-kept.ts DIR/calibration.json TABLE.json [--ages | --no-ages]
//
// calibrationScatterPct: every calibration run against the model at its own age (the judge a
// calibration has, the same for both variants).
// --ages (default): every calibration run with its place on the emulator pair (the warm-up was
// run 0), as `raceday plan --validate` now normalises; --no-ages: each configuration's median run
// and no pair age, as it did before.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CostModel } from './contracts.ts';
import { atPairAge, medianPerConfiguration, normaliseToRuns, scaleRuns, type NormaliseRun } from './normalise.ts';
import type { RunProfile } from './profile.ts';
import { caseDay, configurationOf, workloadOf, type ValidationCase } from './real-run.ts';
import { predictVirtual } from './virtual.ts';

interface KeptTable {
  readonly rows: readonly { readonly case: ValidationCase; readonly measured: { readonly makespanMs: number }; readonly repeats?: { readonly makespansMs: readonly number[] } }[];
}

export async function refitKept(kept: { profiles: readonly RunProfile[]; fitted: CostModel }, table: KeptTable, ages: boolean): Promise<Record<string, unknown>> {
  const runs: NormaliseRun[] = kept.profiles.map((p, i) => (ages ? { ...p, pairRuns: i + 1 } : p));
  const n = await normaliseToRuns(kept.fitted, ages ? scaleRuns(runs) : medianPerConfiguration(runs));
  // The same judge for both variants: every calibration run against the model at its own age.
  let sq = 0;
  for (const [i, r] of kept.profiles.entries()) {
    const c = { users: r.run.users, workers: r.knobs.workers, shards: r.knobs.shards, maxInFlight: r.knobs.maxInFlight };
    const p = await predictVirtual(atPairAge(n.model, i + 1), { ...configurationOf('emulators', c), settlementsPerCommit: r.knobs.settlementsPerCommit }, { users: r.run.users, tickets: r.run.tickets });
    sq += (r.run.makespanMs / p.makespanMs.p50 - 1) ** 2;
  }
  const calibrationScatterPct = +(Math.sqrt(sq / Math.max(1, kept.profiles.length)) * 100).toFixed(1);
  const repeat = table.rows[0]?.repeats?.makespansMs.length ?? 1;
  const rows = [];
  let within = 0;
  let thr = 0;
  for (const [i, row] of table.rows.entries()) {
    const pairRuns = 1 + kept.profiles.length + i * repeat + (repeat - 1) / 2;
    const p = await predictVirtual(atPairAge(n.model, pairRuns), configurationOf('emulators', row.case), workloadOf(caseDay(row.case.users)));
    const err = p.makespanMs.p50 / row.measured.makespanMs - 1;
    if (Math.abs(err) <= 0.2) within++;
    thr += Math.abs(row.measured.makespanMs / p.makespanMs.p50 - 1);
    rows.push({ case: `${row.case.users}u/${row.case.workers}w/${row.case.shards}s`, pairRuns, measuredMs: Math.round(row.measured.makespanMs), predictedMs: Math.round(p.makespanMs.p50), errorPct: Math.round(err * 1000) / 10 });
  }
  return { ages, factor: +n.factor.toFixed(3), startupMs: +n.startupMs.toFixed(1), startupPerPairRunMs: +n.startupPerPairRunMs.toFixed(2), processCapacity: n.processCapacity, runSpreadPct: +(n.runSpread * 100).toFixed(1), calibrationScatterPct, rows, makespansWithin20: within, throughputMapePct: +((thr / Math.max(1, rows.length)) * 100).toFixed(1) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [calibrationPath, tablePath] = process.argv.slice(2);
  if (calibrationPath === undefined || tablePath === undefined) throw new Error('usage: npx tsx planner/refit-kept.ts DIR/calibration.json TABLE.json [--ages | --no-ages]');
  // An unbounded USL peak is written as null.
  const kept = JSON.parse(readFileSync(calibrationPath, 'utf8'), (_k, v: unknown) => (v === null ? Number.POSITIVE_INFINITY : v)) as { calibration: { profiles: RunProfile[]; fitted: CostModel } };
  const table = JSON.parse(readFileSync(tablePath, 'utf8')) as KeptTable;
  process.stdout.write(`${JSON.stringify(await refitKept(kept.calibration, table, !process.argv.includes('--no-ages')))}\n`);
}
