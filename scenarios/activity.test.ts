// Proves the user-activity model: the rank-to-user map is a bijection for any user count (so every
// user exists exactly once), weights fall with rank, and draws pick the heaviest user as often as
// its weight share says (binomial bound of 4 standard deviations on 400,000 seeded draws).
import { describe, expect, it } from 'vitest';
import { createRng, deriveRng } from '../core/rng.ts';
import { buildActivity, drawUser, userOfRank, weightOfUser } from './activity.ts';

describe('user activity', () => {
  it('maps ranks to users one to one, and back', () => {
    for (const n of [1, 2, 7, 64, 1000, 9973, 30_030]) {
      const a = buildActivity(n, 1.3, createRng(`perm/${n}`));
      const seen = new Uint8Array(n);
      for (let r = 0; r < n; r++) seen[userOfRank(a, r)]! += 1;
      expect(seen.every((x) => x === 1)).toBe(true);
      // weightOfUser inverts the map: rank 0 (the heaviest) has the largest weight.
      expect(weightOfUser(a, userOfRank(a, 0))).toBe(Math.max(...a.weightEach));
    }
  });

  it('draws users in proportion to their weight', () => {
    const n = 10_000;
    const a = buildActivity(n, 1.3, createRng('draws'));
    const rng = deriveRng(createRng('draws/rng'));
    const top = userOfRank(a, 0);
    const draws = 400_000;
    let hits = 0;
    for (let i = 0; i < draws; i++) if (drawUser(a, rng) === top) hits++;
    const p = weightOfUser(a, top) / a.totalWeight;
    expect(Math.abs(hits - draws * p)).toBeLessThan(4 * Math.sqrt(draws * p * (1 - p)));
    for (let b = 1; b < a.weightEach.length; b++) expect(a.weightEach[b]).toBeLessThanOrEqual(a.weightEach[b - 1] as number);
  });
});
