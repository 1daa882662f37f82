// A ticket (車券): a stake on one combination of one bet type, in cash (yen) or free medals.
import type { BetType } from './sports.ts';

export type Currency = 'cash' | 'medal';

export interface Ticket {
  readonly ticketId: string;
  readonly userId: string;
  readonly raceId: string;
  readonly betType: BetType;
  /** Canonical combination text, e.g. "3-1-5" (combination.ts). */
  readonly combination: string;
  /** Yen for cash tickets, medals for free-medal tickets; a positive multiple of 100. */
  readonly stake: number;
  readonly currency: Currency;
}

export type TicketStatus = 'open' | 'won' | 'lost' | 'refunded' | 'special';

export const STAKE_UNIT = 100;
