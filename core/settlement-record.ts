// What settling one user for one race produces: the record a Store writes in one transaction.
import type { BetType } from './sports.ts';
import type { Currency, TicketStatus } from './ticket.ts';

export interface TicketOutcome {
  readonly ticketId: string;
  readonly status: Exclude<TicketStatus, 'open'>;
  /** Yen (or medals) returned per 100 staked; 0 for a lost ticket, 100 for a refund. */
  readonly per100: number;
  /** stake / 100 * per100, an integer. */
  readonly payout: number;
  readonly currency: Currency;
  /** The ticket's bet type, so post-settlement missions can tell a trifecta hit (settlement.ts always sets it). */
  readonly betType?: BetType;
}

export type LedgerReason = 'stake' | 'payout' | 'refund' | 'special' | 'bonus';

export interface LedgerEntry {
  readonly userId: string;
  readonly currency: Currency;
  /** Signed integer: credits positive, debits negative. */
  readonly amount: number;
  readonly reason: LedgerReason;
  /** The ticket or settlement or bonus this entry belongs to. */
  readonly ref: string;
}

export interface Settlement {
  /** Deterministic from (raceId, userId, resultVersion): applying it twice is detectable. */
  readonly settlementId: string;
  readonly raceId: string;
  readonly userId: string;
  readonly resultVersion: number;
  readonly outcomes: readonly TicketOutcome[];
  readonly ledger: readonly LedgerEntry[];
  /** Sum of cash ledger amounts; equals the change of the cash balance. */
  readonly cashDelta: number;
  /** Sum of medal ledger amounts; equals the change of the medal balance. */
  readonly medalDelta: number;
  /** Tickets won or paid specially. */
  readonly hits: number;
}

export function settlementIdOf(raceId: string, userId: string, resultVersion: number): string {
  return `stl:${raceId}:${userId}:v${resultVersion}`;
}
