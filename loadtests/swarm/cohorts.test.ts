// Proves how cohorts are named and placed: counts and percentages, the rest healthy, clear refusals,
// and every cohort spread over the user indices so each worker (round robin) gets its share.
import { describe, expect, it } from 'vitest';
import { assignCohorts, parseCohorts } from './cohorts.ts';

describe('cohorts', () => {
  it('parses counts and percentages; the rest are healthy', () => {
    expect(parseCohorts('slow=5%,stalled=3,flapping=0.5%', 1000)).toEqual({ healthy: 942, slow: 50, stalled: 3, flapping: 5 });
    expect(parseCohorts('', 7)).toEqual({ healthy: 7, slow: 0, stalled: 0, flapping: 0 });
    // A percentage above 0 of a small swarm still names one user.
    expect(parseCohorts('stalled=1%', 20).stalled).toBe(1);
  });

  it('refuses what it cannot mean', () => {
    expect(() => parseCohorts('healthy=10', 100)).toThrow(/remainder/);
    expect(() => parseCohorts('sleepy=1', 100)).toThrow(/unknown cohort "sleepy"/);
    expect(() => parseCohorts('slow=five', 100)).toThrow(/must look like/);
    expect(() => parseCohorts('slow=60%,stalled=50%', 100)).toThrow(/cohorts name 110 users but the swarm has 100/);
  });

  it('assigns every cohort its count, spread so two round-robin workers share each', () => {
    const a = assignCohorts({ healthy: 90, slow: 4, stalled: 4, flapping: 2 });
    expect(a).toHaveLength(100);
    for (const [c, n] of [['healthy', 90], ['slow', 4], ['stalled', 4], ['flapping', 2]] as const) expect(a.filter((x) => x === c)).toHaveLength(n);
    for (const workers of [2, 3, 4]) {
      for (let w = 0; w < workers; w++) {
        const mine = a.filter((_, i) => i % workers === w);
        // Of 4 stalled users dealt round robin, worker w gets those i < 4 with i % workers === w.
        const share = [0, 1, 2, 3].filter((i) => i % workers === w).length;
        expect(share).toBeGreaterThan(0);
        expect(mine.filter((x) => x === 'stalled').length, `${workers} workers, worker ${w}`).toBe(share);
      }
    }
  });
});
