// What bettors pick: the probability of every combination under a Plackett-Luce model of the
// bettors' strength estimates, mixed with a uniform share for longshot players. Bettors buy before
// scratches are known, so every entered rider is in the model.
import { enumerateCombinations, encodeCombination, formatCombination } from '../core/combination.ts';
import { bracketRiders, placingsNeeded, type BetType, type Field } from '../core/sports.ts';

export interface ComboTable {
  readonly betType: BetType;
  readonly texts: readonly string[];
  readonly codes: readonly number[];
  readonly probabilities: Float64Array;
}

/** Plackett-Luce probabilities of ordered prefixes of length 1, 2 and 3 (riders 1..n). */
interface Prefixes {
  readonly n: number;
  readonly p1: Float64Array;
  readonly p2: Float64Array; // [a * 10 + b]
  readonly p3: Float64Array; // [a * 100 + b * 10 + c]
}

function prefixes(q: readonly number[]): Prefixes {
  const n = q.length - 1;
  let total = 0;
  for (let i = 1; i <= n; i++) total += q[i] as number;
  const p1 = new Float64Array(10);
  const p2 = new Float64Array(100);
  const p3 = new Float64Array(1000);
  for (let a = 1; a <= n; a++) {
    const qa = q[a] as number;
    p1[a] = qa / total;
    for (let b = 1; b <= n; b++) {
      if (b === a) continue;
      const qb = q[b] as number;
      const pab = (p1[a] as number) * (qb / (total - qa));
      p2[a * 10 + b] = pab;
      for (let c = 1; c <= n; c++) {
        if (c === a || c === b) continue;
        p3[a * 100 + b * 10 + c] = pab * ((q[c] as number) / (total - qa - qb));
      }
    }
  }
  return { n, p1, p2, p3 };
}

/** Sum of p over ordered prefixes of length k whose riders satisfy `keep`. */
function sumPrefixes(p: Prefixes, k: 1 | 2 | 3, keep: (xs: number[]) => boolean): number {
  let s = 0;
  for (let a = 1; a <= p.n; a++) {
    if (k === 1) {
      if (keep([a])) s += p.p1[a] as number;
      continue;
    }
    for (let b = 1; b <= p.n; b++) {
      if (b === a) continue;
      if (k === 2) {
        if (keep([a, b])) s += p.p2[a * 10 + b] as number;
        continue;
      }
      for (let c = 1; c <= p.n; c++) if (c !== a && c !== b && keep([a, b, c])) s += p.p3[a * 100 + b * 10 + c] as number;
    }
  }
  return s;
}

function comboProbability(betType: BetType, combo: readonly number[], p: Prefixes, riders: number): number {
  const [x = 0, y = 0, z = 0] = combo;
  switch (betType) {
    case 'win':
      return p.p1[x] as number;
    case 'place':
      return sumPrefixes(p, placingsNeeded('place', riders) as 2 | 3, (xs) => xs.includes(x));
    case 'exacta':
      return p.p2[x * 10 + y] as number;
    case 'quinella':
      return (p.p2[x * 10 + y] as number) + (p.p2[y * 10 + x] as number);
    case 'wide':
      return sumPrefixes(p, 3, (xs) => xs.includes(x) && xs.includes(y));
    case 'trifecta':
      return p.p3[x * 100 + y * 10 + z] as number;
    case 'trio':
      return sumPrefixes(p, 3, (xs) => xs.includes(x) && xs.includes(y) && xs.includes(z));
    case 'bracket_exacta':
    case 'bracket_quinella': {
      const br = bracketRiders(riders);
      const inX = br[x - 1] as readonly number[];
      const inY = br[y - 1] as readonly number[];
      const ordered = (xs: number[]) => inX.includes(xs[0] as number) && inY.includes(xs[1] as number);
      if (betType === 'bracket_exacta' || x === y) return sumPrefixes(p, 2, ordered);
      return sumPrefixes(p, 2, (xs) => ordered(xs) || (inY.includes(xs[0] as number) && inX.includes(xs[1] as number)));
    }
  }
}

/** Bettors' strength estimate: strength^temperature (0 = every rider looks alike). */
export function perceivedStrengths(strengths: readonly number[], temperature: number): number[] {
  return strengths.map((s, i) => (i === 0 ? 0 : Math.pow(s, temperature)));
}

/** Every combination of a bet type in a field with its pick probability (sums to 1). */
export function comboTable(betType: BetType, field: Field, q: readonly number[], longshotShare: number): ComboTable {
  const combos = enumerateCombinations(betType, field);
  const p = prefixes(q);
  const probabilities = new Float64Array(combos.length);
  let total = 0;
  combos.forEach((c, i) => {
    const v = comboProbability(betType, c, p, field.riders);
    probabilities[i] = v;
    total += v;
  });
  const uniform = 1 / combos.length;
  for (let i = 0; i < combos.length; i++) {
    probabilities[i] = (1 - longshotShare) * ((probabilities[i] as number) / total) + longshotShare * uniform;
  }
  return {
    betType,
    texts: combos.map((c) => formatCombination(betType, c)),
    codes: combos.map((c) => encodeCombination(c)),
    probabilities,
  };
}

