// The official payout table of one race: for each bet type sold, what every combination returns
// per 100 staked. Produced by `computePayoutTable` (payout.ts) and consumed by settlement.
import type { BetType, Sport } from './sports.ts';

/** Combinations are keyed by their integer code (combination.ts), per100 are integer yen per 100. */
export type BetTypePayout =
  | {
      /** At least one winning combination had stakes: `winners` maps each staked winning code to its per100. */
      readonly kind: 'paid';
      readonly winners: ReadonlyMap<number, number>;
      /** Every winning combination code, staked or not (dead heats make several). */
      readonly winning: readonly number[];
      /** Combinations refunded because they name a scratched rider (or an emptied bracket). */
      readonly refunded: ReadonlySet<number>;
    }
  | {
      /** No winning combination had stakes: every live ticket returns `per100` (特払い). */
      readonly kind: 'special';
      readonly per100: number;
      readonly winning: readonly number[];
      readonly refunded: ReadonlySet<number>;
    }
  | {
      /** The whole bet type is refunded: void race, or fewer finishers than the placings it needs. */
      readonly kind: 'refunded';
    }
  | {
      /** Nothing staked on the bet type once refunds left the pool (S = 0). */
      readonly kind: 'no_sales';
      readonly winning: readonly number[];
      readonly refunded: ReadonlySet<number>;
    };

export interface PayoutTable {
  readonly sport: Sport;
  readonly riders: number;
  readonly byType: Readonly<Partial<Record<BetType, BetTypePayout>>>;
}
