// The reconciler's reads of the Spanner store (pipeline/reconcile.ts): which races are still
// unranked, and how far each got. Key-range reads through the read API on every shard; the
// outcome list is one short table (a day has hundreds of races), read once per reconciler round.
import type { Database } from '@google-cloud/spanner';
import { invariant } from '../../core/result.ts';

export interface ProgressDeps {
  readonly databases: readonly Database[];
}

export interface ProgressReads {
  unrankedRaces(sinceMs: number): Promise<readonly string[]>;
  racesRankedSince(sinceMs: number): Promise<readonly string[]>;
  terminalUserCount(raceId: string): Promise<number>;
  pageTerminalUsers(raceId: string, afterUserId: string | undefined, limit: number): Promise<readonly string[]>;
}

/**
 * An index's key range from `sinceMs` on (Spanner sorts NULL first, so an unset time is not in it).
 * The bounds are clamped to INT64 (a caller may ask for "since ever" with a large negative number).
 */
function since(sinceMs: number): { startClosed: string[]; endClosed: string[] }[] {
  const from = Math.max(Math.ceil(sinceMs), Number.MIN_SAFE_INTEGER);
  return [{ startClosed: [String(from)], endClosed: [] }];
}

export function createProgressReads(deps: ProgressDeps): ProgressReads {
  const { databases } = deps;
  const everyShard = <T>(fn: (d: Database) => Promise<T>): Promise<T[]> => Promise.all(databases.map(fn));
  return {
    async unrankedRaces(sinceMs) {
      // Outcomes live in the last shard (the store's getOutcome), read by publication time through
      // their index; those races' claims are then read by key in every shard (a claim lives in its
      // race's home shard).
      const [outcomes] = await (databases[databases.length - 1] as Database).table('RaceOutcomes').read({ index: 'RaceOutcomesByTime', ranges: since(sinceMs), columns: ['RaceId'], json: true });
      const recent = [...new Set((outcomes as { RaceId: string }[]).map((o) => o.RaceId))];
      if (recent.length === 0) return [];
      const claims = await everyShard(async (d) => (await d.table('RankingClaims').read({ keys: recent, columns: ['RaceId', 'PublishedAtMs'], json: true }))[0] as { RaceId: string; PublishedAtMs: number | null }[]);
      const ranked = new Set(claims.flat().filter((c) => c.PublishedAtMs !== null).map((c) => c.RaceId));
      return recent.filter((r) => !ranked.has(r)).sort();
    },

    async racesRankedSince(sinceMs) {
      const claims = await everyShard(async (d) => (await d.table('RankingClaims').read({ index: 'RankingClaimsByPublished', ranges: since(sinceMs), columns: ['RaceId'], json: true }))[0] as { RaceId: string }[]);
      return [...new Set(claims.flat().map((c) => c.RaceId))].sort();
    },

    async terminalUserCount(raceId) {
      // A dead-lettered user gets a PostSettled row too, so this is the barrier's own count.
      const counts = await everyShard(async (d) => ((await d.table('PostSettledCounts').read({ keys: [raceId], columns: ['UsersMarked'], json: true }))[0] as { UsersMarked: number }[])[0]?.UsersMarked ?? 0);
      return counts.reduce((a, b) => a + b, 0);
    },

    async pageTerminalUsers(raceId, afterUserId, limit) {
      invariant(Number.isSafeInteger(limit) && limit >= 1, `page limit ${limit} must be a positive integer`);
      const start = afterUserId === undefined ? { startClosed: [raceId] } : { startOpen: [raceId, afterUserId] };
      const pages = await everyShard(async (d) => (await d.table('PostSettled').read({ ranges: [{ ...start, endClosed: [raceId] }], columns: ['UserId'], limit, json: true }))[0] as { UserId: string }[]);
      return pages
        .flat()
        .map((r) => r.UserId)
        .sort()
        .slice(0, limit);
    },
  };
}
