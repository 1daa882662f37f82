// Bet placement as one read-write transaction on the user's shard: key reads of the balance, the
// race, its outcomes and the ticket id, the checks, then debit + ticket + stake ledger entry as
// mutations. Expected refusals are Result values; the transaction then commits nothing.
import type { Transaction } from '@google-cloud/spanner';
import { parseCombination } from '../../core/combination.ts';
import type { BetRequest } from '../../core/ports.ts';
import { err, invariant, ok, type Result } from '../../core/result.ts';
import { isBetTypeSold, isBetType, validateField } from '../../core/sports.ts';
import { STAKE_UNIT, type Ticket } from '../../core/ticket.ts';
import { TICKET_COLUMNS, USER_COLUMNS, assertId, isCurrency, openTicketRow, ticketFromRow, userFromRow, type TicketRow, type UserRow } from './spanner-rows.ts';

interface RaceRow {
  Sport: string;
  Riders: number;
  CloseAtMs: number;
}

function sameTicket(a: Ticket, b: Ticket): boolean {
  return a.userId === b.userId && a.raceId === b.raceId && a.betType === b.betType && a.combination === b.combination && a.stake === b.stake && a.currency === b.currency;
}

/** Checks that need no stored state. */
function checkRequest(bet: BetRequest): Result<Ticket> {
  if (!isBetType(bet.betType)) return err('BET.TYPE_UNKNOWN', `bet type ${JSON.stringify(bet.betType)} is unknown`, 'betType');
  if (!Number.isSafeInteger(bet.stake) || bet.stake <= 0 || bet.stake % STAKE_UNIT !== 0) {
    return err('BET.STAKE_INVALID', `stake must be a positive multiple of ${STAKE_UNIT}, got ${JSON.stringify(bet.stake)}`, 'stake');
  }
  if (!isCurrency(bet.currency)) return err('INPUT.INVALID', `currency must be "cash" or "medal", got ${JSON.stringify(bet.currency)}`, 'currency');
  const { ticketId, userId, raceId, betType, combination, stake, currency } = bet;
  return ok({ ticketId, userId, raceId, betType, combination, stake, currency });
}

export async function placeBetInDatabase(tx: Transaction, bet: BetRequest, nowMs: number): Promise<Result<Ticket>> {
  assertId('ticketId', bet.ticketId);
  assertId('userId', bet.userId);
  assertId('raceId', bet.raceId);
  const checked = checkRequest(bet);
  if (!checked.ok) return checked;
  const ticket = checked.value;
  const [[users], [races], [outcomes], [existing]] = await Promise.all([
    tx.read('Users', { keys: [bet.userId], columns: USER_COLUMNS, json: true }),
    tx.read('Races', { keys: [bet.raceId], columns: ['Sport', 'Riders', 'CloseAtMs'], json: true }),
    tx.read('RaceOutcomes', { ranges: [{ startClosed: [bet.raceId], endClosed: [bet.raceId] }], columns: ['ResultVersion'], limit: 1, json: true }),
    tx.read('Tickets', { keys: [[bet.userId, bet.raceId, bet.ticketId]], columns: TICKET_COLUMNS, json: true }),
  ]);
  const userRow = (users as UserRow[])[0];
  if (userRow === undefined) return err('INPUT.INVALID', `user ${bet.userId} is unknown`, 'userId');
  const race = (races as RaceRow[])[0];
  if (race === undefined) return err('RACE.UNKNOWN', `race ${bet.raceId} is unknown`, 'raceId');
  const stored = (existing as TicketRow[])[0];
  if (stored !== undefined) {
    // A retried placement (same ticket id) returns the ticket placed the first time, debited once.
    const before = ticketFromRow(stored);
    if (sameTicket(before, ticket)) return ok(before);
    return err('INPUT.INVALID', `ticket id ${bet.ticketId} is already used by a different bet`, 'ticketId');
  }
  if (outcomes.length > 0 || nowMs >= race.CloseAtMs) return err('BET.RACE_CLOSED', `race ${bet.raceId} closed for betting`, 'raceId');
  const field = validateField(race.Sport, race.Riders);
  invariant(field.ok, `stored race ${bet.raceId} has an invalid field ${race.Sport}/${race.Riders}`);
  if (!isBetTypeSold(field.value, ticket.betType)) {
    return err('BET.TYPE_NOT_SOLD', `${ticket.betType} is not sold in a ${race.Riders}-rider ${race.Sport} race`, 'betType');
  }
  const combination = parseCombination(ticket.betType, ticket.combination, field.value);
  if (!combination.ok) return { ok: false, error: { ...combination.error, path: 'combination' } };
  const user = userFromRow(userRow);
  const balance = ticket.currency === 'cash' ? user.cash : user.medals;
  if (balance < ticket.stake) {
    return err('BET.INSUFFICIENT_BALANCE', `${bet.userId} has ${balance} ${ticket.currency === 'cash' ? 'yen' : 'medals'}, the stake is ${ticket.stake}`, 'stake');
  }
  const after = balance - ticket.stake;
  invariant(after >= 0, 'balance after the debit is negative');
  tx.update('Users', ticket.currency === 'cash' ? { UserId: bet.userId, CashYen: after } : { UserId: bet.userId, Medals: after });
  tx.insert('Tickets', openTicketRow(ticket));
  tx.insert('Ledger', { UserId: bet.userId, EntryId: `stake:${ticket.raceId}:${ticket.ticketId}`, Currency: ticket.currency, Amount: -ticket.stake, Reason: 'stake', Ref: ticket.ticketId });
  return ok(ticket);
}
