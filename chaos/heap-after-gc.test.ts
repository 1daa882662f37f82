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
      // Committed heap holds at least the used heap; resident memory at least the used heap.
      expect(h?.committedMb).toBeGreaterThanOrEqual(h?.mb ?? Number.POSITIVE_INFINITY);
      expect(h?.rssMb).toBeGreaterThan(h?.mb ?? Number.POSITIVE_INFINITY);
    } finally {
      watch.stop();
    }
  });

  it('reads the off-heap memory held after the collection: retained Buffers count, dropped ones do not', async () => {
    const watch = watchHeapAfterGc();
    const majors = async (n: number): Promise<number> => {
      const from = watch.latest()?.count ?? 0;
      const churn: number[][] = [];
      const until = Date.now() + 10_000;
      while ((watch.latest()?.count ?? 0) < from + n && Date.now() < until) {
        for (let i = 0; i < 2_000; i++) churn.push(new Array(256).fill(i));
        churn.splice(0, churn.length - 20_000);
        await new Promise((r) => setImmediate(r));
      }
      return watch.latest()?.externalMb ?? Number.NaN;
    };
    try {
      const before = await majors(1);
      const held = Array.from({ length: 64 }, () => Buffer.alloc(1 << 20, 1)); // 64 MB off the heap
      const holding = await majors(1);
      expect(holding - before).toBeGreaterThan(48);
      held.length = 0;
      const released = await majors(2);
      expect(holding - released).toBeGreaterThan(48);
    } finally {
      watch.stop();
    }
  });
});
