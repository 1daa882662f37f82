// Sampling until the gate can decide: wall-clock samples are taken in interleaved order (A B B A
// A B B A ...; with more sides, forward then backward rounds), the rules are judged, and while a
// statistical rule is inconclusive another round pair runs, up to a cap of samples a side. At the
// cap an inconclusive rule stays inconclusive: a warning, or exit 97 where the rules ask for it.
import type { RunRecord } from '../record/schema.ts';
import { evaluateGate } from './evaluate.ts';
import type { GateResult } from './result.ts';
import type { Rules } from './rules.ts';

export interface Step {
  /** Index of the side (variant) to run. */
  readonly variant: number;
  /** This side's repeat, from 0. */
  readonly repeat: number;
}

/**
 * The run order, as side indices: round r runs every side forward when r is even and backward
 * when odd, so two sides give A B B A A B B A ... and every side's mean position is the same.
 */
export function interleavedOrder(sides: number, repeat: number): Step[] {
  const order: Step[] = [];
  for (let r = 0; r < repeat; r++) {
    for (let i = 0; i < sides; i++) order.push({ variant: r % 2 === 0 ? i : sides - 1 - i, repeat: r });
  }
  return order;
}

export interface AdaptiveOptions {
  readonly rules: Rules;
  readonly sides: number;
  /** Samples a side to start with. */
  readonly repeat: number;
  /** Samples a side at most. */
  readonly maxRepeat: number;
  /** Runs one sample; `order` counts samples across all sides from 0. */
  runStep(step: Step, order: number): Promise<void>;
  /** The record of every sample so far. */
  record(): RunRecord;
  readonly log?: (line: string) => void;
}

export interface AdaptiveOutcome {
  readonly record: RunRecord;
  readonly results: GateResult[];
  /** Samples a side taken. */
  readonly repeats: number;
}

const undecided = (rules: Rules, results: readonly GateResult[]): boolean => results.some((r, i) => r.verdict === 'inconclusive' && rules.rules[i]?.kind === 'statistical');

export async function sampleUntilDecided(o: AdaptiveOptions): Promise<AdaptiveOutcome> {
  if (o.maxRepeat < o.repeat) throw new RangeError(`the cap of ${o.maxRepeat} samples a side is below the ${o.repeat} to start with`);
  let repeats = 0;
  let order = 0;
  for (;;) {
    // Two more rounds each time (A B then B A), so the alternation stays balanced.
    const target = repeats === 0 ? o.repeat : Math.min(o.maxRepeat, repeats + 2);
    for (const step of interleavedOrder(o.sides, target).slice(repeats * o.sides)) await o.runStep(step, order++);
    repeats = target;
    const record = o.record();
    const results = evaluateGate(o.rules, record);
    if (!undecided(o.rules, results) || repeats >= o.maxRepeat) return { record, results, repeats };
    o.log?.(`raceday gate: inconclusive at ${repeats} samples a side; two more rounds (cap ${o.maxRepeat})`);
  }
}
