// Proves the race model is calibrated: over 20,000 seeded races the strongest rider wins as often
// as Plackett-Luce says (a binned chi-square against the exact per-race probabilities, critical
// value 20.52 = chi-square(5 df) at alpha 0.001), the same statistic rejects a wrong model
// (every rider equal), and void, dead-heat, fall and scratch rates come out as configured
// (binomial bounds of 4 standard deviations). Seeds are fixed, so the test is deterministic.
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { LIMITS } from './limits.ts';
import { drawResult, drawScratches, drawStrengths, plackettLuce } from './race-model.ts';

const RACES = 20_000;
const BINS = 5;
const CHI2_5DF_ALPHA_0001 = 20.52;

/** Sum over bins of (wins - expected)^2 / variance, bins by predicted probability. */
function calibration(predicted: number[], won: boolean[]): number {
  const order = predicted.map((p, i) => i).sort((a, b) => (predicted[a] as number) - (predicted[b] as number));
  let stat = 0;
  for (let b = 0; b < BINS; b++) {
    const slice = order.slice(Math.floor((b * order.length) / BINS), Math.floor(((b + 1) * order.length) / BINS));
    let observed = 0;
    let expected = 0;
    let variance = 0;
    for (const i of slice) {
      const p = predicted[i] as number;
      observed += won[i] ? 1 : 0;
      expected += p;
      variance += p * (1 - p);
    }
    stat += (observed - expected) ** 2 / variance;
  }
  return stat;
}

describe('race model', () => {
  it('lets the favourite win as often as the strength model predicts', () => {
    const rng = createRng('favourites');
    const predicted: number[] = [];
    const uniform: number[] = [];
    const won: boolean[] = [];
    for (let r = 0; r < RACES; r++) {
      const riders = r % 2 === 0 ? 9 : 7;
      const s = drawStrengths(riders, 0.7, rng);
      let fav = 1;
      for (let i = 2; i <= riders; i++) if ((s[i] as number) > (s[fav] as number)) fav = i;
      const total = s.reduce((a, b) => a + b, 0);
      predicted.push((s[fav] as number) / total);
      uniform.push(1 / riders);
      const order = plackettLuce(Array.from({ length: riders }, (_, i) => i + 1), s, rng);
      won.push(order[0] === fav);
    }
    const stat = calibration(predicted, won);
    expect(stat).toBeLessThan(CHI2_5DF_ALPHA_0001);
    // Power check: a model where every rider is equal is rejected by a wide margin.
    expect(calibration(uniform, won)).toBeGreaterThan(100 * CHI2_5DF_ALPHA_0001);
  });

  it('draws void races, dead heats, falls and scratches at the configured rates', () => {
    const rng = createRng('rates');
    const rates = { scratchRate: 0.1, deadHeatRate: 0.2, fallRate: 0.05, voidRate: 0.1 };
    let voids = 0;
    let deadHeats = 0;
    let officials = 0;
    let fallen = 0;
    let starters = 0;
    let scratched = 0;
    const n = 10_000;
    const problems: string[] = [];
    for (let r = 0; r < n; r++) {
      const s = drawStrengths(9, 0.7, rng);
      const out = drawScratches(9, rates.scratchRate, rng);
      scratched += out.length;
      if (9 - out.length < LIMITS.ridersStartingMin) problems.push(`only ${9 - out.length} starters`);
      const res = drawResult(9, s, out, rates, rng);
      if (res.status === 'void') {
        voids++;
        continue;
      }
      officials++;
      if (res.order.some((g) => g.length > 1)) deadHeats++;
      const finishers = res.order.flat();
      if (new Set(finishers).size !== finishers.length) problems.push(`a rider finished twice: ${JSON.stringify(res.order)}`);
      if (finishers.some((x) => out.includes(x))) problems.push(`a scratched rider finished: ${JSON.stringify(res.order)}`);
      fallen += 9 - out.length - finishers.length;
      starters += 9 - out.length;
    }
    expect(problems).toEqual([]);
    const within = (count: number, trials: number, p: number) => Math.abs(count - trials * p) < 4 * Math.sqrt(trials * p * (1 - p));
    expect(within(voids, n, rates.voidRate)).toBe(true);
    expect(within(deadHeats, officials, rates.deadHeatRate)).toBe(true);
    expect(within(fallen, starters, rates.fallRate)).toBe(true);
    // Scratches are capped so three riders start; with 9 riders at 10% the cap almost never binds.
    expect(within(scratched, 9 * n, rates.scratchRate)).toBe(true);
  });
});
