// How money and tickets get into the memory store: users with their opening balances, bets placed
// one at a time (validated, then debited in a transaction), the two bulk ticket loads (stakes
// taken as already debited), and medal bonuses granted once per bonus id.
import { loadedTicketCombination, parseCombination } from '../../core/combination.ts';
import type { Bonus, Store } from '../../core/ports.ts';
import { err, invariant, ok, type Result } from '../../core/result.ts';
import { BET_TYPE_CODE, BET_TYPES, isBetTypeSold } from '../../core/sports.ts';
import { STAKE_UNIT, type Ticket } from '../../core/ticket.ts';
import { STATUS_OPEN } from './columns.ts';
import type { RaceState } from './race-index.ts';
import type { StoreState } from './store-state.ts';
import type { MemoryStore } from './store-types.ts';
import type { Plan } from './transaction.ts';

export type BetMethods = Pick<MemoryStore, 'putUsers' | 'placeBet' | 'loadTickets' | 'loadTicketColumns' | 'grantBonuses'> & {
  /** A grant's read phase, for transactions that grant bonuses among other writes (day missions). */
  readonly grantPlan: (bonuses: readonly Bonus[]) => Plan<string[]>;
};

/** The riders of a loaded ticket's combination, validated as on every backend (core/combination.ts). */
function comboNumbers(t: Ticket, race: RaceState): readonly number[] {
  const parsed = loadedTicketCombination(t, race.info === undefined ? undefined : { sport: race.info.sport, riders: race.info.riders });
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
}

export function createBetMethods(state: StoreState): BetMethods {
  const { options, clock, table, userIds, cash, medals, initialCash, initialMedals, races, placedTickets, granted, grantApplications, userIdx, raceOf, credit, appendRow, ticketOf, transact } = state;

  const validateBet = (bet: Parameters<Store['placeBet']>[0]): Result<{ race: RaceState; code: number; u: number }> => {
    if (!Number.isSafeInteger(bet.stake) || bet.stake <= 0 || bet.stake % STAKE_UNIT !== 0) {
      return err('BET.STAKE_INVALID', `stake must be a positive multiple of ${STAKE_UNIT}, got ${bet.stake}`, 'stake');
    }
    const race = races.get(bet.raceId);
    if (race?.info === undefined) return err('RACE.UNKNOWN', `race ${bet.raceId} is not known`, 'raceId');
    const field = { sport: race.info.sport, riders: race.info.riders };
    if (!(BET_TYPES as readonly string[]).includes(bet.betType)) return err('BET.TYPE_UNKNOWN', `unknown bet type ${bet.betType}`, 'betType');
    if (!isBetTypeSold(field, bet.betType)) return err('BET.TYPE_NOT_SOLD', `${bet.betType} is not sold in a ${field.riders}-rider ${field.sport} race`, 'betType');
    if (options.enforceCloseTime === true && clock.nowMs() >= race.info.closeAtMs) return err('BET.RACE_CLOSED', `betting on ${bet.raceId} closed at ${race.info.closeAtMs}`);
    const parsed = parseCombination(bet.betType, bet.combination, field);
    if (!parsed.ok) return parsed;
    if (bet.currency !== 'cash' && bet.currency !== 'medal') return err('INPUT.INVALID', `currency must be cash or medal, got ${bet.currency}`, 'currency');
    const u = userIdx(bet.userId, false);
    if (u < 0) return err('INPUT.INVALID', `user ${bet.userId} is not known`, 'userId');
    let code = 0;
    for (const n of parsed.value) code = code * 10 + n;
    return ok({ race, code, u });
  };

  const brokenBonusOnce = options.faults?.brokenBonusOnce === true;
  const grantPlan = (bonuses: readonly Bonus[]): Plan<string[]> => {
    const fresh = new Map<string, Bonus>();
    for (const b of bonuses) {
      invariant(Number.isSafeInteger(b.medals) && b.medals >= 0, `bonus ${b.bonusId} medals must be a non-negative integer, got ${b.medals}`);
      if ((brokenBonusOnce || !granted.has(b.bonusId)) && !fresh.has(b.bonusId)) fresh.set(b.bonusId, b);
    }
    if (fresh.size === 0) return { result: [] };
    const users = [...new Set([...fresh.values()].map((b) => userIdx(b.userId, true)))];
    return {
      result: [...fresh.keys()],
      users,
      commit: () => {
        for (const b of fresh.values()) {
          granted.set(b.bonusId, b);
          grantApplications.set(b.bonusId, (grantApplications.get(b.bonusId) ?? 0) + 1);
          credit(userIdx(b.userId, true), 'medal', b.medals, 'bonus', b.bonusId);
        }
      },
    };
  };

  return {
    async putUsers(users) {
      for (const a of users) {
        invariant(Number.isSafeInteger(a.cash) && Number.isSafeInteger(a.medals), `user ${a.userId} balances must be integers`);
        const u = userIdx(a.userId, true);
        cash.data[u] = initialCash.data[u] = a.cash;
        medals.data[u] = initialMedals.data[u] = a.medals;
      }
    },
    async placeBet(bet) {
      const existing = placedTickets.get(bet.ticketId);
      if (existing !== undefined) return ok(ticketOf(existing, userIds[table.user.get(existing)] as string, bet.raceId));
      const v = validateBet(bet);
      if (!v.ok) return v;
      const { race, code, u } = v.value;
      const balances = bet.currency === 'cash' ? cash : medals;
      return transact<Result<Ticket>>(() => {
        if (placedTickets.has(bet.ticketId)) return { result: err('INPUT.INVALID', `ticket ${bet.ticketId} was placed concurrently`, 'ticketId') };
        if ((balances.data[u] as number) < bet.stake) {
          return { result: err('BET.INSUFFICIENT_BALANCE', `${bet.currency} balance ${balances.data[u]} is below the stake ${bet.stake}`, 'stake') };
        }
        const ticket: Ticket = { ticketId: bet.ticketId, userId: bet.userId, raceId: bet.raceId, betType: bet.betType, combination: bet.combination, stake: bet.stake, currency: bet.currency };
        return {
          result: ok(ticket),
          users: [u],
          commit: () => {
            const row = appendRow(u, race, BET_TYPE_CODE[bet.betType], code, bet.stake / STAKE_UNIT, bet.currency === 'cash' ? 0 : 1);
            table.setId(row, bet.ticketId);
            placedTickets.set(bet.ticketId, row);
            credit(u, bet.currency, -bet.stake, 'stake', bet.ticketId);
          },
        };
      });
    },
    async loadTickets(tickets) {
      for (const t of tickets) {
        const units = t.stake / STAKE_UNIT;
        invariant(Number.isInteger(units) && units >= 1 && units <= 0xffff_ffff, `ticket ${t.ticketId} stake ${t.stake} must be a positive multiple of ${STAKE_UNIT}`);
        invariant(t.betType in BET_TYPE_CODE, `ticket ${t.ticketId} bet type ${t.betType} is unknown`);
        // The same refusals as Spanner's (tickets live under their user there): a ticket of an
        // unknown user, or a combination the race's field cannot have, is an error, not a new row.
        const u = userIdx(t.userId, false);
        if (u < 0) throw new Error(`loadTickets: ticket ${t.ticketId}: user ${t.userId} is not known (put the user first) [USER.UNKNOWN]`);
        const race = raceOf(t.raceId, true) as RaceState;
        const numbers = comboNumbers(t, race);
        let code = 0;
        for (const n of numbers) code = code * 10 + n;
        const row = appendRow(u, race, BET_TYPE_CODE[t.betType], code, units, t.currency === 'cash' ? 0 : 1);
        table.setId(row, t.ticketId);
      }
    },
    loadTicketColumns(batch) {
      const race = raceOf(batch.raceId, true) as RaceState;
      const prefix = table.prefixCodeOf(batch.ticketIdPrefix ?? 'T');
      invariant(prefix !== 255, 'too many ticket id prefixes for the bulk path');
      const n = batch.count;
      for (let i = 0; i < n; i++) {
        const ok = (batch.userIdx[i] as number) < userIds.length && (batch.betType[i] as number) < BET_TYPES.length && (batch.stakeUnits[i] as number) > 0 && (batch.currency[i] as number) <= 1;
        invariant(ok, `bulk ticket ${i} of ${batch.raceId} is malformed`);
      }
      const first = table.count;
      table.reserve(first + n);
      table.count += n;
      table.user.copyFrom(first, batch.userIdx, 0, n);
      table.betType.copyFrom(first, batch.betType, 0, n);
      table.comboCode.copyFrom(first, batch.comboCode, 0, n);
      table.stakeUnits.copyFrom(first, batch.stakeUnits, 0, n);
      table.currency.copyFrom(first, batch.currency, 0, n);
      table.idNumber.copyFrom(first, batch.ticketNumber, 0, n);
      table.idPrefix.fill(first, first + n, prefix);
      table.status.fill(first, first + n, STATUS_OPEN);
      table.per100.fill(first, first + n, 0);
      race.addRowRange(first, n, batch);
    },
    grantBonuses: (bonuses) => transact(() => grantPlan(bonuses)),
    grantPlan,
  };
}
