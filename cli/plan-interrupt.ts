// The planner's measuring commands (`raceday plan --validate`, `raceday plan calibrate`) run many
// real runs on one emulator pair: which emulators each run gets (planEmulators), and stopping when
// told to (SIGTERM and Ctrl-C).
import { canStartOwnSpanner, ensureEmulators, type EmulatorHandle } from '../emulators/index.ts';
import type { RunEmulators } from '../planner/real-run.ts';
import { exitOnInterrupt } from '../sim/open-backend.ts';

/**
 * SIGTERM and Ctrl-C during a validation or a calibration (`what` names the command and what is
 * lost). @google-cloud/spanner installs SIGINT/SIGTERM listeners that do not exit, so without a
 * handler of its own the command ran on to its end, emulator pair and all. This one says what was
 * not made, stops the pair the command started (a reused pair is someone else's and keeps
 * running), and exits 143 (130 after Ctrl-C): the runs in progress end with the process. Returns
 * the uninstaller.
 */
export function stopOnInterrupt(pair: EmulatorHandle | undefined, log: (line: string) => void, what = { command: 'plan --validate', lost: 'its table was complete: no table, no record' }): () => void {
  return exitOnInterrupt(async () => {
    const emulators = pair === undefined ? '' : pair.reused ? '; the emulator pair it reused keeps running' : '; stopping the emulator pair it started';
    log(`${what.command}: interrupted before ${what.lost}${emulators}`);
    await pair?.stop();
  }, log);
}

/**
 * The emulators of a planner's measuring command: one pair for every run (reused when one runs
 * already, else started here), and unless `sharedSpanner`, a Spanner emulator of each run's own
 * beside it, when this machine can start one. Says which on `log`.
 */
export async function planEmulators(sharedSpanner: boolean, log: (line: string) => void): Promise<RunEmulators> {
  const pair = await ensureEmulators({ pubsub: true, spanner: true, log });
  const spannerPerRun = !sharedSpanner && canStartOwnSpanner();
  if (spannerPerRun) log('emulators: each run gets a Spanner emulator of its own, so none meets one slowed by the runs before it (--shared-spanner: all share one)');
  else if (!sharedSpanner) log(`emulators: no local Spanner emulator to start one per run, so every run shares the pair's (${pair.spannerHost ?? 'none'}) and the model fits its slowing with the runs it served`);
  return { pair, spannerPerRun };
}
