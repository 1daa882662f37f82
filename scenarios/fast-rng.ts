// A per-ticket random stream: sfc32 like core/rng.ts, but with its state in a Uint32Array. The core
// generator keeps its state in closure variables, and values above 2^31 stored there are boxed as
// heap numbers on every call (about 30 ns a draw here); the typed array keeps each draw to a few ns.
// Each stream is seeded from a fork of the core generator, so one seed still drives everything.
import type { Rng } from '../core/ports.ts';
import type { SeededRng } from '../core/rng.ts';

export class FastRng implements Rng {
  private readonly s: Uint32Array;

  constructor(seedFrom: SeededRng) {
    this.s = new Uint32Array([seedFrom.nextU32(), seedFrom.nextU32(), seedFrom.nextU32(), 1]);
    for (let i = 0; i < 12; i++) this.nextU32(); // mix before the first draw, as core/rng.ts does
  }

  nextU32(): number {
    const s = this.s;
    const a = s[0] as number;
    const b = s[1] as number;
    const c = s[2] as number;
    const d = s[3] as number;
    const t = (((a + b) >>> 0) + d) >>> 0;
    s[3] = d + 1;
    s[0] = b ^ (b >>> 9);
    s[1] = c + (c << 3);
    const c2 = ((c << 21) | (c >>> 11)) >>> 0;
    s[2] = c2 + t;
    return t;
  }
}
