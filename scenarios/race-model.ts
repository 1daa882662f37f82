// The race model: each rider has a strength; the finishing order is Plackett-Luce (pick the next
// finisher with probability proportional to strength among those left), then scratches before the
// start, falls (absent from the order), dead heats and void races are applied at configured rates.
import type { RaceResult } from '../core/race-result.ts';
import type { SeededRng } from '../core/rng.ts';
import { LIMITS } from './limits.ts';

export interface RaceRates {
  readonly scratchRate: number;
  readonly deadHeatRate: number;
  readonly fallRate: number;
  readonly voidRate: number;
}

/** A standard normal draw (Box-Muller); used only per rider, never per ticket. */
function normal(rng: SeededRng): number {
  const u = (rng.nextU32() + 1) / 4294967297;
  const v = rng.float();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Strengths of riders 1..n (index 0 unused): log-normal with sigma `spread`. */
export function drawStrengths(riders: number, spread: number, rng: SeededRng): number[] {
  const s = [0];
  for (let i = 1; i <= riders; i++) s.push(Math.exp(spread * normal(rng)));
  return s;
}

/** Riders scratched before the start (欠車), ascending; at least LIMITS.ridersStartingMin start. */
export function drawScratches(riders: number, rate: number, rng: SeededRng): number[] {
  const out: number[] = [];
  for (let i = 1; i <= riders; i++) {
    if (rng.float() < rate && riders - out.length > LIMITS.ridersStartingMin) out.push(i);
  }
  return out;
}

/** A Plackett-Luce order of the given riders by strength. */
export function plackettLuce(riders: readonly number[], strengths: readonly number[], rng: SeededRng): number[] {
  const left = [...riders];
  const order: number[] = [];
  while (left.length > 0) {
    let total = 0;
    for (const r of left) total += strengths[r] as number;
    let x = rng.float() * total;
    let pick = left.length - 1;
    for (let i = 0; i < left.length; i++) {
      x -= strengths[left[i] as number] as number;
      if (x < 0) {
        pick = i;
        break;
      }
    }
    order.push(left[pick] as number);
    left.splice(pick, 1);
  }
  return order;
}

/**
 * The official result. Void first (a void race has no order); then the live riders finish in a
 * Plackett-Luce order, fallers drop out, and a dead heat merges two neighbours among the top
 * placings (where it changes payouts).
 */
export function drawResult(riders: number, strengths: readonly number[], scratched: readonly number[], rates: RaceRates, rng: SeededRng): RaceResult {
  if (rng.float() < rates.voidRate) return { status: 'void' };
  const live: number[] = [];
  for (let i = 1; i <= riders; i++) if (!scratched.includes(i)) live.push(i);
  const finishers = plackettLuce(live, strengths, rng).filter(() => !(rng.float() < rates.fallRate));
  const order: number[][] = finishers.map((r) => [r]);
  if (order.length >= 2 && rng.float() < rates.deadHeatRate) {
    const at = rng.int(0, Math.min(3, order.length - 1) - 1); // boundary after 1st, 2nd or 3rd group
    const merged = [...(order[at] as number[]), ...(order[at + 1] as number[])].sort((a, b) => a - b);
    order.splice(at, 2, merged);
  }
  return { status: 'official', order };
}
