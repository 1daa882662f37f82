// settleUserColumns for Spanner: the core's pricing kernel (settleColumns over a flattened payout
// table, settle-columns.ts) applied inside the same settlement transaction. On Spanner the
// transaction dominates the cost, so this reuses settleUser's transaction with a compute function
// that prices the user's tickets by array lookups instead of parsing each combination against
// the payout table.
import { createColumnOutput, createTicketColumns, CURRENCY_CODE, MAX_STAKE_UNITS, settleColumns, STATUS_OF_CODE, type OutcomeLookup } from '../../core/settle-columns.ts';
import type { SettleResult, SettlementSummary, SummarySettleResult, UserRaceTickets } from '../../core/ports.ts';
import { invariant } from '../../core/result.ts';
import { settlementIdOf, type LedgerEntry, type LedgerReason, type Settlement, type TicketOutcome } from '../../core/settlement-record.ts';
import { BET_TYPE_CODE } from '../../core/sports.ts';
import { STAKE_UNIT } from '../../core/ticket.ts';
import { hitsOfType } from '../../core/settlement.ts';

const REASON_OF: Readonly<Record<TicketOutcome['status'], LedgerReason | undefined>> = { won: 'payout', refunded: 'refund', special: 'special', lost: undefined };

const COMBINATION_TEXT = /^[1-9](?:[-=][1-9]){0,2}$/;

/**
 * Combination text to its integer code (combination.ts): its digits in the canonical order the
 * text already has (placement validated it against the field). A combination the lookup does not
 * price lands on an `invalid` entry and fails the invariant below.
 */
function comboCodeOf(combination: string): number {
  invariant(COMBINATION_TEXT.test(combination), `stored combination ${JSON.stringify(combination)} is not canonical text`);
  return Number(combination.replace(/[-=]/g, ''));
}

/**
 * A settle function pricing tickets with the core's pricing kernel (settleColumns): the tickets
 * read in the transaction are put in columns, priced in one pass over the lookup, and turned back
 * into outcomes and ledger entries; ledger and outcomes in ticket id order.
 */
export function computeFromLookup(lookup: OutcomeLookup, resultVersion: number): (input: UserRaceTickets) => Settlement {
  return ({ raceId, userId, tickets }) => {
    const sorted = [...tickets].sort((a, b) => (a.ticketId < b.ticketId ? -1 : a.ticketId > b.ticketId ? 1 : 0));
    const columns = createTicketColumns(sorted.length);
    sorted.forEach((t, i) => {
      const units = t.stake / STAKE_UNIT;
      invariant(Number.isInteger(units) && units >= 1 && units <= MAX_STAKE_UNITS, `ticket ${t.ticketId}: stake ${t.stake} is not a positive multiple of ${STAKE_UNIT} that fits a column`);
      columns.betType[i] = BET_TYPE_CODE[t.betType];
      columns.comboCode[i] = comboCodeOf(t.combination);
      columns.stakeUnits[i] = units;
      columns.currency[i] = CURRENCY_CODE[t.currency];
    });
    columns.count = sorted.length;
    const out = createColumnOutput(sorted.length);
    const totals = settleColumns(columns, lookup, 0, sorted.length, out);
    const outcomes: TicketOutcome[] = [];
    const ledger: LedgerEntry[] = [];
    sorted.forEach((t, i) => {
      const status = STATUS_OF_CODE[out.status[i] as number];
      invariant(status !== undefined && status !== 'invalid', `ticket ${t.ticketId} (${t.betType} ${t.combination}, ${t.currency}) has no price in the outcome lookup`);
      const payout = out.payout[i] as number;
      outcomes.push({ ticketId: t.ticketId, status, per100: out.per100[i] as number, payout, currency: t.currency, betType: t.betType });
      const reason = REASON_OF[status];
      if (reason !== undefined && payout > 0) ledger.push({ userId, currency: t.currency, amount: payout, reason, ref: t.ticketId });
    });
    return { settlementId: settlementIdOf(raceId, userId, resultVersion), raceId, userId, resultVersion, outcomes, ledger, cashDelta: totals.cashPaid, medalDelta: totals.medalsPaid, hits: totals.hits };
  };
}

export function summaryOf(s: Settlement): SettlementSummary {
  const trifectaHits = hitsOfType(s, 'trifecta');
  return { settlementId: s.settlementId, raceId: s.raceId, userId: s.userId, resultVersion: s.resultVersion, cashDelta: s.cashDelta, medalDelta: s.medalDelta, hits: s.hits, tickets: s.outcomes.length, trifectaHits };
}

export function summaryResult(r: SettleResult): SummarySettleResult {
  return r.kind === 'applied' ? { kind: 'applied', settlement: summaryOf(r.settlement) } : r;
}
