// Settling one user's tickets of one race against the official payout table: outcomes, ledger,
// balance deltas and a settlement record whose id is deterministic, so a Store can detect (and
// refuse) applying it twice. The per-combination rule lives in `classifyCombination`, shared with
// the columnar fast path (settle-columns.ts) so both paths apply the same rules by construction.
import { encodeCombination, parseCombination } from './combination.ts';
import type { BetTypePayout, PayoutTable } from './payout-table.ts';
import { err, invariant, ok, type Result } from './result.ts';
import { settlementIdOf, type LedgerEntry, type LedgerReason, type Settlement, type TicketOutcome } from './settlement-record.ts';
import { isBetTypeSold, isBetType, type BetType, type Field } from './sports.ts';
import { STAKE_UNIT, type Currency, type Ticket } from './ticket.ts';

/** Configurable settlement rules (docs/rules.md marks the free-medal treatment as an assumption). */
export interface SettlementRules {
  /**
   * per100 paid to a free-medal ticket on a winning combination that has no official price: nobody
   * staked cash on it, or the bet type had no cash sales at all (`no_sales`). Assumption: the
   * service returns the stake (100), since there is no pari-mutuel price to follow.
   */
  readonly unpricedMedalWinPer100: number;
}

export const DEFAULT_SETTLEMENT_RULES: SettlementRules = Object.freeze({
  unpricedMedalWinPer100: 100, // the stake back, like the statutory 元返し floor
});

/** per100 of a refund: the stake comes back. */
export const REFUND_PER100 = 100;

export type SettledStatus = TicketOutcome['status'];

export interface Classification {
  readonly status: SettledStatus;
  readonly per100: number;
}

/**
 * What a ticket of `currency` on combination `code` of a bet type gets, given that bet type's entry
 * of the payout table. An error means the ticket cannot be settled against this table: the bet
 * type is missing from it, or a cash ticket wins on a combination the table has no price for
 * (the table was computed from pools that did not include that ticket).
 */
export function classifyCombination(payout: BetTypePayout | undefined, code: number, currency: Currency, rules: SettlementRules): Result<Classification> {
  if (payout === undefined) return err('BET.TYPE_NOT_SOLD', 'the payout table has no entry for this bet type');
  if (payout.kind === 'refunded' || payout.refunded.has(code)) return ok({ status: 'refunded', per100: REFUND_PER100 });
  if (payout.kind === 'special') return ok({ status: 'special', per100: payout.per100 });
  const price = payout.kind === 'paid' ? payout.winners.get(code) : undefined;
  if (price !== undefined) return ok({ status: 'won', per100: price });
  if (!payout.winning.includes(code)) return ok({ status: 'lost', per100: 0 });
  if (currency === 'medal') return ok({ status: 'won', per100: rules.unpricedMedalWinPer100 });
  return err('POOL.INVALID', 'a cash ticket wins on a combination the payout table has no price for; the table was not computed from pools that include this ticket');
}

export interface SettleUserInput {
  readonly raceId: string;
  readonly userId: string;
  readonly resultVersion: number;
  readonly tickets: readonly Ticket[];
  readonly table: PayoutTable;
  readonly field: Field;
  readonly rules?: SettlementRules;
}

const LEDGER_REASON: Readonly<Record<SettledStatus, LedgerReason | undefined>> = {
  won: 'payout',
  refunded: 'refund',
  special: 'special',
  lost: undefined,
};

function byTicketId(a: Ticket, b: Ticket): number {
  return a.ticketId < b.ticketId ? -1 : a.ticketId > b.ticketId ? 1 : 0;
}

function checkStake(stake: unknown): boolean {
  return typeof stake === 'number' && Number.isSafeInteger(stake) && stake > 0 && stake % STAKE_UNIT === 0;
}

// Valid combination texts parsed before, per field: at most a few thousand exist per field (504
// trifectas in a 9-rider race), so the cache is bounded; invalid texts are never cached.
const CODE_CACHE_ENTRIES_MAX = 20_000;
const codeCache = new Map<string, number>();

function combinationCode(betType: BetType, text: string, field: Field): Result<number> {
  const key = `${field.sport}/${field.riders}/${betType}/${text}`;
  const cached = codeCache.get(key);
  if (cached !== undefined) return ok(cached);
  const parsed = parseCombination(betType, text, field);
  if (!parsed.ok) return parsed;
  const code = encodeCombination(parsed.value);
  if (codeCache.size < CODE_CACHE_ENTRIES_MAX) codeCache.set(key, code);
  return ok(code);
}

/** Settles one ticket; errors carry the path `tickets.<ticketId>.<field>`. */
function ticketPath(t: Ticket, field: string): string {
  return `tickets.${t.ticketId}.${field}`;
}

function settleTicket(t: Ticket, input: SettleUserInput, rules: SettlementRules): Result<TicketOutcome> {
  if (t.raceId !== input.raceId) return err('INPUT.INVALID', `ticket ${t.ticketId} belongs to race "${t.raceId}", not "${input.raceId}"`, ticketPath(t, 'raceId'));
  if (t.userId !== input.userId) return err('INPUT.INVALID', `ticket ${t.ticketId} belongs to user "${t.userId}", not "${input.userId}"`, ticketPath(t, 'userId'));
  if (!isBetType(t.betType) || !isBetTypeSold(input.field, t.betType)) {
    return err('BET.TYPE_NOT_SOLD', `ticket ${t.ticketId}: bet type ${JSON.stringify(t.betType)} is not sold in a ${input.field.riders}-rider ${input.field.sport} race`, ticketPath(t, 'betType'));
  }
  if (!checkStake(t.stake)) return err('BET.STAKE_INVALID', `ticket ${t.ticketId}: stake must be a positive multiple of ${STAKE_UNIT}, got ${JSON.stringify(t.stake)}`, ticketPath(t, 'stake'));
  if (t.currency !== 'cash' && t.currency !== 'medal') return err('INPUT.INVALID', `ticket ${t.ticketId}: currency must be "cash" or "medal", got ${JSON.stringify(t.currency)}`, ticketPath(t, 'currency'));
  const code = combinationCode(t.betType, t.combination, input.field);
  if (!code.ok) return err(code.error.code, `ticket ${t.ticketId}: ${code.error.message}`, ticketPath(t, 'combination'));
  const c = classifyCombination(input.table.byType[t.betType], code.value, t.currency, rules);
  if (!c.ok) return err(c.error.code, `ticket ${t.ticketId} (${t.betType} ${t.combination}): ${c.error.message}`, ticketPath(t, 'combination'));
  const payout = (t.stake / STAKE_UNIT) * c.value.per100;
  if (!Number.isSafeInteger(payout)) return err('BET.STAKE_INVALID', `ticket ${t.ticketId}: payout ${payout} exceeds the exact integer range`, ticketPath(t, 'stake'));
  return ok({ ticketId: t.ticketId, status: c.value.status, per100: c.value.per100, payout, currency: t.currency, betType: t.betType });
}

/**
 * Settles a user's tickets of one race. Outcomes and ledger are ordered by ticket id, so the record
 * does not depend on the order a Store read the tickets in: settling the same tickets twice yields
 * an identical record with the same settlementId.
 */
export function settleUserTickets(input: SettleUserInput): Result<Settlement> {
  const rules = input.rules ?? DEFAULT_SETTLEMENT_RULES;
  const { table, field } = input;
  if (table.sport !== field.sport || table.riders !== field.riders) {
    return err('INPUT.INVALID', `payout table is for a ${table.riders}-rider ${table.sport} race, the field is a ${field.riders}-rider ${field.sport} race`, 'table');
  }
  const outcomes: TicketOutcome[] = [];
  const ledger: LedgerEntry[] = [];
  const seen = new Set<string>();
  let cashDelta = 0;
  let medalDelta = 0;
  let hits = 0;
  for (const t of [...input.tickets].sort(byTicketId)) {
    if (seen.has(t.ticketId)) return err('INPUT.INVALID', `ticket ${t.ticketId} appears twice`, `tickets.${t.ticketId}`);
    seen.add(t.ticketId);
    const r = settleTicket(t, input, rules);
    if (!r.ok) return r;
    const o = r.value;
    outcomes.push(o);
    if (isHit(o)) hits++;
    const reason = LEDGER_REASON[o.status];
    if (o.payout === 0 || reason === undefined) continue;
    ledger.push({ userId: input.userId, currency: o.currency, amount: o.payout, reason, ref: o.ticketId });
    if (o.currency === 'cash') cashDelta += o.payout;
    else medalDelta += o.payout;
  }
  return ok({
    settlementId: settlementIdOf(input.raceId, input.userId, input.resultVersion),
    raceId: input.raceId,
    userId: input.userId,
    resultVersion: input.resultVersion,
    outcomes,
    ledger,
    cashDelta,
    medalDelta,
    hits,
  });
}

/** Every way a settlement record breaks its own invariants; empty when it is consistent. */
export function settlementProblems(s: Settlement): string[] {
  const problems: string[] = [];
  if (s.settlementId !== settlementIdOf(s.raceId, s.userId, s.resultVersion)) problems.push(`settlementId "${s.settlementId}" is not derived from race, user and result version`);
  const sums: Record<Currency, number> = { cash: 0, medal: 0 };
  for (const e of s.ledger) {
    if (!Number.isSafeInteger(e.amount)) problems.push(`ledger entry ${e.ref}: amount ${e.amount} is not an integer`);
    if (e.userId !== s.userId) problems.push(`ledger entry ${e.ref}: belongs to user "${e.userId}"`);
    sums[e.currency] += e.amount;
  }
  if (sums.cash !== s.cashDelta) problems.push(`cash ledger sums to ${sums.cash} but cashDelta is ${s.cashDelta}`);
  if (sums.medal !== s.medalDelta) problems.push(`medal ledger sums to ${sums.medal} but medalDelta is ${s.medalDelta}`);
  const hits = s.outcomes.filter(isHit).length;
  if (hits !== s.hits) problems.push(`${hits} outcomes are hits but hits is ${s.hits}`);
  const byRef = new Map(s.ledger.map((e) => [e.ref, e]));
  for (const o of s.outcomes) {
    if (o.status === 'lost' && o.per100 !== 0) problems.push(`ticket ${o.ticketId}: lost with per100 ${o.per100}`);
    if (o.status === 'refunded' && o.per100 !== REFUND_PER100) problems.push(`ticket ${o.ticketId}: refunded with per100 ${o.per100}`);
    const e = byRef.get(o.ticketId);
    const expected = o.payout === 0 ? undefined : LEDGER_REASON[o.status];
    if (expected !== e?.reason || (e !== undefined && (e.amount !== o.payout || e.currency !== o.currency))) {
      problems.push(`ticket ${o.ticketId}: ledger entry does not match its ${o.status} outcome paying ${o.payout}`);
    }
  }
  if (byRef.size !== s.ledger.length || s.ledger.length > s.outcomes.length) problems.push('ledger has entries for unknown or repeated tickets');
  return problems;
}

/** Asserts a settlement is self-consistent (ledger sums = deltas, ...); a failure is a bug and throws. */
export function verifySettlement(s: Settlement): void {
  const problems = settlementProblems(s);
  invariant(problems.length === 0, `settlement ${s.settlementId}: ${problems.join('; ')}`);
}

export interface Balance {
  readonly cash: number;
  readonly medals: number;
}

/** A balance after a settlement: what checkers replay to compare with a Store's balances. */
export function applySettlement<B extends Balance>(balance: B, s: Settlement): B {
  verifySettlement(s);
  return { ...balance, cash: balance.cash + s.cashDelta, medals: balance.medals + s.medalDelta };
}

/** The one definition of a hit (counted in `hits`, the missions and the ranking): a ticket that won or was paid specially. */
export function isHit(o: Pick<TicketOutcome, 'status'>): boolean {
  return o.status === 'won' || o.status === 'special';
}

/**
 * Hits on tickets of one bet type (trifecta hits drive the "first trifecta hit" mission and ride
 * on the settlement marker). Every store counts them here; a store that reads the bet type from
 * its own ticket rows rather than from the outcome passes `betTypeOf(i)` for outcome i.
 */
export function hitsOfType(s: Pick<Settlement, 'outcomes'>, betType: BetType, betTypeOf: (i: number) => BetType | undefined = (i) => s.outcomes[i]?.betType): number {
  let n = 0;
  s.outcomes.forEach((o, i) => {
    if (isHit(o) && betTypeOf(i) === betType) n++;
  });
  return n;
}

