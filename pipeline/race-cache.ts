// Per-worker cache of what every message of a race needs: the race's field and its official
// payout table, parsed once per (race, result version) instead of once per user.
import type { PayoutTable } from '../core/payout-table.ts';
import { payoutTableFromJson } from '../core/payout-json.ts';
import type { RaceInfo, RaceOutcome, Store } from '../core/ports.ts';
import type { Field } from '../core/sports.ts';
import { buildOutcomeLookup, type OutcomeLookup } from '../core/settle-columns.ts';

export interface RaceContext {
  readonly race: RaceInfo;
  readonly outcome: RaceOutcome;
  readonly field: Field;
  readonly table: PayoutTable;
  /** The payout table flattened for the columnar settle path, built on first use. */
  lookup(): OutcomeLookup;
}

export type RaceLookup =
  | { readonly kind: 'ok'; readonly context: RaceContext }
  /** The race or its outcome is not recorded (a poison or premature message). */
  | { readonly kind: 'unknown'; readonly reason: string }
  /** The message names a result version other than the recorded one. */
  | { readonly kind: 'stale'; readonly recordedVersion: number };

/** Bounded so a long-running worker does not grow without limit; races of a day fit easily. */
const RACE_CACHE_MAX = 256;

export interface RaceCache {
  lookup(raceId: string, resultVersion: number): Promise<RaceLookup>;
}

export function createRaceCache(store: Store): RaceCache {
  const cache = new Map<string, RaceContext>();
  // Lookups in progress, by key: the hundreds of deliveries that arrive together when a race's
  // fan-out starts share one pair of store reads instead of each reading the race and its outcome.
  const loading = new Map<string, Promise<RaceLookup>>();
  const load = async (raceId: string, resultVersion: number, key: string): Promise<RaceLookup> => {
    const race = await store.getRace(raceId);
    if (race === undefined) return { kind: 'unknown', reason: `race "${raceId}" is unknown` };
    const outcome = await store.getOutcome(raceId);
    if (outcome === undefined) return { kind: 'unknown', reason: `race "${raceId}" has no recorded result` };
    if (outcome.resultVersion !== resultVersion) return { kind: 'stale', recordedVersion: outcome.resultVersion };
    const table = payoutTableFromJson(outcome.payoutTableJson);
    // The table was written by ingest from a validated result: failing to read it back is a bug.
    if (!table.ok) throw new Error(`invariant violated: stored payout table of ${raceId} does not parse: ${table.error.message}`);
    const field = { sport: race.sport, riders: race.riders };
    let lookup: OutcomeLookup | undefined;
    const context: RaceContext = { race, outcome, field, table: table.value, lookup: () => (lookup ??= buildOutcomeLookup(table.value, field)) };
    if (cache.size >= RACE_CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(key, context);
    return { kind: 'ok', context };
  };
  return {
    lookup(raceId, resultVersion) {
      const key = `${raceId}\u0000${resultVersion}`;
      const hit = cache.get(key);
      if (hit !== undefined) return Promise.resolve({ kind: 'ok', context: hit });
      let pending = loading.get(key);
      if (pending === undefined) {
        // Only `ok` answers are cached: an unknown race may be recorded a moment later.
        pending = load(raceId, resultVersion, key).finally(() => loading.delete(key));
        loading.set(key, pending);
      }
      return pending;
    },
  };
}
