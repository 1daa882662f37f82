// The progress display: a bar redrawn in place on a terminal, plain lines in a log or on CI, with
// the phase, done/total, the phase's rate and the ETA; short work prints nothing.
import { describe, expect, it } from 'vitest';
import { createProgress, defaultProgressMode, formatDuration, type ProgressMode } from './progress.ts';

function harness(mode: ProgressMode) {
  let now = 0;
  const written: string[] = [];
  const p = createProgress({ mode, label: 'variants', write: (t) => void written.push(t), nowMs: () => now, barEveryMs: 250, lineEveryMs: 5_000 });
  return { p, written, at: (ms: number) => (now = ms) };
}

describe('progress', () => {
  it('is a bar on a terminal, lines in a pipe or whenever CI is set', () => {
    expect(defaultProgressMode(true, {})).toBe('bar');
    expect(defaultProgressMode(false, {})).toBe('lines');
    expect(defaultProgressMode(undefined, {})).toBe('lines');
    expect(defaultProgressMode(true, { CI: 'true' })).toBe('lines');
    expect(defaultProgressMode(true, { CI: 'false' })).toBe('bar');
  });

  it('draws the bar with phase, done/total, rate and ETA, throttled, and ends its line', () => {
    const h = harness('bar');
    h.p.phase('sampling', { total: 16 });
    h.at(100);
    h.p.update(1); // within the redraw interval: not drawn
    h.at(2_000);
    h.p.update(4, 'A: 412 ms');
    h.p.done();
    expect(h.written).toEqual(['\rvariants 2 s sampling [#####               ] 4/16 (25.0%) 2.0/s ETA 6 s A: 412 ms   ', '\n']);
  });

  it('prints lines every interval off a terminal; the rate and ETA restart with each phase', () => {
    const h = harness('lines');
    h.p.phase('loading', { total: 1_000 });
    h.at(1_000);
    h.p.update(500);
    expect(h.written).toEqual([]); // a short run stays quiet
    h.at(5_000);
    h.p.update(1_000);
    h.p.phase('settling', { total: 3_000, startDone: 1_000 });
    h.at(10_000);
    h.p.update(2_000);
    h.at(12_000);
    h.p.phase('checking');
    h.p.update(7);
    h.p.done();
    expect(h.written).toEqual([
      'variants 5 s loading: 1,000/1,000 (100.0%) 200/s ETA 0 s\n',
      'variants 5 s settling: 1,000/3,000 (33.3%)\n',
      'variants 10 s settling: 2,000/3,000 (66.7%) 200/s ETA 5 s\n',
      'variants 12 s checking: 0\n',
    ]);
  });

  it('takes the total with an update when it is known only then', () => {
    const h = harness('lines');
    h.p.phase('sampling');
    h.at(6_000);
    h.p.update(3, 'last: B #1', 12);
    expect(h.written).toEqual(['variants 6 s sampling: 3/12 (25.0%) 0.50/s ETA 18 s last: B #1\n']);
  });

  it('prints nothing when off', () => {
    const h = harness('off');
    h.at(60_000);
    h.p.phase('x', { total: 1 });
    h.p.update(1);
    h.p.done();
    expect(h.written).toEqual([]);
  });

  it('says durations the way people read them', () => {
    expect([formatDuration(4.4), formatDuration(185), formatDuration(3_720)]).toEqual(['4 s', '3 min 5 s', '1 h 02 min']);
  });
});
