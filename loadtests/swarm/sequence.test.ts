// Proves the sequence counting the swarm reports delivery with: a clean stream counts nothing, and a
// duplicate, a gap and a late arrival are each counted once, where they happened.
import { describe, expect, it } from 'vitest';
import { createSequenceTracker } from './sequence.ts';

describe('sequence tracker', () => {
  it('a clean stream: nothing lost, duplicated or out of order', () => {
    const t = createSequenceTracker();
    for (let s = 1; s <= 200; s++) expect(t.accept(s)).toBe('new');
    expect(t.counts()).toEqual({ distinct: 200, duplicates: 0, outOfOrder: 0, maxSeq: 200, contiguous: 200 });
    expect(t.lostOf(200)).toBe(0);
    expect(t.lostOf(203)).toBe(3);
  });

  it('counts a duplicate, a gap and a late arrival', () => {
    const t = createSequenceTracker();
    for (const s of [1, 2, 2, 4, 5, 3, 7]) t.accept(s);
    expect(t.counts()).toEqual({ distinct: 6, duplicates: 1, outOfOrder: 1, maxSeq: 7, contiguous: 5 });
    expect(t.lostOf(7)).toBe(1); // 6 never came
  });

  it('refuses a sequence that is not a positive integer', () => {
    expect(() => createSequenceTracker().accept(0)).toThrow(/SWARM.BAD_SEQUENCE/);
  });
});
