import { describe, expect, it } from 'vitest';
import type { ReliabilityFigures } from './contracts.ts';
import { figuresText, percentile, recoveryAfter, redrivenOf, totalFigures } from './figures.ts';

describe('recoveryAfter', () => {
  const progress = [
    { tMs: 0, done: 0 },
    { tMs: 100, done: 10 },
    { tMs: 200, done: 10 },
    { tMs: 300, done: 10 },
    { tMs: 450, done: 12 },
    { tMs: 600, done: 20 },
  ];
  it('is fault end -> the first sample where progress moved on', () => {
    expect(recoveryAfter(250, progress, 20)).toBe(200);
    expect(recoveryAfter(100, progress, 20)).toBe(350);
  });
  it('leaves out the time the run gave no work (a soak day checked, the next loaded)', () => {
    // The fault ends at 250 inside an idle stretch 200-400: only 250-400 of the 200 ms to the
    // next move is idle, so 50 ms count. Idle time outside the stretch changes nothing.
    expect(recoveryAfter(250, progress, 20, [{ fromMs: 200, toMs: 400 }])).toBe(50);
    expect(recoveryAfter(250, progress, 20, [{ fromMs: 0, toMs: 100 }, { fromMs: 500, toMs: 600 }])).toBe(200);
    expect(recoveryAfter(100, progress, 20, [{ fromMs: 150, toMs: 250 }, { fromMs: 300, toMs: 350 }])).toBe(200);
  });
  it('is null when the stage had nothing left to do, or never moved again', () => {
    expect(recoveryAfter(600, progress, 20)).toBeNull();
    expect(recoveryAfter(600, progress, 30)).toBeNull();
  });
});

const run = (seed: number, over: Partial<ReliabilityFigures> = {}): ReliabilityFigures => ({
  seed,
  scenario: 'smoke',
  faultsByKind: { kill: 2 },
  faults: [
    { kind: 'kill', target: 'settle-1', phase: 'settle', atMs: 10, durationMs: 100, recoveredAfterMs: 40 },
    { kind: 'kill', target: 'fanout-1', phase: 'fanout', atMs: 5, durationMs: 100, recoveredAfterMs: null },
  ],
  tickets: 100,
  users: 10,
  settledExactlyOnce: 100,
  lost: 0,
  doubled: 0,
  deadLettered: {},
  notificationsLostAfterRecovery: 0,
  notificationsDuplicatedAfterRecovery: 0,
  recoveryMs: { p50: 40, max: 40 },
  ok: true,
  violations: [],
  ...over,
});

describe('totalFigures', () => {
  it('adds runs up and judges them: a loss anywhere fails the total', () => {
    const t = totalFigures([run(1), run(2, { lost: 1, settledExactlyOnce: 99, ok: false, deadLettered: { 'SETTLE.REFUSED': 1 }, faults: [{ kind: 'kill', target: 'x', phase: 'settle', atMs: 0, durationMs: 1, recoveredAfterMs: 900 }] })]);
    expect(t).toMatchObject({ runs: 2, faults: 3, tickets: 200, settledExactlyOnce: 199, lost: 1, failedRuns: 1, ok: false, faultsByKind: { kill: 4 }, deadLettered: { 'SETTLE.REFUSED': 1 }, recoveryMeasured: 2, recoveryNotNeeded: 1, recoveryMs: { p50: 40, max: 900 } });
    expect(totalFigures([run(1), run(2)]).ok).toBe(true);
    expect(figuresText([run(1)], totalFigures([run(1)]))).toContain('1 run: 2 faults (kill 2); 100 tickets, 100 settled exactly once, 0 lost, 0 doubled');
  });
  it('percentile is nearest-rank', () => {
    expect(percentile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(percentile([], 0.5)).toBe(0);
  });
});

describe('redrivenOf', () => {
  it('reads the reconciler counters the fleet summed, less what earlier days counted, and totals them', () => {
    const counters = { redriveFanouts: 1, redriveRaces: 2, redriveUsers: 5, deadLettered: 9 };
    expect(redrivenOf(counters, false)).toBeUndefined();
    expect(redrivenOf(counters, true)).toEqual({ fanouts: 1, races: 2, users: 5 });
    expect(redrivenOf(counters, true, { fanouts: 0, races: 1, users: 2 })).toEqual({ fanouts: 1, races: 1, users: 3 });
    expect(redrivenOf({}, true)).toEqual({ fanouts: 0, races: 0, users: 0 });
    const totals = totalFigures([run(1, { redriven: { fanouts: 1, races: 2, users: 5 } }), run(2, { redriven: { fanouts: 0, races: 1, users: 1 } })]);
    expect(totals.redriven).toEqual({ fanouts: 1, races: 3, users: 6 });
    expect(totalFigures([run(1)]).redriven).toBeUndefined();
    expect(figuresText([run(1, { redriven: { fanouts: 0, races: 1, users: 4 } })], totals)).toContain('re-driven 1 race(s), 4 user(s), 0 fan-out(s)');
  });
});
