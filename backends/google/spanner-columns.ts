// settleUserColumns for Spanner: the columnar pricing (a flattened payout table, settle-columns.ts)
// applied inside the same settlement transaction. On Spanner the transaction dominates the cost,
// so this reuses settleUser's transaction with a compute function that prices each ticket by one
// array lookup instead of parsing its combination against the payout table.
import type { OutcomeLookup } from '../../core/settle-columns.ts';
import { CURRENCY_CODE, STATUS_OF_CODE, lookupIndex } from '../../core/settle-columns.ts';
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

/** A settle function pricing tickets through the lookup; ledger and outcomes in ticket id order. */
export function computeFromLookup(lookup: OutcomeLookup, resultVersion: number): (input: UserRaceTickets) => Settlement {
  return ({ raceId, userId, tickets }) => {
    const outcomes: TicketOutcome[] = [];
    const ledger: LedgerEntry[] = [];
    let cashDelta = 0;
    let medalDelta = 0;
    let hits = 0;
    for (const t of [...tickets].sort((a, b) => (a.ticketId < b.ticketId ? -1 : a.ticketId > b.ticketId ? 1 : 0))) {
      const k = lookupIndex(CURRENCY_CODE[t.currency], BET_TYPE_CODE[t.betType], comboCodeOf(t.combination));
      const status = STATUS_OF_CODE[lookup.status[k] ?? 0];
      invariant(status !== undefined && status !== 'invalid', `ticket ${t.ticketId} (${t.betType} ${t.combination}, ${t.currency}) has no price in the outcome lookup`);
      const per100 = lookup.per100[k] ?? 0;
      const payout = (t.stake / STAKE_UNIT) * per100;
      outcomes.push({ ticketId: t.ticketId, status, per100, payout, currency: t.currency, betType: t.betType });
      if (status === 'won' || status === 'special') hits++;
      const reason = REASON_OF[status];
      if (reason === undefined || payout === 0) continue;
      ledger.push({ userId, currency: t.currency, amount: payout, reason, ref: t.ticketId });
      if (t.currency === 'cash') cashDelta += payout;
      else medalDelta += payout;
    }
    return { settlementId: settlementIdOf(raceId, userId, resultVersion), raceId, userId, resultVersion, outcomes, ledger, cashDelta, medalDelta, hits };
  };
}

export function summaryOf(s: Settlement): SettlementSummary {
  const trifectaHits = hitsOfType(s, 'trifecta');
  return { settlementId: s.settlementId, raceId: s.raceId, userId: s.userId, resultVersion: s.resultVersion, cashDelta: s.cashDelta, medalDelta: s.medalDelta, hits: s.hits, tickets: s.outcomes.length, trifectaHits };
}

export function summaryResult(r: SettleResult): SummarySettleResult {
  return r.kind === 'applied' ? { kind: 'applied', settlement: summaryOf(r.settlement) } : r;
}
