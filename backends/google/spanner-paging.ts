// The fan-out's lookup on one shard: users with open tickets in a race, ascending, after a cursor.
// Reads the NULL_FILTERED index TicketsByOpenRace (OpenRaceId, UserId) through the read API with
// a key range on the race: no SQL, so the emulator needs no NULL_FILTERED query hint.
import type { Database } from '@google-cloud/spanner';
import { STORE_LIMITS, check } from './spanner-rows.ts';

/**
 * The index has one entry per open ticket, so a user with several tickets appears several times.
 * Each read takes up to `pageRowsPerRead` entries; the next read starts *after the whole prefix*
 * (raceId, lastUserId) (a `startOpen` on a key prefix excludes every key with that prefix), so a
 * user with many tickets costs at most one extra read.
 */
export async function pageOpenUsers(database: Database, raceId: string, afterUserId: string | undefined, limit: number): Promise<string[]> {
  const users: string[] = [];
  let cursor = afterUserId;
  for (let reads = 0; users.length < limit; reads++) {
    check(reads < STORE_LIMITS.pageReadsMax, () => `paging ${raceId} did not finish within ${STORE_LIMITS.pageReadsMax} reads`);
    const start = cursor === undefined ? { startClosed: [raceId] } : { startOpen: [raceId, cursor] };
    const [rows] = await database.table('Tickets').read({
      index: 'TicketsByOpenRace',
      ranges: [{ ...start, endClosed: [raceId] }],
      columns: ['OpenRaceId', 'UserId'],
      limit: STORE_LIMITS.pageRowsPerRead,
      json: true,
    });
    const entries = rows as { OpenRaceId: string; UserId: string }[];
    for (const e of entries) {
      check(e.OpenRaceId === raceId, () => `index range on ${raceId} returned an entry of ${e.OpenRaceId}`);
      const last = users[users.length - 1] ?? cursor;
      if (e.UserId === last) continue;
      check(last === undefined || e.UserId > last, () => `index entries out of order: ${e.UserId} after ${last}`);
      if (users.length < limit) users.push(e.UserId);
    }
    if (entries.length < STORE_LIMITS.pageRowsPerRead) break;
    cursor = users[users.length - 1] ?? cursor;
  }
  return users;
}
