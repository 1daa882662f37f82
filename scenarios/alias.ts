// Walker's alias method: after O(n) setup, one draw from a discrete distribution costs two random
// numbers and one comparison, whatever n is. Generation draws a user, a bet type and a combination
// per ticket, so every discrete choice on the hot path goes through one of these tables.
import type { Rng } from '../core/ports.ts';

export interface AliasTable {
  readonly size: number;
  /**
   * Column i is cells[2i] (keep threshold scaled to [0, 2^32]) and cells[2i + 1] (its alias):
   * interleaved so a draw from a table of millions of users touches one cache line, not two.
   */
  readonly cells: Float64Array;
}

const U32 = 4294967296;

/** Builds the table from non-negative weights (at least one positive). */
export function buildAlias(weights: ArrayLike<number>): AliasTable {
  const n = weights.length;
  if (n === 0) throw new Error('invariant violated: alias table needs at least one weight');
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i] as number;
    if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`invariant violated: weight ${i} is ${w}`);
    total += w;
  }
  if (!(total > 0)) throw new Error('invariant violated: alias weights sum to zero');
  const scaled = new Float64Array(n);
  for (let i = 0; i < n; i++) scaled[i] = ((weights[i] as number) * n) / total;
  const cells = new Float64Array(2 * n);
  // Two work lists as stacks in one Int32Array: small from the front, large from the back.
  const work = new Int32Array(n);
  let small = 0;
  let large = n;
  for (let i = 0; i < n; i++) {
    if ((scaled[i] as number) < 1) work[small++] = i;
    else work[--large] = i;
  }
  while (small > 0 && large < n) {
    const s = work[--small] as number;
    const l = work[large] as number;
    cells[2 * s] = (scaled[s] as number) * U32;
    cells[2 * s + 1] = l;
    const rest = (scaled[l] as number) + (scaled[s] as number) - 1;
    scaled[l] = rest;
    if (rest < 1) {
      large++;
      work[small++] = l;
    }
  }
  // Whatever is left has probability 1 up to rounding: always keep it.
  for (const i of [...work.subarray(0, small), ...work.subarray(large)]) {
    cells[2 * i] = U32;
    cells[2 * i + 1] = i;
  }
  return { size: n, cells };
}

/** One draw: a uniform column, then keep it or take its alias. */
export function sampleAlias(table: AliasTable, rng: Rng): number {
  const i = Math.floor((rng.nextU32() / U32) * table.size);
  return rng.nextU32() < (table.cells[2 * i] as number) ? i : (table.cells[2 * i + 1] as number);
}
