// Day missions on Spanner (Store.applyDayProgress): the DayProgress rows of a user's day, the
// bonuses a race earns and the medals they credit, in one read-write transaction of the user's
// shard. Calls that queue behind a busy shard commit together (ShardBatcher, background lane,
// like the other post-settlement writes); calls of one user and day in a batch see each other's
// rows, in order. One call's failure fails that call only: a call whose bonuses cannot be computed
// is left out of the batch's writes (its outcome carries the error), and a batch whose commit
// fails is retried a call per transaction by the ShardBatcher, so one bad call does not fail its
// neighbours.
//
// Reads go through the read API (key ranges, keys), never DML or SQL: the emulator scans for SQL
// inside read-write transactions, and key reads stay fast at any table size (see schema.sql).
import type { Database, Transaction } from '@google-cloud/spanner';
import { checkDayRaceEntry, dayProgressOf, type DayBonusesOf, type DayRaceEntry } from '../../core/missions.ts';
import type { Bonus } from '../../core/ports.ts';
import { invariant } from '../../core/result.ts';
import { assertId } from './spanner-rows.ts';
import { runReadWrite, type TxCounters, type TxRunnerOptions } from './spanner-tx.ts';

export interface DayProgressRequest {
  readonly entry: DayRaceEntry;
  readonly bonusesOf: DayBonusesOf;
}

/** Per call: the bonuses granted now, or why the call failed. */
export type DayProgressOutcome = { readonly ok: true; readonly granted: readonly Bonus[] } | { readonly ok: false; readonly error: unknown };

interface DayRow {
  UserId: string;
  Day: string;
  RaceId: string;
  Hits: number;
  TrifectaHits: number;
}

const DAY_COLUMNS = ['UserId', 'Day', 'RaceId', 'Hits', 'TrifectaHits'];
/** Bonuses.BonusId is STRING(200) and the ledger entry id adds a `bonus:` prefix to it. */
const BONUS_ID_LENGTH_MAX = 190;

export function checkDayProgressRequest(r: DayProgressRequest): void {
  checkDayRaceEntry(r.entry);
  assertId('userId', r.entry.userId);
  assertId('raceId', r.entry.raceId);
}

const dayKey = (userId: string, day: string): string => `${userId}\u0000${day}`;

function checkBonus(b: Bonus, userId: string): void {
  invariant(b.userId === userId, `bonus ${b.bonusId} of ${b.userId} asked with the day progress of ${userId}`);
  invariant(b.bonusId.length > 0 && b.bonusId.length <= BONUS_ID_LENGTH_MAX, `bonus id ${JSON.stringify(b.bonusId)} must be 1..${BONUS_ID_LENGTH_MAX} characters`);
  invariant(Number.isSafeInteger(b.medals) && b.medals > 0, `bonus ${b.bonusId}: medals ${b.medals} must be a positive integer`);
}

/** Records the entries not yet counted and returns, per request, the bonuses they earn (before granting) or its error, and the users' medals. */
async function countEntries(tx: Transaction, reqs: readonly DayProgressRequest[]): Promise<{ earned: (Bonus[] | Error)[]; medals: Map<string, number> }> {
  const days = new Map<string, { userId: string; day: string }>();
  for (const { entry } of reqs) days.set(dayKey(entry.userId, entry.day), { userId: entry.userId, day: entry.day });
  const userIds = [...new Set(reqs.map((r) => r.entry.userId))];
  const [[rows], [users]] = await Promise.all([
    tx.read('DayProgress', { ranges: [...days.values()].map((d) => ({ startClosed: [d.userId, d.day], endClosed: [d.userId, d.day] })), columns: DAY_COLUMNS, json: true }),
    tx.read('Users', { keys: userIds.map((u) => [u]), columns: ['UserId', 'Medals'], json: true }),
  ]);
  const medals = new Map((users as { UserId: string; Medals: number }[]).map((u) => [u.UserId, u.Medals]));
  const counted = new Map<string, Map<string, { hits: number; trifectaHits: number }>>();
  for (const r of rows as DayRow[]) {
    const key = dayKey(r.UserId, r.Day);
    let races = counted.get(key);
    if (races === undefined) counted.set(key, (races = new Map()));
    races.set(r.RaceId, { hits: r.Hits, trifectaHits: r.TrifectaHits });
  }
  const earned = reqs.map(({ entry, bonusesOf }) => {
    const key = dayKey(entry.userId, entry.day);
    let races = counted.get(key);
    if (races === undefined) counted.set(key, (races = new Map()));
    if (races.has(entry.raceId)) return []; // counted before, or earlier in this batch: a redelivery
    let bonuses: Bonus[];
    try {
      invariant(medals.has(entry.userId), `day progress: user ${entry.userId} is not known [USER.UNKNOWN]`);
      bonuses = [...bonusesOf(dayProgressOf(entry.day, [...races.values()]))];
      for (const b of bonuses) checkBonus(b, entry.userId);
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
    races.set(entry.raceId, { hits: entry.hits, trifectaHits: entry.trifectaHits });
    tx.insert('DayProgress', { UserId: entry.userId, Day: entry.day, RaceId: entry.raceId, SettlementId: entry.settlementId, Hits: entry.hits, TrifectaHits: entry.trifectaHits });
    return bonuses;
  });
  return { earned, medals };
}

/** Grants each bonus id once (an id granted before, by any path, is skipped); returns what was granted per request. */
async function grantEarned(tx: Transaction, earned: readonly Bonus[][], medals: Map<string, number>): Promise<Bonus[][]> {
  const all = earned.flat();
  if (all.length === 0) return earned.map(() => []);
  const [existing] = await tx.read('Bonuses', { keys: [...new Set(all.map((b) => b.bonusId))].map((id) => [id]), columns: ['BonusId'], json: true });
  const seen = new Set((existing as { BonusId: string }[]).map((r) => r.BonusId));
  const granted = earned.map((bonuses) =>
    bonuses.filter((b) => {
      if (seen.has(b.bonusId)) return false;
      seen.add(b.bonusId);
      medals.set(b.userId, (medals.get(b.userId) as number) + b.medals);
      tx.insert('Bonuses', { BonusId: b.bonusId, UserId: b.userId, Medals: b.medals, Reason: b.reason });
      tx.insert('Ledger', { UserId: b.userId, EntryId: `bonus:${b.bonusId}`, Currency: 'medal', Amount: b.medals, Reason: 'bonus', Ref: b.bonusId });
      return true;
    }),
  );
  const credited = new Set(granted.flat().map((b) => b.userId));
  for (const userId of credited) tx.update('Users', { UserId: userId, Medals: medals.get(userId) });
  return granted;
}

/** One transaction applying the day progress of several calls (one shard); per call, the bonuses granted now or its error. */
export function applyDayProgressBatch(database: Database, counters: TxCounters, options: TxRunnerOptions, reqs: readonly DayProgressRequest[]): Promise<DayProgressOutcome[]> {
  return runReadWrite(
    database,
    counters,
    async (tx: Transaction) => {
      const { earned, medals } = await countEntries(tx, reqs);
      const granted = await grantEarned(tx, earned.map((e) => (e instanceof Error ? [] : e)), medals);
      return earned.map((e, i): DayProgressOutcome => (e instanceof Error ? { ok: false, error: e } : { ok: true, granted: granted[i] as Bonus[] }));
    },
    options,
  );
}

