// Proves the race cache reads a race and its outcome once for many concurrent deliveries (the
// burst at the start of a fan-out), refuses a message naming another result version than the recorded one,
// answers unknown races as such, and does not cache an
// unknown race, so a race recorded a moment later is found.
import { describe, expect, it } from 'vitest';
import { computePayoutTable } from '../core/payout.ts';
import { payoutTableToJson } from '../core/payout-json.ts';
import type { RaceInfo, RaceOutcome, Store } from '../core/ports.ts';
import { createRaceCache } from './race-cache.ts';

const RACE: RaceInfo = { raceId: 'r1', sport: 'keirin', riders: 7, closeAtMs: 0, postAtMs: 1 };
const table = computePayoutTable({ field: { sport: 'keirin', riders: 7 }, scratched: [], result: { status: 'official', order: [[1], [2], [3], [4], [5], [6], [7]] }, pools: {} });
const OUTCOME: RaceOutcome = { raceId: 'r1', resultVersion: 2, resultJson: '{}', payoutTableJson: payoutTableToJson(table), publishedAtMs: 0 };

/** A store with one race (once `recorded`) whose reads are counted and answer a tick later. */
function countingStore() {
  const reads = { race: 0, outcome: 0 };
  const state = { recorded: true };
  const later = <T>(v: T) => new Promise<T>((r) => setTimeout(() => r(v), 1));
  const store = {
    getRace: (id: string) => (reads.race++, later(state.recorded && id === RACE.raceId ? RACE : undefined)),
    getOutcome: (id: string) => (reads.outcome++, later(state.recorded && id === RACE.raceId ? OUTCOME : undefined)),
  } as unknown as Store;
  return { store, reads, state };
}

describe('createRaceCache', () => {
  it('reads a race once for a burst of concurrent lookups, then serves it from memory', async () => {
    const { store, reads } = countingStore();
    const cache = createRaceCache(store);
    const answers = await Promise.all(Array.from({ length: 50 }, () => cache.lookup('r1', 2)));
    expect(answers.every((a) => a.kind === 'ok' && a.context.race.raceId === 'r1' && a.context.outcome.resultVersion === 2)).toBe(true);
    expect(reads).toEqual({ race: 1, outcome: 1 });
    expect((await cache.lookup('r1', 2)).kind).toBe('ok');
    expect(reads).toEqual({ race: 1, outcome: 1 });
  });

  it('tells another result version and an unknown race apart', async () => {
    const { store, reads } = countingStore();
    const cache = createRaceCache(store);
    expect(await cache.lookup('r1', 1)).toMatchObject({ kind: 'not-final', recordedVersion: 2, reason: expect.stringContaining('final at result v2') });
    // A cached race answers other versions from memory too (the recorded outcome never changes).
    expect((await cache.lookup('r1', 2)).kind).toBe('ok');
    expect((await cache.lookup('r1', 3)).kind).toBe('not-final');
    expect(reads).toEqual({ race: 1, outcome: 1 });
    expect(await cache.lookup('nope', 1)).toEqual({ kind: 'unknown', reason: 'race "nope" is unknown' });
  });

  it('does not remember that a race was unknown', async () => {
    const { store, reads, state } = countingStore();
    state.recorded = false;
    const cache = createRaceCache(store);
    expect((await cache.lookup('r1', 2)).kind).toBe('unknown');
    state.recorded = true;
    expect((await cache.lookup('r1', 2)).kind).toBe('ok');
    expect(reads.race).toBe(2);
  });
});
