// The reconciler's reads of the Spanner store (pipeline/reconcile.ts): which races are still
// unranked, and how far each got. Key-range reads through the read API on every shard; the
// outcome list is one short table (a day has hundreds of races), read once per reconciler round.
import type { Database } from '@google-cloud/spanner';
import { invariant } from '../../core/result.ts';

export interface ProgressDeps {
  readonly databases: readonly Database[];
}

export interface ProgressReads {
  unrankedRaces(): Promise<readonly string[]>;
  racesRankedSince(sinceMs: number): Promise<readonly string[]>;
  terminalUserCount(raceId: string): Promise<number>;
  pageTerminalUsers(raceId: string, afterUserId: string | undefined, limit: number): Promise<readonly string[]>;
}

const WHOLE_TABLE = [{ startClosed: [], endClosed: [] }];

export function createProgressReads(deps: ProgressDeps): ProgressReads {
  const { databases } = deps;
  const everyShard = <T>(fn: (d: Database) => Promise<T>): Promise<T[]> => Promise.all(databases.map(fn));
  return {
    async unrankedRaces() {
      // Outcomes live in the last shard (the store's getOutcome); a race's ranking claim in its home shard.
      const [outcomes] = await (databases[databases.length - 1] as Database).table('RaceOutcomes').read({ ranges: WHOLE_TABLE, columns: ['RaceId'], json: true });
      const claims = await everyShard(async (d) => (await d.table('RankingClaims').read({ ranges: WHOLE_TABLE, columns: ['RaceId', 'PublishedAtMs'], json: true }))[0] as { RaceId: string; PublishedAtMs: number | null }[]);
      const ranked = new Set(claims.flat().filter((c) => c.PublishedAtMs !== null).map((c) => c.RaceId));
      return [...new Set((outcomes as { RaceId: string }[]).map((o) => o.RaceId))].filter((r) => !ranked.has(r)).sort();
    },

    async racesRankedSince(sinceMs) {
      const claims = await everyShard(async (d) => (await d.table('RankingClaims').read({ ranges: WHOLE_TABLE, columns: ['RaceId', 'PublishedAtMs'], json: true }))[0] as { RaceId: string; PublishedAtMs: number | null }[]);
      return [...new Set(claims.flat().filter((c) => c.PublishedAtMs !== null && Number(c.PublishedAtMs) >= sinceMs).map((c) => c.RaceId))].sort();
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
