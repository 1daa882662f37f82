// Proves that group commit of settlements is an explicit, visible choice of `raceday run`: the help
// names --settlements-per-commit with each Spanner backend's default (25 on the emulators, 1 on
// Google Cloud), and the memory backend, which has no such thing, refuses the option (exit 2)
// rather than ignoring it.
import { afterEach, expect, it, vi } from 'vitest';
import { command as run } from './run.ts';
import { capture } from '../_fixtures/capture.ts';

afterEach(() => vi.restoreAllMocks());

it('documents --settlements-per-commit with the default of each Spanner backend', () => {
  const text = run.usage.replace(/\s+/g, ' ');
  expect(text).toContain('--settlements-per-commit N emulators and google');
  expect(text).toMatch(/Default 25 on emulators .*, 1 on google/);
});

it('refuses --settlements-per-commit on the memory backend, for smoke and for replays', async () => {
  for (const args of [['--settlements-per-commit', '5'], ['--scenario', 'typical-day', '--settlements-per-commit', '5']]) {
    const r = await capture(() => run.run(args));
    expect(r.code).toBe(2);
    expect(r.err).toContain('--settlements-per-commit applies to the Spanner backends');
  }
});
