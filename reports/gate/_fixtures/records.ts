// Crafted run records for the gate's tests: a single run with figures and invariants, and a
// two-variant run with given samples in interleaved order.
import { RunRecorder } from '../../record/recorder.ts';
import type { RunRecord } from '../../record/schema.ts';

export function singleRun(figures: Record<string, number>, invariantsOk: readonly boolean[] = [true, true]): RunRecord {
  const r = new RunRecorder({ command: 'run', argv: [], scenario: 'smoke', backend: 'memory', seed: 1 }).start();
  r.figures(figures);
  invariantsOk.forEach((ok, i) => r.invariant({ name: `invariant-${i}`, ok, violations: ok ? [] : [`violation of invariant-${i}`] }));
  return r.stop(invariantsOk.every((x) => x));
}

/** Samples of A and B taken A B B A A B B A ...; `a[i]` and `b[i]` are each side's i-th repeat. */
export function twoVariants(figure: string, a: readonly number[], b: readonly number[], names = { a: 'A', b: 'B' }): RunRecord {
  const r = new RunRecorder({ command: 'run', argv: [], scenario: 'smoke', backend: 'memory', seed: 1 }).start();
  let order = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const pair: ['a' | 'b', number | undefined][] = i % 2 === 0 ? [['a', a[i]], ['b', b[i]]] : [['b', b[i]], ['a', a[i]]];
    for (const [side, v] of pair) {
      if (v !== undefined) r.sample(names[side], {}, { repeat: i, order: order++, figures: { [figure]: v, settledTickets: 100 } });
    }
  }
  r.invariant({ name: 'settled-exactly-once', ok: true, violations: [] });
  return r.stop(true);
}

/** n values spread around `center` by a fixed pattern (within about +-3%), for reproducible samples. */
export function around(center: number, n: number, phase = 0): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(center * (1 + 0.03 * Math.sin(1.7 * (i + phase)))));
}
