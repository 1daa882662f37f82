// Who places a purchase: users have heavy-tailed (Pareto) activity. A user's weight is the Pareto
// quantile of its activity rank, ((rank + 0.5) / n)^(-1/alpha), so rank 0 is the heaviest bettor.
// Ranks are grouped into buckets growing by BUCKET_GROWTH (the top ranks alone, then wider), every
// user of a bucket weighing the bucket's mean: a draw is a small alias draw over buckets plus a
// uniform rank inside one, touching no per-user memory (a per-user alias table over 2,000,000
// users costs a cache miss per draw and 32 MB). A seeded affine permutation maps ranks to user
// indices, so heavy bettors are scattered over the id space like on a real service.
import type { Rng } from '../core/ports.ts';
import type { SeededRng } from '../core/rng.ts';
import { buildAlias, type AliasTable } from './alias.ts';

/** Weights inside a bucket differ by at most this factor^(1/alpha): under 10% for alpha ≥ 1. */
const BUCKET_GROWTH = 1.1;
const U32 = 4294967296;

export interface UserActivity {
  readonly users: number;
  /** Bucket b holds ranks bucketStart[b] .. bucketStart[b + 1] - 1. */
  readonly bucketStart: Int32Array;
  readonly weightEach: Float64Array;
  readonly bucketAlias: AliasTable;
  readonly totalWeight: number;
  /** user index = (mul * rank + add) mod users; rank = (mulInverse * (user - add)) mod users. */
  readonly mul: number;
  readonly add: number;
  readonly mulInverse: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Inverse of a modulo n (gcd 1) by the extended Euclidean algorithm; n < 2^26 keeps products exact. */
function modInverse(a: number, n: number): number {
  let [r0, r1] = [a, n];
  let [s0, s1] = [1, 0];
  while (r1 !== 0) {
    const q = Math.floor(r0 / r1);
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % n) + n) % n;
}

export function buildActivity(users: number, alpha: number, rng: SeededRng): UserActivity {
  const starts = [0];
  while ((starts[starts.length - 1] as number) < users) {
    const s = starts[starts.length - 1] as number;
    starts.push(Math.min(users, Math.max(s + 1, Math.ceil(s * BUCKET_GROWTH))));
  }
  const buckets = starts.length - 1;
  const weightEach = new Float64Array(buckets);
  const bucketTotal = new Float64Array(buckets);
  let totalWeight = 0;
  for (let b = 0; b < buckets; b++) {
    let sum = 0;
    for (let r = starts[b] as number; r < (starts[b + 1] as number); r++) sum += Math.pow((r + 0.5) / users, -1 / alpha);
    bucketTotal[b] = sum;
    weightEach[b] = sum / ((starts[b + 1] as number) - (starts[b] as number));
    totalWeight += sum;
  }
  let mul = users === 1 ? 1 : rng.int(1, users - 1);
  while (gcd(mul, users) !== 1) mul = (mul % (users - 1)) + 1;
  return {
    users,
    bucketStart: Int32Array.from(starts),
    weightEach,
    bucketAlias: buildAlias(bucketTotal),
    totalWeight,
    mul,
    add: rng.int(0, users - 1),
    mulInverse: modInverse(mul, users),
  };
}

export function userOfRank(a: UserActivity, rank: number): number {
  return (a.mul * rank + a.add) % a.users;
}

/** The activity weight of a user (the mean weight of its rank's bucket). */
export function weightOfUser(a: UserActivity, user: number): number {
  const rank = (a.mulInverse * ((user - a.add + a.users) % a.users)) % a.users;
  let lo = 0;
  let hi = a.weightEach.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((a.bucketStart[mid] as number) <= rank) lo = mid;
    else hi = mid - 1;
  }
  return a.weightEach[lo] as number;
}

/** One user drawn in proportion to activity weight. */
export function drawUser(a: UserActivity, rng: Rng): number {
  const t = a.bucketAlias;
  const i = Math.floor((rng.nextU32() / U32) * t.size);
  const b = rng.nextU32() < (t.cells[2 * i] as number) ? i : (t.cells[2 * i + 1] as number);
  const start = a.bucketStart[b] as number;
  const rank = start + Math.floor((rng.nextU32() / U32) * ((a.bucketStart[b + 1] as number) - start));
  return (a.mul * rank + a.add) % a.users;
}
