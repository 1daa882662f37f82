// Proves how cohorts are named and placed: counts and percentages, the rest healthy, clear refusals,
// and every cohort spread over the user indices so each worker (round robin) gets its share.
import { describe, expect, it } from 'vitest';
import { assignCohorts, dealToWorkers, parseCohorts, type Cohort } from './cohorts.ts';

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

  it('assigns every cohort its count, spread over the users', () => {
    const a = assignCohorts({ healthy: 90, slow: 4, stalled: 4, flapping: 2 });
    expect(a).toHaveLength(100);
    for (const [c, n] of [['healthy', 90], ['slow', 4], ['stalled', 4], ['flapping', 2]] as const) expect(a.filter((x) => x === c)).toHaveLength(n);
    // Spread: the driver publishes in user order, so no cohort may sit all at the front.
    for (const c of ['slow', 'stalled', 'flapping'] as const) {
      const at = a.flatMap((x, i) => (x === c ? [i] : []));
      expect(at[0], c).toBeLessThan(50);
      expect(at[at.length - 1], c).toBeGreaterThanOrEqual(50);
    }
  });

  it('deals every worker its share of every cohort', () => {
    // 80 users: the 4 stalled sit at 10, 30, 50, 70, all even: dealing by user index would give them all to one of two workers.
    for (const a of [assignCohorts({ healthy: 90, slow: 4, stalled: 4, flapping: 2 }), assignCohorts({ healthy: 70, slow: 4, stalled: 4, flapping: 2 })]) {
      dealsShares(a);
    }
  });
});

/** Every worker of 2, 3 and 4 gets every user once, and its round-robin share of the 4 stalled ones. */
function dealsShares(a: readonly Cohort[]): void {
  for (const workers of [2, 3, 4]) {
    const dealt = dealToWorkers(a, workers);
    expect(dealt.flat().sort((x, y) => x - y)).toEqual(a.map((_, i) => i));
    dealt.forEach((mine, w) => {
      const share = [0, 1, 2, 3].filter((k) => k % workers === w).length;
      expect(mine.filter((i) => a[i] === 'stalled'), `${workers} workers, worker ${w}`).toHaveLength(share);
    });
  }
}
