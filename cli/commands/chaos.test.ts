// raceday chaos without the emulators: what it refuses and where --fuzz goes.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exactlyOnceOf } from '../../chaos/run.ts';
import { capture } from '../_fixtures/capture.ts';
import { command as chaos } from './chaos.ts';

afterEach(() => vi.restoreAllMocks());

describe('raceday chaos misuse', () => {
  it('accepts only the emulators, saying the memory backend has its own simulator', async () => {
    const r = await capture(() => chaos.run(['--backend', 'memory']));
    expect(r.code).toBe(2);
    expect(r.err).toContain('only --backend emulators is accepted (the memory backend has its own fault simulator: raceday sim --seeds N)');
    const none = await capture(() => chaos.run([]));
    expect(none.err).toContain('--backend emulators is required');
  });

  it('refuses unknown faults, a scenario runs do not take and --runs with --soak', async () => {
    expect((await capture(() => chaos.run(['--backend', 'emulators', '--faults', 'kill,meteor']))).err).toContain('CHAOS.BAD_FAULTS: --faults: unknown fault "meteor"');
    expect((await capture(() => chaos.run(['--backend', 'emulators', '--scenario', 'typical-day']))).err).toContain('replayed by --soak');
    expect((await capture(() => chaos.run(['--backend', 'emulators', '--soak', '5', '--runs', '2']))).err).toContain('--runs applies to chaos runs');
  });

  it('--fuzz hands over to raceday chaos-fuzz, its own options and usage', async () => {
    expect(await chaos.helpFor?.(['--fuzz'])).toMatch(/^usage: raceday chaos --fuzz/);
    const r = await capture(() => chaos.run(['--fuzz', '--classes', 'nonsense']));
    expect(r.code).toBe(2);
    expect(r.err).toContain('chaos');
  });
});

describe('exactlyOnceOf', () => {
  const day = { tickets: 10, settledTickets: 10, violations: [] as string[], lost: 0, doubled: 0 };
  it('reads lost and doubled out of the checkers\' findings', () => {
    expect(exactlyOnceOf(day)).toEqual({ lost: 0, doubled: 0, settledExactlyOnce: 10 });
    const found = [
      'settled-exactly-once: ticket t1: stored open per100 0 payout 0, the core computes won per100 150 payout 1500',
      'settled-exactly-once: ticket t2 is missing from the store',
      'settled-exactly-once: user u3\'s settlement was applied 3 times',
      'ledger-conservation: something else',
    ];
    expect(exactlyOnceOf({ ...day, settledTickets: 8, violations: found })).toEqual({ lost: 2, doubled: 2, settledExactlyOnce: 6 });
    expect(exactlyOnceOf({ ...day, lost: 4, doubled: 1 })).toMatchObject({ lost: 4, doubled: 1 });
  });
});
