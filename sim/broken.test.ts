// Proves the checkers can fail: the simulator runs deliberately broken pipelines (settlement
// without the exactly-once guard, the ranking without its barrier, acking a settle request before
// the transaction commits), must report violations from the checker that guards that property,
// and the reported seed must reproduce the same violations and the same trace when replayed.
import { describe, expect, it } from 'vitest';
import { BROKEN_BEHAVIOURS, type BrokenBehaviour } from '../pipeline/settings.ts';
import { replayCommand, simulate } from './simulate.ts';

const SEEDS_TRIED_MAX = 40;

const CHECKER_OF: Readonly<Record<BrokenBehaviour, string>> = {
  'no-exactly-once': 'settled-exactly-once',
  'no-barrier': 'ranking-exactly-once',
  'ack-before-commit': 'settled-exactly-once',
  'bonus-twice': 'bonuses-exactly-once',
  'publish-unclaimed': 'ranking-once',
  'dead-letters-not-terminal': 'terminal',
};

describe('broken pipelines are caught', () => {
  for (const broken of BROKEN_BEHAVIOURS) {
    it(`finds ${broken} and replays it from the reported seed`, async () => {
      let found: Awaited<ReturnType<typeof simulate>> | undefined;
      for (let seed = 1; seed <= SEEDS_TRIED_MAX && found === undefined; seed++) {
        const r = await simulate({ seed, broken });
        // The first seed whose violations include the checker that guards the property (another
        // checker may see the same breakage first, e.g. a lost `settled` as a missing notification).
        if (r.violations.some((v) => v.checker === CHECKER_OF[broken])) found = r;
      }
      expect(found, `no violation in ${SEEDS_TRIED_MAX} seeds`).toBeDefined();
      const first = found as NonNullable<typeof found>;
      expect(first.violations.map((v) => v.checker)).toContain(CHECKER_OF[broken]);
      expect(replayCommand({ seed: first.seed, broken })).toBe(`raceday sim --scenario smoke --seed ${first.seed} --broken ${broken}`);
      const replay = await simulate({ seed: first.seed, broken });
      expect(replay.traceHash).toBe(first.traceHash);
      expect(replay.violations).toEqual(first.violations);
      // The same seed with the healthy pipeline is clean: the violation is the breakage, not the world.
      const healthy = await simulate({ seed: first.seed });
      expect(healthy.violations).toEqual([]);
    });
  }
});

describe('a notification client without its dedupe is caught', () => {
  it('reports the redelivered notifications it showed twice; with the dedupe the same seed is clean', async () => {
    let found: Awaited<ReturnType<typeof simulate>> | undefined;
    for (let seed = 1; seed <= SEEDS_TRIED_MAX && found === undefined; seed++) {
      const r = await simulate({ seed, clientDedupe: false });
      if (r.violations.length > 0) found = r;
    }
    expect(found, `no violation in ${SEEDS_TRIED_MAX} seeds`).toBeDefined();
    const first = found as NonNullable<typeof found>;
    expect(first.violations.map((v) => v.checker)).toContain('notified-exactly-once');
    expect(first.violations.some((v) => /showed \S+ [2-9] times/.test(v.message))).toBe(true);
    // The same seed delivered duplicates to the healthy client too, and it showed each once.
    const healthy = await simulate({ seed: first.seed });
    expect(healthy.duplicateDeliveries).toBeGreaterThan(0);
    expect(healthy.violations).toEqual([]);
  });
});
