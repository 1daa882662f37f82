// What the checkers and the post-settlement steps read back from Spanner: the port's
// StoreReadback (balances, tickets with status and payout, markers, ledger totals, bonuses,
// ranking claims) and the settlement read-backs the pipeline uses after the fact
// (getSettlementTotals, pageSettlementTotals, fanoutUsers, and the full getSettlement). Per-user reads go through the read API;
// whole-table listings stream SQL per shard, which is fine off the hot path.
import type { Database } from '@google-cloud/spanner';
import type { GrantedBonus, LedgerTotals, RankingClaim, SettlementMarker, SettlementTotals, StoreReadback, StoredTicket, UserAccount } from '../../core/ports.ts';
import { invariant } from '../../core/result.ts';
import type { LedgerEntry, LedgerReason, Settlement, TicketOutcome } from '../../core/settlement-record.ts';
import { MARKER_COLUMNS, TICKET_COLUMNS, USER_COLUMNS, ticketStateFromRow, userFromRow, type MarkerRow, type TicketRow, type UserRow } from './spanner-rows.ts';
import { LaneGate, ShardBatcher, uniqueKeys } from './spanner-batch.ts';
import { readTicketRows, streamUserLedgers } from './spanner-readback.ts';
import { settlementEntryRange } from './spanner-settle.ts';

export interface CheckDeps {
  readonly databases: readonly Database[];
  readonly userShard: (userId: string) => number;
  readonly raceShard: (raceId: string) => number;
}

export interface SettlementReads {
  getSettlement(raceId: string, userId: string): Promise<Settlement | undefined>;
  getSettlementTotals(raceId: string, userId: string): Promise<SettlementTotals | undefined>;
  pageSettlementTotals(raceId: string, afterUserId: string | undefined, limit: number): Promise<readonly SettlementTotals[]>;
  fanoutUsers(raceId: string): Promise<number | undefined>;
}

const REASONS: readonly LedgerReason[] = ['stake', 'payout', 'refund', 'special', 'bonus'];

function storedTicketOf(r: TicketRow): StoredTicket {
  const { settlementId: _s, ...t } = ticketStateFromRow(r);
  return { ...t, per100: t.per100 ?? 0, payout: t.payout ?? 0 };
}

function totalsOf(r: MarkerRow): SettlementTotals {
  return { userId: r.UserId, settlementId: r.SettlementId, cash: r.CashDelta, medals: r.MedalDelta, hits: r.Hits, trifectaHits: r.TrifectaHits };
}

/**
 * Settlement-total reads of one shard in flight at a time; calls made meanwhile wait and share the
 * next read (up to TOTALS_READS.keysMax keys). Why: post-settle and notify each read the stored
 * totals of every `settled` message before acting on it (the forged-message check), so a race of
 * N users costs 2N point reads. A worker's deliveries arrive in bursts (a pull answers many at
 * once), and a burst's reads are one multi-key read this way.
 */
export const TOTALS_READS = { inFlight: 2, keysMax: 500 } as const;

interface TotalsKey {
  readonly raceId: string;
  readonly userId: string;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Streams a SQL query's rows from every shard, one shard after another. */
async function* streamAll<T>(databases: readonly Database[], sql: string, params: Record<string, unknown> = {}): AsyncGenerator<T> {
  for (const d of databases) {
    for await (const row of d.runStream({ sql, params, json: true })) yield row as T;
  }
}

function zeroByReason(): Record<LedgerReason, number> {
  return Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<LedgerReason, number>;
}

/** One multi-key read of settlement totals; answers in the order asked (undefined where none is stored). */
async function readTotals(database: Database, keys: readonly TotalsKey[]): Promise<(SettlementTotals | undefined)[]> {
  const idOf = (userId: string, raceId: string): string => `${userId}\u0000${raceId}`;
  // A burst may name a key twice (a redelivered message): each key is read once.
  const [rows] = await database.table('Settlements').read({ keys: uniqueKeys(keys.map((k) => [k.userId, k.raceId])), columns: MARKER_COLUMNS, json: true });
  const found = new Map((rows as MarkerRow[]).map((r) => [idOf(r.UserId, r.RaceId), totalsOf(r)]));
  return keys.map((k) => found.get(idOf(k.userId, k.raceId)));
}

export function createSettlementReads(deps: CheckDeps): SettlementReads {
  const db = (shard: number): Database => deps.databases[shard] as Database;
  const totalsReaders = deps.databases.map(
    (d) => new ShardBatcher<TotalsKey, SettlementTotals | undefined>(new LaneGate(TOTALS_READS.inFlight), (keys) => readTotals(d, keys), TOTALS_READS.keysMax),
  );
  return {
    async getSettlement(raceId, userId) {
      const d = db(deps.userShard(userId));
      const [markers] = await d.table('Settlements').read({ keys: [[userId, raceId]], columns: MARKER_COLUMNS, json: true });
      const m = (markers as MarkerRow[])[0];
      if (m === undefined) return undefined;
      const [[ticketRows], [ledgerRows]] = await Promise.all([
        d.table('Tickets').read({ ranges: [{ startClosed: [userId, raceId], endClosed: [userId, raceId] }], columns: TICKET_COLUMNS, json: true }),
        d.table('Ledger').read({ ranges: [settlementEntryRange(userId, m.SettlementId)], columns: ['Currency', 'Amount', 'Reason', 'Ref'], json: true }),
      ]);
      const outcomes: TicketOutcome[] = (ticketRows as TicketRow[]).map(ticketStateFromRow).map((t) => {
        invariant(t.status !== 'open' && t.settlementId === m.SettlementId, `ticket ${t.ticketId} of settled ${userId}/${raceId} is ${t.status} under ${t.settlementId}`);
        return { ticketId: t.ticketId, status: t.status, per100: t.per100 ?? 0, payout: t.payout ?? 0, currency: t.currency, betType: t.betType };
      });
      const ledger: LedgerEntry[] = (ledgerRows as { Currency: LedgerEntry['currency']; Amount: number; Reason: LedgerReason; Ref: string }[]).map((r) => ({
        userId,
        currency: r.Currency,
        amount: r.Amount,
        reason: r.Reason,
        ref: r.Ref,
      }));
      return { settlementId: m.SettlementId, raceId, userId, resultVersion: m.ResultVersion, outcomes, ledger, cashDelta: m.CashDelta, medalDelta: m.MedalDelta, hits: m.Hits };
    },

    getSettlementTotals(raceId, userId) {
      const reader = totalsReaders[deps.userShard(userId)];
      invariant(reader !== undefined, `user ${userId} maps to no shard`);
      return reader.add({ raceId, userId });
    },

    async pageSettlementTotals(raceId, afterUserId, limit) {
      invariant(Number.isSafeInteger(limit) && limit >= 1, `page limit ${limit} must be a positive integer`);
      const start = afterUserId === undefined ? { startClosed: [raceId] } : { startOpen: [raceId, afterUserId] };
      const pages = await Promise.all(
        deps.databases.map(async (d) => {
          const [rows] = await d.table('Settlements').read({ index: 'SettlementsByRace', ranges: [{ ...start, endClosed: [raceId] }], columns: MARKER_COLUMNS, limit, json: true });
          return rows as MarkerRow[];
        }),
      );
      return pages
        .flat()
        .sort((a, b) => byString(a.UserId, b.UserId))
        .slice(0, limit)
        .map(totalsOf);
    },

    async fanoutUsers(raceId) {
      const [rows] = await db(deps.raceShard(raceId)).table('FanoutCounts').read({ keys: [raceId], columns: ['UsersFound'], json: true });
      return (rows as { UsersFound: number }[])[0]?.UsersFound;
    },
  };
}

/** Tickets read by key in one call when a race is walked. */
const TICKET_KEYS_PER_READ = 2_000;
/** TicketsByRace's key (it names every primary key column of Tickets, so it is unique). */
const RACE_INDEX_KEY = ['RaceId', 'Currency', 'UserId', 'TicketId'] as const;

export function createStoreReadback(deps: CheckDeps): StoreReadback {
  const { databases } = deps;
  const userDb = (userId: string): Database => databases[deps.userShard(userId)] as Database;
  return {
    async balances(userId) {
      const [rows] = await userDb(userId).table('Users').read({ keys: [userId], columns: USER_COLUMNS, json: true });
      const r = (rows as UserRow[])[0];
      return r === undefined ? undefined : userFromRow(r);
    },

    async *users(): AsyncGenerator<UserAccount> {
      for await (const r of streamAll<UserRow>(databases, 'SELECT UserId, CashYen, Medals FROM Users')) yield userFromRow(r);
    },

    async *ticketsOfRace(raceId): AsyncGenerator<StoredTicket> {
      // The race index's key range for the keys, then the rows by key, a page at a time: a filter
      // on RaceId over the base table (keyed by user) scans every ticket ever stored, and the
      // emulator's SQL does so even with the index forced. Each page resumes after the last key of
      // the one before, so no stream is held open between pages and a caller that stops walking
      // early leaves no session behind.
      for (const d of databases) {
        const table = d.table('Tickets');
        let after: unknown[] | undefined;
        for (;;) {
          const range = after === undefined ? { startClosed: [raceId], endClosed: [raceId] } : { startOpen: after, endClosed: [raceId] };
          const [page] = await table.read({ index: 'TicketsByRace', ranges: [range], columns: [...RACE_INDEX_KEY], limit: TICKET_KEYS_PER_READ, json: true });
          const keys = page as Record<(typeof RACE_INDEX_KEY)[number], string>[];
          if (keys.length === 0) break;
          const [rows] = await table.read({ keys: keys.map((k) => [k.UserId, k.RaceId, k.TicketId]), columns: TICKET_COLUMNS, json: true });
          for (const r of rows as TicketRow[]) yield storedTicketOf(r);
          if (keys.length < TICKET_KEYS_PER_READ) break;
          const last = keys[keys.length - 1] as Record<(typeof RACE_INDEX_KEY)[number], string>;
          after = RACE_INDEX_KEY.map((c) => last[c]);
        }
      }
    },

    async ticketsOfUser(userId, raceId) {
      return (await readTicketRows(userDb(userId), userId, raceId)).map(storedTicketOf);
    },

    async settlementMarkers(raceId): Promise<readonly SettlementMarker[]> {
      // A key range of the race index in each shard (a SQL filter on RaceId scans the whole table
      // on the emulator). No `applications` count: the (UserId, RaceId) primary key makes a second
      // application impossible to store, so there is nothing above 1 to count.
      const shards = await Promise.all(
        databases.map(async (d) => {
          const [rows] = await d.table('Settlements').read({ index: 'SettlementsByRace', ranges: [{ startClosed: [raceId], endClosed: [raceId] }], columns: ['UserId', 'SettlementId', 'ResultVersion'], json: true });
          return rows as Pick<MarkerRow, 'UserId' | 'SettlementId' | 'ResultVersion'>[];
        }),
      );
      const out: SettlementMarker[] = shards.flat().map((r) => ({ userId: r.UserId, settlementId: r.SettlementId, resultVersion: r.ResultVersion }));
      return out.sort((a, b) => byString(a.userId, b.userId));
    },

    async ledgerTotals(userId): Promise<LedgerTotals | undefined> {
      const d = userDb(userId);
      const [[users], [entries]] = await Promise.all([
        d.table('Users').read({ keys: [userId], columns: ['InitialCashYen', 'InitialMedals'], json: true }),
        d.table('Ledger').read({ ranges: [{ startClosed: [userId], endClosed: [userId] }], columns: ['Currency', 'Amount', 'Reason'], json: true }),
      ]);
      const u = (users as { InitialCashYen: number; InitialMedals: number }[])[0];
      if (u === undefined) return undefined;
      const cash = zeroByReason();
      const medal = zeroByReason();
      for (const e of entries as { Currency: string; Amount: number; Reason: LedgerReason }[]) {
        invariant(REASONS.includes(e.Reason) && Number.isSafeInteger(e.Amount), `ledger row of ${userId}: ${e.Reason} ${e.Amount}`);
        (e.Currency === 'cash' ? cash : medal)[e.Reason] += e.Amount;
      }
      return { userId, initialCash: u.InitialCashYen, initialMedals: u.InitialMedals, cash, medal };
    },

    ledgers: () => streamUserLedgers(databases),

    async bonuses(): Promise<readonly GrantedBonus[]> {
      // Applications: the medal credits booked for the bonus in its user's ledger (the grant and
      // its credit commit together, in the user's shard), so a grant applied twice shows as 2.
      // Each shard's bonuses and its ledger's bonus rows are streamed at once and joined here: a
      // correlated subquery per bonus made the emulator scan the ledger once per bonus.
      const perShard = await Promise.all(
        databases.map(async (d) => {
          const credits = new Map<string, number>();
          const grants: GrantedBonus[] = [];
          await Promise.all([
            (async () => {
              for await (const r of d.runStream({ sql: "SELECT UserId, Ref FROM Ledger WHERE Reason = 'bonus'", json: true })) {
                const { UserId, Ref } = r as { UserId: string; Ref: string };
                const key = `${UserId}\u0000${Ref}`;
                credits.set(key, (credits.get(key) ?? 0) + 1);
              }
            })(),
            (async () => {
              for await (const r of d.runStream({ sql: 'SELECT BonusId, UserId, Medals, Reason FROM Bonuses', json: true })) {
                const b = r as { BonusId: string; UserId: string; Medals: number; Reason: string };
                grants.push({ bonusId: b.BonusId, userId: b.UserId, medals: b.Medals, reason: b.Reason, applications: 0 });
              }
            })(),
          ]);
          return grants.map((b) => ({ ...b, applications: credits.get(`${b.userId}\u0000${b.bonusId}`) ?? 0 }));
        }),
      );
      return perShard.flat().sort((a, b) => byString(a.bonusId, b.bonusId));
    },

    async rankingClaims(): Promise<readonly RankingClaim[]> {
      const out: RankingClaim[] = [];
      for await (const r of streamAll<{ RaceId: string; ClaimedAtMs: number; PostSettledUsers: number; PublishedAtMs: number | null }>(databases, 'SELECT RaceId, ClaimedAtMs, PostSettledUsers, PublishedAtMs FROM RankingClaims')) {
        out.push({ raceId: r.RaceId, claimedAtMs: r.ClaimedAtMs, postSettledUsers: r.PostSettledUsers, ...(r.PublishedAtMs === null ? {} : { publishedAtMs: Number(r.PublishedAtMs) }) });
      }
      return out.sort((a, b) => byString(a.raceId, b.raceId));
    },
  };
}
