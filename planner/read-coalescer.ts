// Point reads coalesced per shard in virtual time, as the Spanner store coalesces the settled
// check's getSettlementTotals calls (service-times.ts uses it for the emulators and Google).
import type { Clock } from '../core/ports.ts';
import type { Sizes } from './service-times.ts';

interface Asked {
  readonly apply: () => Promise<unknown>;
  readonly resolve: (r: unknown) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Point reads coalesced per shard, as the Spanner store coalesces getSettlementTotals: the reads
 * of one shard asked in one turn go to the database as one multi-key read. In virtual time a turn
 * is an instant: the reads asked at it are gathered by a zero-delay timer (it fires once everything
 * runnable at that instant has run), then read as one read of their count (`read` prices it), and
 * each is answered from the store at the read's end.
 */
export class ReadCoalescer {
  readonly #pending = new Map<number, Asked[]>();
  readonly #clock: Clock;
  readonly #read: (sizes: Sizes, rows: number) => Promise<void>;
  /** Rows per read so far, in order. */
  readonly readSizes: number[] = [];

  constructor(clock: Clock, read: (sizes: Sizes, rows: number) => Promise<void>) {
    this.#clock = clock;
    this.#read = read;
  }

  add<R>(shard: number, apply: () => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let group = this.#pending.get(shard);
      if (group === undefined) {
        this.#pending.set(shard, (group = []));
        void this.#clock.sleep(0).then(() => this.#flush(shard));
      }
      group.push({ apply, resolve: resolve as (r: unknown) => void, reject });
    });
  }

  async #flush(shard: number): Promise<void> {
    const group = this.#pending.get(shard) ?? [];
    this.#pending.delete(shard);
    this.readSizes.push(group.length);
    try {
      await this.#read({ users: group.length }, group.length);
    } catch (e) {
      for (const w of group) w.reject(e);
      return;
    }
    for (const w of group) {
      try {
        w.resolve(await w.apply());
      } catch (e) {
        w.reject(e);
      }
    }
  }
}
