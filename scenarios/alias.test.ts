// Proves Walker's alias tables sample their weights: 200,000 seeded draws from a skewed table
// match the weights by chi-square (critical value 27.88 = chi-square(9 df) at alpha 0.001), and
// zero weights are never drawn; bad weights are refused.
import { describe, expect, it } from 'vitest';
import { createRng, deriveRng } from '../core/rng.ts';
import { buildAlias, sampleAlias } from './alias.ts';

describe('alias table', () => {
  it('draws each column in proportion to its weight', () => {
    const weights = [50, 20, 10, 5, 5, 4, 3, 2, 1, 0, 0.5];
    const table = buildAlias(weights);
    const rng = deriveRng(createRng('alias'));
    const n = 200_000;
    const counts = new Array<number>(weights.length).fill(0);
    for (let i = 0; i < n; i++) counts[sampleAlias(table, rng)]! += 1;
    const total = weights.reduce((a, b) => a + b, 0);
    let chi2 = 0;
    weights.forEach((w, i) => {
      if (w > 0) chi2 += ((counts[i] as number) - (n * w) / total) ** 2 / ((n * w) / total);
    });
    expect(counts[9]).toBe(0);
    expect(chi2).toBeLessThan(27.88);
  });

  it('refuses empty, negative and all-zero weights', () => {
    expect(() => buildAlias([])).toThrow(/at least one/);
    expect(() => buildAlias([1, -1])).toThrow(/weight 1/);
    expect(() => buildAlias([0, 0])).toThrow(/sum to zero/);
  });
});
