// The memory store's two settlement paths as transactions: settleUser (Ticket objects for a
// compute function) and settleUserColumns (priced from an OutcomeLookup, no per-ticket objects).
// Both find the user's slot in the race index, honour the (race, user) marker, and commit the same
// way (statuses, ledger, marker, outbox); the row-level helpers they use are in settle-path.ts.
import type { OutboxMessage, SettlementSummary, SettleResult, SummarySettleResult, UserRaceTickets } from '../../core/ports.ts';
import { invariant } from '../../core/result.ts';
import type { OutcomeLookup } from '../../core/settle-columns.ts';
import { settlementIdOf, type Settlement } from '../../core/settlement-record.ts';
import { BET_TYPES } from '../../core/sports.ts';
import { hitsOfType } from '../../core/settlement.ts';
import { STATUS_OPEN, TICKET_STATUS } from './columns.ts';
import { positionOf, type RaceIndex, type RaceState } from './race-index.ts';
import { checkSettlement, createPricingScratch, priceRows, writeRows } from './settle-path.ts';
import type { StoreState } from './store-state.ts';
import type { MemoryStore } from './store-types.ts';
import type { Plan } from './transaction.ts';

/** A user's slot in a race index: position p of user index u. */
interface Located {
  readonly race: RaceState;
  readonly index: RaceIndex;
  readonly p: number;
  readonly u: number;
}

export type SettlementMethods = Pick<MemoryStore, 'settleUser' | 'settleUserColumns'>;

export function createSettlementMethods(state: StoreState): SettlementMethods {
  const { broken, table, races, outbox, counters, userIdx, indexOf, creditCode, credit, ticketOf, transact } = state;
  const scratch = createPricingScratch();

  /**
   * Where a (race, user) settlement starts, for both settlement paths: the user's slot in the race
   * index, or the early answer when nothing is open or the marker says it was already applied.
   */
  const locateSettlement = (raceId: string, userId: string): Located | { early: { kind: 'nothing_open' } | { kind: 'duplicate'; settlementId: string } } => {
    const race = races.get(raceId);
    const u = userIdx(userId, false);
    if (race === undefined || u < 0) return { early: { kind: 'nothing_open' } };
    const index = indexOf(race);
    const p = positionOf(index, u);
    if (p < 0) return { early: { kind: 'nothing_open' } };
    const marker = index.marker[p] as number;
    if (marker !== 0 && !broken) return { early: { kind: 'duplicate', settlementId: settlementIdOf(raceId, userId, marker) } };
    return { race, index, p, u };
  };

  const settlePlan = (raceId: string, userId: string, resultVersion: number, compute: (input: UserRaceTickets) => Settlement, outboxOf: ((s: Settlement) => readonly OutboxMessage[]) | undefined): Plan<SettleResult> => {
    const at = locateSettlement(raceId, userId);
    if ('early' in at) return { result: at.early };
    const { race, index, p, u } = at;
    const rows: number[] = [];
    for (let k = index.offsets[p] as number; k < (index.offsets[p + 1] as number); k++) {
      const row = index.tix[k] as number;
      if (broken || table.status.get(row) === STATUS_OPEN) rows.push(row);
    }
    if (rows.length === 0) return { result: { kind: 'nothing_open' } };
    const tickets = rows.map((row) => ticketOf(row, userId, raceId));
    const settlement = compute({ raceId, userId, tickets });
    const outRows = checkSettlement(settlement, raceId, userId, resultVersion, tickets, rows);
    // The bet type of the stored row, not the one the outcome claims.
    const trifectaHits = hitsOfType(settlement, 'trifecta', (i) => BET_TYPES[table.betType.get(outRows[i] as number)]);
    const messages = outboxOf?.(settlement) ?? [];
    return appliedPlan(settlement, at, () => {
      settlement.outcomes.forEach((o, i) => {
        const row = outRows[i] as number;
        table.status.set(row, TICKET_STATUS.indexOf(o.status));
        table.per100.set(row, o.per100);
      });
      for (const e of settlement.ledger) credit(u, e.currency, e.amount, e.reason, e.ref);
      markSettled(race, index, p, resultVersion, messages, { ...settlement, trifectaHits });
    });
  };

  /** The plan of an applied settlement: it writes one user, and only over the index it read. */
  const appliedPlan = <S>(settlement: S, at: Located, commit: () => void): Plan<{ kind: 'applied'; settlement: S }> => ({
    result: { kind: 'applied', settlement },
    users: [at.u],
    // Rows and positions come from this index; a rebuild meanwhile (tickets added) moved them.
    stillValid: () => at.race.index === at.index,
    commit,
  });

  const markSettled = (race: RaceState, index: RaceIndex, p: number, resultVersion: number, messages: readonly OutboxMessage[], totals: { readonly cashDelta: number; readonly medalDelta: number; readonly hits: number; readonly trifectaHits: number }): void => {
    if (index.marker[p] === 0) race.settledUsers++;
    race.settledRows = true;
    index.settledCash[p] = totals.cashDelta;
    index.settledMedals[p] = totals.medalDelta;
    index.settledHits[p] = totals.hits;
    index.settledTrifectaHits[p] = totals.trifectaHits;
    index.open[p] = 0;
    index.marker[p] = resultVersion;
    index.applications[p] = (index.applications[p] as number) + 1;
    for (const m of messages) if (!outbox.has(m.outboxId)) outbox.set(m.outboxId, m);
    counters.applied++;
  };

  /** The columnar settlement: same marker and transaction, priced from the lookup, no Ticket objects. */
  const columnsPlan = (raceId: string, userId: string, resultVersion: number, lookup: OutcomeLookup, outboxOf: ((s: SettlementSummary) => readonly OutboxMessage[]) | undefined): Plan<SummarySettleResult> => {
    const at = locateSettlement(raceId, userId);
    if ('early' in at) return { result: at.early };
    const { race, index, p, u } = at;
    const from = index.offsets[p] as number;
    const to = index.offsets[p + 1] as number;
    const priced = priceRows(table, index.tix, from, to, lookup, !broken, scratch);
    if (priced.tickets === 0) return { result: { kind: 'nothing_open' } };
    const { totals } = priced;
    const settlement: SettlementSummary = {
      settlementId: settlementIdOf(raceId, userId, resultVersion),
      raceId,
      userId,
      resultVersion,
      cashDelta: totals.cashPaid,
      medalDelta: totals.medalsPaid,
      hits: totals.hits,
      trifectaHits: totals.trifectaHits,
      tickets: priced.tickets,
    };
    const messages = outboxOf?.(settlement) ?? [];
    return appliedPlan(settlement, at, () => {
      writeRows(table, index.tix, from, to, priced, !broken, (row, cur, reason, amount) => creditCode(u, cur, reason, amount, () => table.idOf(row)));
      markSettled(race, index, p, resultVersion, messages, { ...settlement, trifectaHits: totals.trifectaHits });
    });
  };

  /** Runs one settlement transaction; a duplicate answer is counted. */
  const settle = async <R extends { kind: string }>(resultVersion: number, read: () => Plan<R>): Promise<R> => {
    invariant(Number.isInteger(resultVersion) && resultVersion >= 1, `resultVersion must be an integer >= 1, got ${resultVersion}`);
    const result = await transact(read);
    if (result.kind === 'duplicate') counters.duplicate++;
    return result;
  };

  return {
    settleUser: (raceId, userId, resultVersion, compute, outboxOf) => settle(resultVersion, () => settlePlan(raceId, userId, resultVersion, compute, outboxOf)),
    settleUserColumns: (raceId, userId, resultVersion, lookup, outboxOf) => settle(resultVersion, () => columnsPlan(raceId, userId, resultVersion, lookup, outboxOf)),
  };
}
