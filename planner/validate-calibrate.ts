// The validation's calibration: each calibration case run for real with the planner's profilers
// on its store and bus (profile-run.ts profileBackend, as `raceday plan calibrate` runs them),
// and the cost model fitted from those profiles by calibration.ts fitCostModel, as the user's own
// profiled runs are. Nothing from the held-out runs reaches it.
import { createProfileRecorder, runProfileOf, type RunProfile } from './profile.ts';
import { profileBackend } from './profile-run.ts';
import { fitCostModel } from './calibration.ts';
import { describeNormalised, normaliseToRuns, scaleRuns, type NormaliseRun } from './normalise.ts';
import { formatPlanError } from './plan-error.ts';
import type { CostModel } from './contracts.ts';
import { caseName } from './validate-table.ts';
import { caseDay, configurationOf, runCase, spannerAgeOf, type MeasuredRun, type RunEmulators, type ValidationBackend, type ValidationCase } from './real-run.ts';
import type { Calibrator } from './validate.ts';

/** One case run for real with the profilers on: its RunProfile (knobs, figures, operation samples) and its measurement. */
export async function profiledRun(backend: ValidationBackend, c: ValidationCase, log: (line: string) => void, emulators?: RunEmulators): Promise<{ profile: RunProfile; measured: MeasuredRun }> {
  const recorder = createProfileRecorder();
  const day = caseDay(c.users);
  recorder.setWorkload({ users: day.users.length, tickets: day.ticketCount });
  const measured = await runCase(backend, c, log, (opened) => profileBackend(opened, recorder), emulators);
  const knobs = { workers: c.workers, maxInFlight: c.maxInFlight, shards: c.shards, settlementsPerCommit: configurationOf(backend, c).settlementsPerCommit };
  return { profile: runProfileOf(recorder, { target: backend, knobs, users: measured.users, tickets: measured.tickets, settledUsers: measured.settledUsers, makespanMs: measured.makespanMs }), measured };
}

/**
 * Fits the cost model from profiled runs of the calibration cases, each run `rounds` times (round
 * after round, so a burst of load from elsewhere lands on different cases in different rounds):
 * every run's samples go to the cost fit; the scale is normalised against every run with its
 * place on the emulator pair (the start-up grows with the pair's age), or on memory against each
 * case's median run (normalise.ts scaleRuns).
 */
export const validationCalibrator: Calibrator = async ({ backend, cases, log, keep, rounds, emulators, pairRunsBefore }) => {
  const profiles: (RunProfile & NormaliseRun)[] = [];
  const total = Math.max(1, rounds ?? 1);
  for (let round = 0; round < total; round++) {
    for (const [i, c] of cases.entries()) {
      // The Spanner emulator's age when the run starts: the runs it served before (emulators; memory
      // has no pair), 0 when each run has a Spanner of its own.
      const age = backend === 'emulators' && pairRunsBefore !== undefined ? { pairRuns: spannerAgeOf(emulators, pairRunsBefore + profiles.length) } : {};
      const { profile: p, measured } = await profiledRun(backend, c, log, emulators);
      if (!measured.ok) throw new Error(`calibration run ${caseName(c)} on ${backend} failed an invariant or timed out: its figures cannot calibrate anything`);
      profiles.push({ ...p, ...age });
      log(`validate: calibration ${i + 1}/${cases.length}${total > 1 ? ` (round ${round + 1}/${total})` : ''} ${caseName(c)}: makespan ${Math.round(p.run.makespanMs)} ms, ${Math.round(p.run.throughputUsersPerSecond)} users/s`);
    }
  }
  const sources = [`raceday plan --validate: ${cases.length} calibration configurations on ${backend}, profiled, ${total} round${total > 1 ? 's' : ''}`];
  const fitted = fitCostModel(profiles, { target: backend, sources });
  if (!fitted.ok) throw new Error(`the calibration runs did not fit a cost model: ${formatPlanError(fitted.error)}`);
  for (const w of fitted.value.warnings) log(`validate: calibration warning: ${w}`);
  keep?.({ profiles, fitted: fitted.value.model });
  // The costs' common scale from the calibration runs alone (normalise.ts): the held-out runs never reach it.
  const normalised = await normaliseToRuns(fitted.value.model, scaleRuns(profiles));
  log(`validate: ${describeNormalised(normalised)}, so the virtual model reproduces the calibration runs (measured / predicted: ${normalised.ratios.map((x) => x.toFixed(2)).join(', ')})`);
  return normalised.model satisfies CostModel;
};
