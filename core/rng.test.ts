// Proves the seeded generator is a pure function of its seed (same seed, same stream; forks are
// reproducible and differ from their parent) and that int() stays in range and covers it evenly.
import { describe, expect, it } from 'vitest';
import { createRng } from './rng.ts';

const draw = (seed: number | string, n: number) => {
  const r = createRng(seed);
  return Array.from({ length: n }, () => r.nextU32());
};

describe('createRng', () => {
  it('replays the same stream for the same seed and a different one for another seed', () => {
    expect(draw(7, 50)).toEqual(draw(7, 50));
    expect(draw('7', 50)).toEqual(draw(7, 50));
    expect(draw(8, 50)).not.toEqual(draw(7, 50));
    for (const x of draw(9, 1000)) expect(Number.isInteger(x) && x >= 0 && x < 2 ** 32).toBe(true);
  });

  it('forks reproducibly, and a fork differs from its parent and from a fork with another label', () => {
    const a = createRng(1).fork('bus');
    const b = createRng(1).fork('bus');
    const c = createRng(1).fork('store');
    const sa = Array.from({ length: 20 }, () => a.nextU32());
    expect(Array.from({ length: 20 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.nextU32())).not.toEqual(sa);
    expect(draw(1, 20)).not.toEqual(sa);
  });

  it('int(lo, hi) stays inside the range and hits every value about equally (chi-square, 6 cells)', () => {
    const r = createRng('dice');
    const counts = new Array<number>(6).fill(0);
    const n = 60_000;
    for (let i = 0; i < n; i++) {
      const v = r.int(1, 6);
      expect(v >= 1 && v <= 6).toBe(true);
      counts[v - 1] = (counts[v - 1] as number) + 1;
    }
    const expected = n / 6;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 5 degrees of freedom: P(chi2 > 20.5) = 0.001, so a fair generator fails this once in a thousand seeds.
    expect(chi2).toBeLessThan(20.5);
    expect(() => r.int(3, 2)).toThrow(/bad range/);
  });
});
