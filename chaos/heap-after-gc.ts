// The JavaScript heap a process keeps after each full (mark-compact) garbage collection: what a
// leak makes grow. Resident memory also moves with the heap's reserved chunks and the allocator,
// in steps and sawteeth that a 30-minute soak cannot tell from growth (docs/chaos.md, "Drift");
// the heap used right after a major collection is what survived it.
import { constants, PerformanceObserver } from 'node:perf_hooks';

export interface HeapAfterGc {
  /** Heap used right after the last major collection, MB. */
  readonly mb: number;
  /**
   * Memory outside the JavaScript heap held by its objects (Buffers, ArrayBuffers: the gRPC
   * clients' message buffers) right after that collection, MB: a leak there shows in resident
   * memory and not in `mb`.
   */
  readonly externalMb: number;
  /**
   * Heap V8 holds committed right after that collection, MB: the used heap plus what it keeps
   * reserved for new objects. It can grow while `mb` stays flat, and shows in resident memory.
   */
  readonly committedMb: number;
  /**
   * The process's resident memory at that moment, MB. Less `committedMb` and `externalMb` it is
   * the memory outside V8's accounting: the allocator's arenas, thread stacks, code.
   */
  readonly rssMb: number;
  /** When that collection ended, ms since the epoch. */
  readonly atMs: number;
  /** Major collections seen so far (a new reading when it changes). */
  readonly count: number;
}

export interface HeapWatch {
  latest(): HeapAfterGc | undefined;
  stop(): void;
}

const toMb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 100) / 100;

export function watchHeapAfterGc(): HeapWatch {
  let last: HeapAfterGc | undefined;
  let count = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (((e as unknown as { detail?: { kind?: number } }).detail)?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      count++;
      // The observer runs just after the collection, before much is allocated again.
      const m = process.memoryUsage();
      last = { mb: toMb(m.heapUsed), externalMb: toMb(m.external), committedMb: toMb(m.heapTotal), rssMb: toMb(m.rss), atMs: Date.now(), count };
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { latest: () => last, stop: () => observer.disconnect() };
}
