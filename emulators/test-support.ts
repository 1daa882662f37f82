// Vitest helpers for tests that need the emulators: start (or reuse) them once per test file in
// beforeAll, stop what was started in afterAll. Where no emulator can be found the test file fails
// with the message of ensureEmulators (what was tried, how to fix each). The only way to skip is
// explicit: RACEDAY_SKIP_EMULATOR_TESTS=1, which skips these suites and says so on stderr.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import { ensureEmulators, type EmulatorHandle, type EnsureEmulatorsOptions } from './index.ts';

export function emulatorTestsSkipped(): boolean {
  return process.env.RACEDAY_SKIP_EMULATOR_TESTS === '1';
}

/**
 * `describe` for suites that need emulators: a plain describe, or, with RACEDAY_SKIP_EMULATOR_TESTS=1,
 * a skipped one announced on stderr (never a silent skip).
 */
export function describeWithEmulators(name: string, body: () => void): void {
  if (emulatorTestsSkipped()) {
    process.stderr.write(`RACEDAY_SKIP_EMULATOR_TESTS=1: skipping emulator suite "${name}"\n`);
    describe.skip(name, body);
    return;
  }
  describe(name, body);
}

export interface UseEmulatorsOptions extends EnsureEmulatorsOptions {
  /** Copy handle.env into process.env for the file's tests (restored afterwards); default true. */
  readonly applyEnv?: boolean;
}

/**
 * Registers beforeAll/afterAll and returns a getter for the handle. Each test file gets its own
 * project id by default, so files sharing one running emulator never see each other's topics,
 * subscriptions or databases.
 */
export function useEmulators(options: UseEmulatorsOptions = {}): () => EmulatorHandle {
  let handle: EmulatorHandle | undefined;
  const previousEnv = new Map<string, string | undefined>();
  beforeAll(async () => {
    handle = await ensureEmulators({
      ...options,
      projectId: options.projectId ?? `raceday-test-${randomUUID().slice(0, 8)}`,
      log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
    });
    if (options.applyEnv ?? true) {
      for (const [k, v] of Object.entries(handle.env)) {
        previousEnv.set(k, process.env[k]);
        process.env[k] = v;
      }
    }
  });
  afterAll(async () => {
    for (const [k, v] of previousEnv) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await handle?.stop();
  });
  return () => {
    if (handle === undefined) throw new Error('useEmulators: the handle exists only inside tests (after beforeAll)');
    return handle;
  };
}
