import { describe, expect, it } from 'vitest';
import { around, singleRun, twoVariants } from './_fixtures/records.ts';
import { sampleUntilDecided, interleavedOrder } from './adaptive.ts';
import { evaluateGate, gateRecordsOf } from './evaluate.ts';
import { gateExitCode, GATE_EXIT } from './result.ts';
import { parseRules, type Rules } from './rules.ts';
import { RunRecorder } from '../record/recorder.ts';

function rules(value: unknown): Rules {
  const r = parseRules(value);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

const stat = (extra: Record<string, unknown> = {}) => rules({ version: 1, rules: [{ name: 'makespan', kind: 'statistical', figure: 'makespanMs', ...extra }] });

describe('rules file validation', () => {
  it('names the bad field', () => {
    const bad = (v: unknown) => {
      const r = parseRules(v);
      return r.ok ? 'accepted' : r.error.message;
    };
    expect(bad('{')).toMatch(/^rules file is not JSON/);
    expect(bad({ version: 2, rules: [] })).toMatch(/^version: must be 1/);
    expect(bad({ version: 1, rules: [] })).toMatch(/^rules: must hold at least one rule/);
    expect(bad({ version: 1, rules: [{ name: 'x', kind: 'tolerance', figure: 'f' }] })).toMatch(/^rules\[0\]: a tolerance rule needs at least one of/);
    expect(bad({ version: 1, rules: [{ name: 'x', kind: 'statistical', figure: 'f', threshold: 11 }] })).toMatch(/^rules\[0\]\.threshold: must be at most 10/);
    expect(bad({ version: 1, rules: [{ name: 'x', kind: 'exact', figure: 'f', valu: 3 }] })).toMatch(/^rules\[0\]: .*valu/);
    expect(bad({ version: 1, rules: [{ name: 'x', kind: 'sometimes', figure: 'f' }] })).toMatch(/^rules\[0\]\.kind/);
    expect(bad({ version: 1, rules: [{ name: 'x', kind: 'invariants' }, { name: 'x', kind: 'invariants' }] })).toMatch(/^rules\[1\]\.name: "x" is used by an earlier rule/);
    expect(bad({ version: 1, defaults: { alpha: 1 }, rules: [{ name: 'x', kind: 'invariants' }] })).toMatch(/^defaults\.alpha: must be below 1/);
  });

  it('fills the defaults: 10% threshold, alpha 0.05, 8 samples, inconclusive warns', () => {
    expect(stat().settings).toEqual({ threshold: 0.1, alpha: 0.05, minSamples: 8, inconclusive: 'warn' });
  });
});

describe('deterministic rules', () => {
  const record = singleRun({ settledTickets: 5006, makespanVirtualMs: 1200 }, [true, true]);

  it('exact and tolerance rules pass and breach with the numbers in the message', () => {
    const r = rules({
      version: 1,
      rules: [
        { name: 'tickets', kind: 'exact', figure: 'settledTickets', value: 5006 },
        { name: 'tickets wrong', kind: 'exact', figure: 'settledTickets', value: 5000 },
        { name: 'makespan cap', kind: 'tolerance', figure: 'makespanVirtualMs', max: 1000 },
        { name: 'makespan band', kind: 'tolerance', figure: 'makespanVirtualMs', min: 1000, max: 1500 },
      ],
    });
    const out = evaluateGate(r, record);
    expect(out.map((x) => x.verdict)).toEqual(['pass', 'breach', 'breach', 'pass']);
    expect(out[1]?.message).toBe('settledTickets is 5006, the rule requires exactly 5000');
    expect(out[2]?.message).toBe('makespanVirtualMs = 1200 is outside -inf .. 1000');
    expect(gateExitCode(out, false)).toBe(GATE_EXIT.breach);
  });

  it('baseline rules compare to the stored record; a missing figure or baseline is an error, not a pass', () => {
    const baseline = singleRun({ settledTickets: 5006, makespanVirtualMs: 1100 });
    const r = rules({
      version: 1,
      rules: [
        { name: 'same tickets', kind: 'exact', figure: 'settledTickets' },
        { name: 'makespan +5%', kind: 'tolerance', figure: 'makespanVirtualMs', maxIncrease: 0.05 },
        { name: 'makespan +10%', kind: 'tolerance', figure: 'makespanVirtualMs', maxIncrease: 0.1 },
        { name: 'missing', kind: 'exact', figure: 'noSuchFigure', value: 1 },
        { name: 'inherited', kind: 'exact', figure: 'constructor', value: 1 },
      ],
    });
    const out = evaluateGate(r, record, baseline);
    expect(out.map((x) => x.verdict)).toEqual(['pass', 'breach', 'pass', 'error', 'error']);
    expect(out[1]?.numbers).toMatchObject({ observed: 1200, max: 1155, baseline: 1100 });
    expect(evaluateGate(r, record)[0]?.message).toMatch(/give --baseline/);
    expect(gateExitCode(out, false)).toBe(GATE_EXIT.usage);
  });

  it('invariants: a failing checker breaches', () => {
    const r = rules({ version: 1, rules: [{ name: 'inv', kind: 'invariants' }] });
    expect(evaluateGate(r, record)[0]?.verdict).toBe('pass');
    const broken = evaluateGate(r, singleRun({}, [true, false]))[0];
    expect(broken?.verdict).toBe('breach');
    expect(broken?.message).toContain('invariant-1');
  });
});

describe('statistical rules', () => {
  it('a 25% slower B with tight samples is a regression', () => {
    const out = evaluateGate(stat(), twoVariants('makespanMs', around(1000, 8), around(1250, 8, 3)));
    expect(out[0]?.verdict).toBe('regression');
    expect(out[0]?.numbers['relCiLow'] as number).toBeGreaterThan(0.1);
    expect(gateExitCode(out, false)).toBe(GATE_EXIT.regression);
  });

  it('the same code against itself passes', () => {
    const out = evaluateGate(stat(), twoVariants('makespanMs', around(1000, 8), around(1000, 8, 5)));
    expect(out[0]?.verdict).toBe('pass');
  });

  it('a significant 5% change is no regression past a 10% threshold: pass', () => {
    const out = evaluateGate(stat(), twoVariants('makespanMs', around(1000, 12), around(1050, 12, 2)));
    expect(out[0]?.numbers['pHolm'] as number).toBeLessThan(0.05);
    expect(out[0]?.verdict).toBe('pass');
  });

  it('a noisy comparison whose interval straddles the threshold is inconclusive', () => {
    const a = [800, 1200, 950, 1100, 900, 1300, 1000, 850];
    const b = [900, 1350, 1050, 1250, 1000, 1450, 1100, 950];
    const out = evaluateGate(stat(), twoVariants('makespanMs', a, b));
    expect(out[0]?.verdict).toBe('inconclusive');
    expect(gateExitCode(out, false)).toBe(GATE_EXIT.pass);
    expect(gateExitCode(out, true)).toBe(GATE_EXIT.inconclusive);
  });

  it('a significant change of about 10% whose interval holds the threshold (8% .. 12%) is inconclusive, not a pass', () => {
    const out = evaluateGate(stat(), twoVariants('makespanMs', around(1000, 12), around(1100, 12, 2)));
    expect(out[0]?.numbers['relCiLow'] as number).toBeLessThan(0.1);
    expect(out[0]?.numbers['relCiHigh'] as number).toBeGreaterThan(0.1);
    expect(out[0]?.verdict).toBe('inconclusive');
  });

  it('fewer than minSamples a side is inconclusive even when far apart', () => {
    const out = evaluateGate(stat(), twoVariants('makespanMs', around(1000, 5), around(2000, 5)));
    expect(out[0]?.verdict).toBe('inconclusive');
    expect(out[0]?.message).toMatch(/at least 8 samples a side/);
  });

  it('higher-is-better figures regress when B is lower', () => {
    const out = evaluateGate(stat({ better: 'higher', figure: 'makespanMs' }), twoVariants('makespanMs', around(1000, 8), around(700, 8)));
    expect(out[0]?.verdict).toBe('regression');
    const faster = evaluateGate(stat({ better: 'higher' }), twoVariants('makespanMs', around(1000, 8), around(1300, 8)));
    expect(faster[0]?.verdict).toBe('pass');
  });

  it('refuses samples that were not interleaved', () => {
    const r = new RunRecorder({ command: 'run', argv: [], scenario: 'smoke', backend: 'memory', seed: 1 }).start();
    around(1000, 8).forEach((v, i) => r.sample('A', {}, { repeat: i, order: i, figures: { makespanMs: v } }));
    around(1300, 8).forEach((v, i) => r.sample('B', {}, { repeat: i, order: 8 + i, figures: { makespanMs: v } }));
    const out = evaluateGate(stat(), r.stop(true));
    expect(out[0]?.verdict).toBe('error');
    expect(out[0]?.message).toMatch(/not interleaved/);
  });

  it('Holm: several rules share one correction', () => {
    const two = rules({ version: 1, rules: [{ name: 'm1', kind: 'statistical', figure: 'makespanMs' }, { name: 'm2', kind: 'statistical', figure: 'makespanMs' }] });
    const rec = twoVariants('makespanMs', around(1000, 8), around(1250, 8, 3));
    const [x, y] = evaluateGate(two, rec);
    expect(x?.numbers['pHolm']).toBeCloseTo(2 * (x?.numbers['pValue'] as number), 12);
    expect(y?.numbers['pHolm']).toBe(x?.numbers['pHolm']);
  });

  it('results convert into the run record gates (regression is the record status fail)', () => {
    const r = stat();
    const out = evaluateGate(r, twoVariants('makespanMs', around(1000, 8), around(1250, 8, 3)));
    const [g] = gateRecordsOf(r, out);
    expect(g).toMatchObject({ name: 'makespan', status: 'fail', metric: 'makespanMs' });
    expect(Object.values(g?.values ?? {}).every(Number.isFinite)).toBe(true);
  });
});

describe('sampling until decided', () => {
  it('interleaves A B B A and adds two rounds at a time while inconclusive, up to the cap', async () => {
    expect(interleavedOrder(2, 4).map((s) => 'AB'[s.variant]).join('')).toBe('ABBAABBA');
    expect(interleavedOrder(3, 2).map((s) => 'ABC'[s.variant]).join('')).toBe('ABCCBA');
    const run = async (noisy: boolean, cap: number) => {
      const r = new RunRecorder({ command: 'gate', argv: [], scenario: 'smoke', backend: 'memory', seed: 1 }).start();
      const steps: string[] = [];
      let extraRounds = 0;
      const out = await sampleUntilDecided({
        log: () => extraRounds++,
        rules: stat(),
        sides: 2,
        repeat: 8,
        maxRepeat: cap,
        record: () => r.stop(true),
        runStep: async (step, order) => {
          steps.push('AB'[step.variant] as string);
          // Noisy samples (+-40%) 12% apart never decide; tight ones at 1000 and 1300 do at once.
          const spread = [600, 1400, 1000, 800, 1200][(step.repeat * 3 + step.variant) % 5] as number;
          const v = noisy ? spread * (step.variant === 0 ? 1 : 1.12) : (step.variant === 0 ? 1000 : 1300) + (order % 5);
          r.sample('AB'[step.variant] as string, {}, { repeat: step.repeat, order, figures: { makespanMs: v } });
        },
      });
      return { out, steps: steps.join(''), extraRounds };
    };
    const decided = await run(false, 20);
    expect(decided.out.repeats).toBe(8);
    expect(decided.out.results[0]?.verdict).toBe('regression');
    const capped = await run(true, 12);
    expect(capped.out.repeats).toBe(12);
    expect(capped.steps).toBe('ABBA'.repeat(6));
    expect(capped.extraRounds).toBe(2); // 8 -> 10 -> 12 samples a side
    expect(decided.extraRounds).toBe(0);
    expect(capped.out.results[0]?.verdict).toBe('inconclusive');
  });
});
