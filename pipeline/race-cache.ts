// Per-worker cache of what every message of a race needs: the race's field and its official
// payout table, parsed once per race instead of once per user. The recorded outcome of a race
// never changes (result finality, docs/result-finality.md), so the cache is keyed by race alone.
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
  /**
   * The message names a result version other than the recorded (final) one: no settlement may
   * use it, so it is refused (RESULT.ALREADY_FINAL) rather than acked as if it were done.
   */
  | { readonly kind: 'not-final'; readonly recordedVersion: number; readonly reason: string };

/** Bounded so a long-running worker does not grow without limit; races of a day fit easily. */
const RACE_CACHE_MAX = 256;

export interface RaceCache {
  lookup(raceId: string, resultVersion: number): Promise<RaceLookup>;
}

function versionCheck(context: RaceContext, resultVersion: number): RaceLookup {
  const recorded = context.outcome.resultVersion;
  if (recorded === resultVersion) return { kind: 'ok', context };
  const reason = `race ${context.race.raceId} is final at result v${recorded}; this message names v${resultVersion}, which was never recorded`;
  return { kind: 'not-final', recordedVersion: recorded, reason };
}

export function createRaceCache(store: Store): RaceCache {
  const cache = new Map<string, RaceContext>();
  // Lookups in progress, by race: the hundreds of deliveries that arrive together when a race's
  // fan-out starts share one pair of store reads instead of each reading the race and its outcome.
  const loading = new Map<string, Promise<RaceContext | string>>();
  const load = async (raceId: string): Promise<RaceContext | string> => {
    const race = await store.getRace(raceId);
    if (race === undefined) return `race "${raceId}" is unknown`;
    const outcome = await store.getOutcome(raceId);
    if (outcome === undefined) return `race "${raceId}" has no recorded result`;
    const table = payoutTableFromJson(outcome.payoutTableJson);
    // The table was written by ingest from a validated result: failing to read it back is a bug.
    if (!table.ok) throw new Error(`invariant violated: stored payout table of ${raceId} does not parse: ${table.error.message}`);
    const field = { sport: race.sport, riders: race.riders };
    let lookup: OutcomeLookup | undefined;
    const context: RaceContext = { race, outcome, field, table: table.value, lookup: () => (lookup ??= buildOutcomeLookup(table.value, field)) };
    if (cache.size >= RACE_CACHE_MAX) cache.delete(cache.keys().next().value as string);
    cache.set(raceId, context);
    return context;
  };
  return {
    async lookup(raceId, resultVersion) {
      const hit = cache.get(raceId);
      if (hit !== undefined) return versionCheck(hit, resultVersion);
      let pending = loading.get(raceId);
      if (pending === undefined) {
        // Only known outcomes are cached: an unknown race may be recorded a moment later.
        pending = load(raceId).finally(() => loading.delete(raceId));
        loading.set(raceId, pending);
      }
      const loaded = await pending;
      return typeof loaded === 'string' ? { kind: 'unknown', reason: loaded } : versionCheck(loaded, resultVersion);
    },
  };
}
