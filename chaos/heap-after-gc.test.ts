import { describe, expect, it } from 'vitest';
import { watchHeapAfterGc } from './heap-after-gc.ts';

describe('heap after a major collection', () => {
  it('reads the heap once a full collection ran, and again after the next', async () => {
    const watch = watchHeapAfterGc();
    try {
      // Enough short-lived and some long-lived garbage to make V8 run mark-compact a few times.
      const keep: number[][] = [];
      const until = Date.now() + 10_000;
      while ((watch.latest()?.count ?? 0) < 2 && Date.now() < until) {
        for (let i = 0; i < 2_000; i++) keep.push(new Array(256).fill(i));
        keep.splice(0, keep.length - 20_000);
        await new Promise((r) => setImmediate(r));
      }
      const h = watch.latest();
      expect(h?.count).toBeGreaterThanOrEqual(2);
      expect(h?.mb).toBeGreaterThan(1);
      expect(h?.mb).toBeLessThan(process.memoryUsage().rss / 2 ** 20);
      expect(Math.abs((h?.atMs ?? 0) - Date.now())).toBeLessThan(15_000);
    } finally {
      watch.stop();
    }
  });
});
