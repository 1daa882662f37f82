// placeBet as the gateway runs it: the core validates the bet against the race's field (bet type
// sold, combination, stake, betting still open) before the store is touched, then Store.placeBet
// debits and writes the ticket in one transaction. The ticket id is derived from the caller and
// the idempotency key, so a retry with the same key finds the ticket placed the first time and
// debits nothing again; the same key with a different bet is refused. Nothing is debited on any error.
import { createHash } from 'node:crypto';
import { parseCombination } from '../core/combination.ts';
import type { BetRequest, RaceInfo } from '../core/ports.ts';
import { err, ok, type DomainError, type Result } from '../core/result.ts';
import { isBetType, validateField } from '../core/sports.ts';
import { STAKE_UNIT, type Currency, type Ticket } from '../core/ticket.ts';
import type { GatewayErrorCode } from './errors.ts';
import type { GatewayStore } from './schema.ts';

export interface BetInput {
  readonly raceId: string;
  readonly betType: string;
  readonly combination: string;
  readonly stake: number;
  readonly currency?: Currency;
}

/** A refusal: a core code (BET.*, RACE.*, INPUT.INVALID) or a gateway code, with the input field at fault. */
export interface BetRefusal {
  readonly code: DomainError['code'] | GatewayErrorCode;
  readonly message: string;
  readonly path?: string;
}

export const IDEMPOTENCY_KEY_LENGTH_MAX = 128;

interface Deps {
  readonly store: GatewayStore;
  readonly nowMs: () => number;
}

const refuse = (code: BetRefusal['code'], message: string, path?: string): { ok: false; error: BetRefusal } => ({ ok: false, error: path === undefined ? { code, message } : { code, message, path } });

/** The ticket id for (user, key): deterministic, so every retry names the same ticket; a hash keeps it short whatever the key. */
export function ticketIdFor(userId: string, idempotencyKey: string): string {
  return `gw-${createHash('sha256').update(userId).update('\u0000').update(idempotencyKey).digest('base64url').slice(0, 32)}`;
}

const sameBet = (t: Ticket, b: BetRequest): boolean =>
  t.userId === b.userId && t.raceId === b.raceId && t.betType === b.betType && t.combination === b.combination && t.stake === b.stake && t.currency === b.currency;

/** The checks the core makes with the race's field, in the order a client fixes them. */
function checkBet(race: RaceInfo | undefined, input: BetInput, nowMs: number): Result<void, DomainError> {
  if (race === undefined) return err('RACE.UNKNOWN', `race ${input.raceId} is not known`, 'raceId');
  if (!isBetType(input.betType)) return err('BET.TYPE_UNKNOWN', `bet type ${JSON.stringify(input.betType)} is unknown`, 'betType');
  if (!Number.isSafeInteger(input.stake) || input.stake <= 0 || input.stake % STAKE_UNIT !== 0) {
    return err('BET.STAKE_INVALID', `stake must be a positive multiple of ${STAKE_UNIT}, got ${input.stake}`, 'stake');
  }
  const field = validateField(race.sport, race.riders);
  if (!field.ok) return field;
  const combination = parseCombination(input.betType, input.combination, field.value);
  if (!combination.ok) return { ok: false, error: { ...combination.error, path: combination.error.code === 'BET.TYPE_NOT_SOLD' ? 'betType' : 'combination' } };
  if (nowMs >= race.closeAtMs) return err('BET.RACE_CLOSED', `betting on ${input.raceId} closed at ${new Date(race.closeAtMs).toISOString()}`, 'raceId');
  return ok(undefined);
}

/** Places the caller's bet; the same key returns the same ticket. */
export async function placeBetFor(deps: Deps, userId: string, input: BetInput, idempotencyKey: string): Promise<Result<Ticket, BetRefusal>> {
  if (idempotencyKey.length === 0 || idempotencyKey.length > IDEMPOTENCY_KEY_LENGTH_MAX) {
    return refuse('GATEWAY.IDEMPOTENCY_KEY_INVALID', `the idempotency key must be 1..${IDEMPOTENCY_KEY_LENGTH_MAX} characters, got ${idempotencyKey.length}`, 'idempotencyKey');
  }
  const race = await deps.store.getRace(input.raceId);
  const checked = checkBet(race, input, deps.nowMs());
  if (!checked.ok) return checked;
  const bet: BetRequest = {
    ticketId: ticketIdFor(userId, idempotencyKey),
    userId,
    raceId: input.raceId,
    betType: input.betType as BetRequest['betType'],
    combination: input.combination,
    stake: input.stake,
    currency: input.currency ?? 'cash',
  };
  const placed = await deps.store.placeBet(bet);
  if (!placed.ok) {
    // A store that compares a reused ticket id with the earlier bet says so on the ticket id.
    if (placed.error.path === 'ticketId') return refuse('GATEWAY.IDEMPOTENCY_KEY_REUSED', `idempotency key ${JSON.stringify(idempotencyKey)} already placed a different bet`, 'idempotencyKey');
    if (placed.error.path === 'userId') return refuse('GATEWAY.NOT_FOUND', `user ${userId} has no account`);
    return placed;
  }
  // A store that answers a reused ticket id with the earlier ticket: a different bet is refused (nothing was debited).
  if (!sameBet(placed.value, bet)) return refuse('GATEWAY.IDEMPOTENCY_KEY_REUSED', `idempotency key ${JSON.stringify(idempotencyKey)} already placed a different bet`, 'idempotencyKey');
  return ok(placed.value);
}
