// What every policy counts, in one place, so the bench matrix and /metrics read the same numbers.
import type { PolicyStats } from '../contracts.ts';

/** Evictions remembered one by one for time-to-evict (8 bytes each); later ones are still counted. */
const TIME_TO_EVICT_SAMPLES_MAX = 1_000_000;

export class StatsRecorder {
  private drops = 0;
  private evictions = 0;
  private readonly timeToEvictMs: number[] = [];
  private maxQueueMessages = 0;
  private maxQueueBytes = 0;

  /** Records one queue's depth after a push, keeping the maxima over every queue. */
  depth(messages: number, bytes: number): void {
    if (messages > this.maxQueueMessages) this.maxQueueMessages = messages;
    if (bytes > this.maxQueueBytes) this.maxQueueBytes = bytes;
  }

  drop(count = 1): void {
    this.drops += count;
  }

  evicted(timeToEvictMs: number): void {
    this.evictions += 1;
    if (this.timeToEvictMs.length < TIME_TO_EVICT_SAMPLES_MAX) this.timeToEvictMs.push(Math.max(0, timeToEvictMs));
  }

  snapshot(): PolicyStats {
    return {
      drops: this.drops,
      evictions: this.evictions,
      timeToEvictMs: [...this.timeToEvictMs],
      maxQueueMessages: this.maxQueueMessages,
      maxQueueBytes: this.maxQueueBytes,
    };
  }
}
