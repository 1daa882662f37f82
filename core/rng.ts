// Seeded randomness (sfc32): every random choice in raceday comes from one of these, so a seed
// replays a run exactly. Pure arithmetic, no Math.random.
import type { Rng } from './ports.ts';

export interface SeededRng extends Rng {
  /** Uniform float in [0, 1) with 32 bits of randomness. */
  float(): number;
  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number;
  /** An independent stream derived from this one and a label, for splitting one seed into parts. */
  fork(label: string): SeededRng;
}

function hashString(s: string, h: number): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

export function createRng(seed: number | string): SeededRng {
  const s = String(seed);
  return fromState(hashString(s, 0x811c9dc5), hashString(s, 0x9e3779b9), hashString(s, 0x85ebca6b), s);
}

/**
 * A generator seeded from three draws of another: cheaper than `fork` (no string hashing), for
 * hot paths that need many independent streams, e.g. one per race of a generated day.
 */
export function deriveRng(from: Rng): SeededRng {
  const a = from.nextU32();
  const b = from.nextU32();
  const c = from.nextU32();
  return fromState(a, b, c, `derived/${a}/${b}/${c}`);
}

function fromState(a0: number, b0: number, c0: number, label: string): SeededRng {
  // The four words of state live in a typed array: closure-captured `let`s that are reassigned on
  // every draw are kept boxed by V8 and cost an order of magnitude more per call.
  const st = new Uint32Array([a0, b0, c0, 1]);
  const next = (): number => {
    const a = st[0] as number;
    const b = st[1] as number;
    const c = st[2] as number;
    const d = st[3] as number;
    const t = (((a + b) >>> 0) + d) >>> 0;
    st[3] = d + 1;
    st[0] = b ^ (b >>> 9);
    st[1] = c + (c << 3);
    st[2] = ((c << 21) | (c >>> 11)) + t;
    return t;
  };
  for (let i = 0; i < 12; i++) next(); // mix the seed in before the first draw
  const rng: SeededRng = {
    nextU32: next,
    float: () => next() / 4294967296,
    int(lo, hi) {
      if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) throw new Error(`invariant violated: bad range ${lo}..${hi}`);
      return lo + Math.floor((next() / 4294967296) * (hi - lo + 1));
    },
    fork: (forkLabel) => createRng(`${label}/${forkLabel}/${next()}`),
  };
  return rng;
}
