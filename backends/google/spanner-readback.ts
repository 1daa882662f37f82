// Read-backs of the Spanner store: what the checkers compare against the pure core (balances,
// tickets with status and payout, settlement markers, ledger sums, bonuses), plus the read-only
// port methods (race, cash pools, outbox, post-settled count). Strong single-use reads; set
// queries (cash pools, whole-table listings) use SQL, which the emulator serves by scanning:
// acceptable once per race or once per check, never on a per-user hot path.
import type { Database } from '@google-cloud/spanner';
import { encodeCombination, parseCombination } from '../../core/combination.ts';
import type { CashPools, OutboxMessage, RaceInfo, UserAccount, UserLedger } from '../../core/ports.ts';
import type { LedgerReason } from '../../core/settlement-record.ts';
import { invariant } from '../../core/result.ts';
import { validateField, type BetType, type Sport } from '../../core/sports.ts';
import type { Currency } from '../../core/ticket.ts';
import { MARKER_COLUMNS, TICKET_COLUMNS, USER_COLUMNS, assertAmount, ticketStateFromRow, userFromRow, type MarkerRow, type TicketState, type TicketRow, type UserRow } from './spanner-rows.ts';

export interface StoredSettlement {
  readonly userId: string;
  readonly raceId: string;
  readonly settlementId: string;
  readonly resultVersion: number;
  readonly cashDelta: number;
  readonly medalDelta: number;
  readonly hits: number;
}

export interface LedgerSums {
  readonly cash: number;
  readonly medals: number;
  readonly entries: number;
}

export interface StoredBonus {
  readonly bonusId: string;
  readonly userId: string;
  readonly medals: number;
  readonly reason: string;
}

export interface SpannerReadBacks {
  readRace(raceId: string): Promise<RaceInfo | undefined>;
  readUser(userId: string): Promise<UserAccount | undefined>;
  /** The user's tickets (of one race, or all), ascending by race then ticket id. */
  readTickets(userId: string, raceId?: string): Promise<TicketState[]>;
  readSettlement(userId: string, raceId: string): Promise<StoredSettlement | undefined>;
  ledgerSums(userId: string): Promise<LedgerSums>;
  readBonus(bonusId: string): Promise<StoredBonus | undefined>;
  /** Users of the race marked post-settled, summed over shards (strong reads). */
  postSettledCount(raceId: string): Promise<number>;
}

/** The read-backs plus the optional read-only Store methods this backend implements. */
export interface ReadBackImpl extends SpannerReadBacks {
  cashPools(raceId: string): Promise<CashPools>;
  countUsersWithOpenTickets(raceId: string): Promise<number>;
  readOutbox(limit: number): Promise<readonly OutboxMessage[]>;
}

export interface ReadBackDeps {
  readonly databases: readonly Database[];
  readonly userShard: (userId: string) => number;
  readonly raceShard: (raceId: string) => number;
  /** Talking to the emulator: queries through the NULL_FILTERED index then carry its hint, and cash pools are a key range summed here (its SQL scans). */
  readonly emulator?: boolean;
}

/** A cash pool's rows: sums per combination on Spanner, one ticket's stake each on the emulator. */
type PoolRow = { BetType: BetType; Combination: string; Yen: number };
const CASH_POOLS_SQL = `SELECT BetType, Combination, SUM(Stake) AS Yen FROM Tickets@{FORCE_INDEX=TicketsByRace} WHERE RaceId = @raceId AND Currency = 'cash' GROUP BY BetType, Combination`;

/**
 * The emulator refuses queries through a NULL_FILTERED index without this statement hint; Spanner
 * itself ignores it, but it is sent to the emulator only.
 */
const EMULATOR_NULL_FILTERED_HINT = '@{spanner_emulator.disable_query_null_filtered_index_check=true} ';


/** A user's ticket rows (of one race when given): one key-prefix read of the interleaved table. */
export async function readTicketRows(d: Database, userId: string, raceId?: string): Promise<TicketRow[]> {
  const prefix = raceId === undefined ? [userId] : [userId, raceId];
  const [rows] = await d.table('Tickets').read({ ranges: [{ startClosed: prefix, endClosed: prefix }], columns: TICKET_COLUMNS, json: true });
  return rows as TicketRow[];
}

function markerFromRow(r: MarkerRow): StoredSettlement {
  return { userId: r.UserId, raceId: r.RaceId, settlementId: r.SettlementId, resultVersion: r.ResultVersion, cashDelta: r.CashDelta, medalDelta: r.MedalDelta, hits: r.Hits };
}

export function createReadBacks(deps: ReadBackDeps): ReadBackImpl {
  const { databases } = deps;
  const db = (shard: number): Database => databases[shard] as Database;
  const userDb = (userId: string): Database => db(deps.userShard(userId));
  const everyShard = <T>(fn: (d: Database) => Promise<T>): Promise<T[]> => Promise.all(databases.map(fn));
  const sql = async <T>(d: Database, query: string, params: Record<string, unknown>): Promise<T[]> => {
    const [rows] = await d.run({ sql: query, params, json: true });
    return rows as T[];
  };

  async function readRace(raceId: string): Promise<RaceInfo | undefined> {
    const [rows] = await db(deps.raceShard(raceId)).table('Races').read({ keys: [raceId], columns: ['RaceId', 'Sport', 'Riders', 'CloseAtMs', 'PostAtMs'], json: true });
    const r = (rows as { RaceId: string; Sport: Sport; Riders: number; CloseAtMs: number; PostAtMs: number }[])[0];
    return r === undefined ? undefined : { raceId: r.RaceId, sport: r.Sport, riders: r.Riders, closeAtMs: r.CloseAtMs, postAtMs: r.PostAtMs };
  }

  return {
    readRace,

    async readUser(userId) {
      const [rows] = await userDb(userId).table('Users').read({ keys: [userId], columns: USER_COLUMNS, json: true });
      const r = (rows as UserRow[])[0];
      return r === undefined ? undefined : userFromRow(r);
    },

    async readTickets(userId, raceId) {
      return (await readTicketRows(userDb(userId), userId, raceId)).map(ticketStateFromRow);
    },

    async readSettlement(userId, raceId) {
      const [rows] = await userDb(userId).table('Settlements').read({ keys: [[userId, raceId]], columns: MARKER_COLUMNS, json: true });
      const r = (rows as MarkerRow[])[0];
      return r === undefined ? undefined : markerFromRow(r);
    },

    async ledgerSums(userId) {
      const [rows] = await userDb(userId).table('Ledger').read({ ranges: [{ startClosed: [userId], endClosed: [userId] }], columns: ['Currency', 'Amount'], json: true });
      let cash = 0;
      let medals = 0;
      for (const r of rows as { Currency: Currency; Amount: number }[]) {
        invariant(Number.isSafeInteger(r.Amount), `ledger amount ${r.Amount} of ${userId} is not an integer`);
        if (r.Currency === 'cash') cash += r.Amount;
        else medals += r.Amount;
      }
      return { cash, medals, entries: rows.length };
    },

    async readBonus(bonusId) {
      // The bonus lives in its user's shard, which the id alone does not tell: look in each.
      const found = await everyShard(async (d) => (await d.table('Bonuses').read({ keys: [bonusId], columns: ['BonusId', 'UserId', 'Medals', 'Reason'], json: true }))[0]);
      const rows = found.flat() as { BonusId: string; UserId: string; Medals: number; Reason: string }[];
      invariant(rows.length <= 1, `bonus ${bonusId} stored in ${rows.length} shards`);
      const r = rows[0];
      return r === undefined ? undefined : { bonusId: r.BonusId, userId: r.UserId, medals: r.Medals, reason: r.Reason };
    },

    async postSettledCount(raceId) {
      const counts = await everyShard(async (d) => {
        const [rows] = await d.table('PostSettledCounts').read({ keys: [raceId], columns: ['UsersMarked'], json: true });
        return (rows as { UsersMarked: number }[])[0]?.UsersMarked ?? 0;
      });
      return counts.reduce((a, b) => a + b, 0);
    },

    async countUsersWithOpenTickets(raceId) {
      // One aggregate over the open-ticket index (measured on the emulator, 10,000 users of 5
      // tickets: 0.3 s, where walking the pages through the read API took 3.9 s).
      const hint = deps.emulator === true ? EMULATOR_NULL_FILTERED_HINT : '';
      const query = `${hint}SELECT COUNT(DISTINCT UserId) AS Users FROM Tickets@{FORCE_INDEX=TicketsByOpenRace} WHERE OpenRaceId = @raceId`;
      const counts = await everyShard((d) => sql<{ Users: number }>(d, query, { raceId }));
      return counts.reduce((n, rows) => n + (rows[0]?.Users ?? 0), 0);
    },

    async cashPools(raceId) {
      const race = await readRace(raceId);
      invariant(race !== undefined, `cashPools: race ${raceId} is unknown`);
      const field = validateField(race.sport, race.riders);
      invariant(field.ok, `cashPools: race ${raceId} has an invalid field`);
      // One key range of the race index per shard (a filter on RaceId over the base table, keyed by
      // user, would scan every ticket ever stored). Spanner sums it server-side; the emulator's SQL
      // scans the table whatever index is forced (measured: 160 ms with 41,000 tickets stored, the
      // read API's range of 1,000 rows 12-17 ms), so there the stakes are read and summed here.
      const rowsOf = deps.emulator === true
        ? async (d: Database): Promise<PoolRow[]> => {
            const [rows] = await d.table('Tickets').read({ index: 'TicketsByRace', ranges: [{ startClosed: [raceId, 'cash'], endClosed: [raceId, 'cash'] }], columns: ['BetType', 'Combination', 'Stake'], json: true });
            return (rows as { BetType: BetType; Combination: string; Stake: number }[]).map((r) => ({ BetType: r.BetType, Combination: r.Combination, Yen: r.Stake }));
          }
        : (d: Database): Promise<PoolRow[]> => sql<PoolRow>(d, CASH_POOLS_SQL, { raceId });
      const pools: Partial<Record<BetType, Map<number, number>>> = {};
      for (const r of (await everyShard(rowsOf)).flat()) {
        const parsed = parseCombination(r.BetType, r.Combination, field.value);
        invariant(parsed.ok, `stored ticket combination ${r.BetType} ${r.Combination} of ${raceId} is invalid`);
        assertAmount(`pool ${r.BetType} ${r.Combination}`, r.Yen);
        const pool = (pools[r.BetType] ??= new Map<number, number>());
        const code = encodeCombination(parsed.value);
        const sum = (pool.get(code) ?? 0) + r.Yen;
        assertAmount(`pool ${r.BetType} ${r.Combination}`, sum);
        pool.set(code, sum);
      }
      return pools;
    },

    async readOutbox(limit) {
      invariant(Number.isSafeInteger(limit) && limit >= 1, `outbox limit ${limit} must be a positive integer`);
      type Row = { OutboxId: string; Topic: string; Data: string; AttributesJson: string; WrittenAt: Date };
      const shards = await everyShard(async (d) => {
        const [keys] = await d.table('Outbox').read({ index: 'OutboxByTime', ranges: [{ startClosed: [], endClosed: [] }], columns: ['OutboxId'], limit, json: true });
        const ids = (keys as { OutboxId: string }[]).map((k) => [k.OutboxId]);
        if (ids.length === 0) return [];
        const [rows] = await d.table('Outbox').read({ keys: ids, columns: ['OutboxId', 'Topic', 'Data', 'AttributesJson', 'WrittenAt'], json: true });
        return rows as Row[];
      });
      return shards
        .flat()
        .sort((a, b) => a.WrittenAt.getTime() - b.WrittenAt.getTime() || (a.OutboxId < b.OutboxId ? -1 : 1))
        .slice(0, limit)
        .map((r) => ({ outboxId: r.OutboxId, topic: r.Topic, data: r.Data, attributes: JSON.parse(r.AttributesJson) as Record<string, string> }));
    },
  };
}

const LEDGER_REASONS: readonly LedgerReason[] = ['stake', 'payout', 'refund', 'special', 'bonus'];
const WHOLE_TABLE = [{ startClosed: [], endClosed: [] }];

type UsersRow = { UserId: string; CashYen: number; Medals: number; InitialCashYen: number; InitialMedals: number };
type LedgerRow = { UserId: string; Currency: Currency; Amount: number; Reason: LedgerReason };

const zeroTotals = (): Record<LedgerReason, number> => ({ stake: 0, payout: 0, refund: 0, special: 0, bonus: 0 });

/**
 * One shard's users with their ledger totals: the Users and Ledger tables read whole as key-range
 * streams, both in UserId order (Ledger is interleaved in Users), joined as they arrive. Memory
 * holds one user at a time; the emulator serves each table as a single scan instead of one read
 * per user.
 */
async function* shardLedgers(d: Database): AsyncGenerator<UserLedger> {
  const ledger = d.table('Ledger').createReadStream({ ranges: WHOLE_TABLE, columns: ['UserId', 'Currency', 'Amount', 'Reason'], json: true })[Symbol.asyncIterator]() as AsyncIterator<LedgerRow>;
  let pending = await ledger.next();
  try {
    for await (const raw of d.table('Users').createReadStream({ ranges: WHOLE_TABLE, columns: ['UserId', 'CashYen', 'Medals', 'InitialCashYen', 'InitialMedals'], json: true })) {
      const u = raw as UsersRow;
      const cash = zeroTotals();
      const medal = zeroTotals();
      // Rows of users before this one would be orphans, which the interleaving forbids: skipped as such.
      while (pending.done !== true && pending.value.UserId < u.UserId) pending = await ledger.next();
      while (pending.done !== true && pending.value.UserId === u.UserId) {
        const e = pending.value;
        invariant(LEDGER_REASONS.includes(e.Reason) && Number.isSafeInteger(e.Amount), `ledger row of ${u.UserId}: ${e.Reason} ${e.Amount}`);
        (e.Currency === 'cash' ? cash : medal)[e.Reason] += e.Amount;
        pending = await ledger.next();
      }
      yield { account: userFromRow(u), totals: { userId: u.UserId, initialCash: u.InitialCashYen, initialMedals: u.InitialMedals, cash, medal } };
    }
  } finally {
    await ledger.return?.();
  }
}

/** Merges async iterables, taking from whichever is ready first (all shards read at once). */
async function* mergeReady<T>(sources: readonly AsyncIterable<T>[]): AsyncGenerator<T> {
  const its = sources.map((s) => s[Symbol.asyncIterator]());
  const next = (i: number) => (its[i] as AsyncIterator<T>).next().then((r) => ({ i, r }));
  const waiting = new Map(its.map((_, i) => [i, next(i)]));
  try {
    while (waiting.size > 0) {
      const { i, r } = await Promise.race(waiting.values());
      if (r.done === true) {
        waiting.delete(i);
        continue;
      }
      waiting.set(i, next(i));
      yield r.value;
    }
  } finally {
    await Promise.all([...waiting.keys()].map((i) => its[i]?.return?.()));
  }
}

/** Every user's balance and ledger totals, all shards streamed at once (StoreReadback.ledgers). */
export function streamUserLedgers(databases: readonly Database[]): AsyncIterable<UserLedger> {
  return mergeReady(databases.map((d) => shardLedgers(d)));
}
