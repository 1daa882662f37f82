// The settlement fast path for millions of tickets. Tickets are stored column by column in typed
// arrays (one byte of bet type, two bytes of combination code, four bytes of stake units, one byte
// of currency: 8 bytes a ticket), and the payout table is flattened once per race into dense
// arrays indexed by currency * COMBO_KEY_SPACE + comboKey(betType, code). Settling a ticket is then
// two array loads and a multiply, with no parsing, hashing or allocation.
// The per-combination rule is `classifyCombination` of settlement.ts, the same one the object path
// (`settleUserTickets`) applies, and a property test checks the two agree ticket by ticket.
// settleColumns is THE pricing kernel of the stores: the memory store copies a user's open rows
// into columns and prices them with it, the Spanner store prices the tickets it read the same way
// (settleUserColumns), and `raceday bench core` times it, so the bench measures what runs.
import { COMBO_KEY_SPACE, comboKey, encodeCombination, enumerateCombinations, parseCombination } from './combination.ts';
import type { PayoutTable } from './payout-table.ts';
import { err, invariant, ok, type Result } from './result.ts';
import { classifyCombination, DEFAULT_SETTLEMENT_RULES, type SettledStatus, type SettlementRules } from './settlement.ts';
import { BET_TYPE_CODE, BET_TYPES, betTypesSold, isBetTypeSold, type Field } from './sports.ts';
import { STAKE_UNIT, type Currency, type Ticket } from './ticket.ts';

export const CURRENCY_CODE: Readonly<Record<Currency, number>> = Object.freeze({ cash: 0, medal: 1 });
export const CURRENCY_OF_CODE: readonly Currency[] = ['cash', 'medal'];

/** Status codes in `out.status`; 0 marks a ticket that cannot be settled against the table. */
export const STATUS_CODE = Object.freeze({ invalid: 0, won: 1, lost: 2, refunded: 3, special: 4 } as const);
export const STATUS_OF_CODE: readonly (SettledStatus | 'invalid')[] = ['invalid', 'won', 'lost', 'refunded', 'special'];

/** Combination codes are at most three decimal digits (combination.ts). */
const MAX_COMBO_CODE = 999;
/** Stake units live in a Uint32. */
export const MAX_STAKE_UNITS = 0xffff_ffff;

/** Tickets of one race in columns; `count` rows are filled, the arrays may be longer (capacity). */
export interface TicketColumns {
  count: number;
  readonly betType: Uint8Array;
  readonly comboCode: Uint16Array;
  /** stake / 100. */
  readonly stakeUnits: Uint32Array;
  /** 0 cash, 1 medal (CURRENCY_CODE). */
  readonly currency: Uint8Array;
}

export function createTicketColumns(capacity: number): TicketColumns {
  invariant(Number.isSafeInteger(capacity) && capacity >= 0, `ticket column capacity must be a non-negative integer, got ${capacity}`);
  return {
    count: 0,
    betType: new Uint8Array(capacity),
    comboCode: new Uint16Array(capacity),
    stakeUnits: new Uint32Array(capacity),
    currency: new Uint8Array(capacity),
  };
}

/** Appends a ticket given as object, validating it as the object path does; returns its row. */
export function appendTicket(columns: TicketColumns, t: Ticket, field: Field): Result<number> {
  const row = columns.count;
  invariant(row < columns.betType.length, `ticket columns are full (capacity ${columns.betType.length})`);
  if (!isBetTypeSold(field, t.betType)) return err('BET.TYPE_NOT_SOLD', `ticket ${t.ticketId}: ${t.betType} is not sold in this field`, 'betType');
  const units = t.stake / STAKE_UNIT;
  if (!Number.isInteger(units) || units < 1 || units > MAX_STAKE_UNITS) return err('BET.STAKE_INVALID', `ticket ${t.ticketId}: stake ${t.stake} is not a positive multiple of ${STAKE_UNIT} that fits a column`, 'stake');
  const parsed = parseCombination(t.betType, t.combination, field);
  if (!parsed.ok) return parsed;
  columns.betType[row] = BET_TYPE_CODE[t.betType];
  columns.comboCode[row] = encodeCombination(parsed.value);
  columns.stakeUnits[row] = units;
  columns.currency[row] = CURRENCY_CODE[t.currency];
  columns.count = row + 1;
  return ok(row);
}

/** The payout table flattened: index = currency * COMBO_KEY_SPACE + comboKey. */
export interface OutcomeLookup {
  readonly status: Uint8Array;
  readonly per100: Int32Array;
}

export function lookupIndex(currency: number, betType: number, comboCode: number): number {
  return currency * COMBO_KEY_SPACE + betType * 1000 + comboCode;
}

/**
 * Flattens a payout table for a field. Every combination that exists for a bet type sold in the
 * field gets its status and per100 for each currency; every other key stays `invalid`, as do
 * combinations the object path would reject (bet type missing from the table, a cash ticket on an
 * unpriced winner).
 */
export function buildOutcomeLookup(table: PayoutTable, field: Field, rules: SettlementRules = DEFAULT_SETTLEMENT_RULES): OutcomeLookup {
  invariant(table.sport === field.sport && table.riders === field.riders, `payout table (${table.riders}-rider ${table.sport}) does not match the field (${field.riders}-rider ${field.sport})`);
  const status = new Uint8Array(CURRENCY_OF_CODE.length * COMBO_KEY_SPACE);
  const per100 = new Int32Array(CURRENCY_OF_CODE.length * COMBO_KEY_SPACE);
  for (const betType of betTypesSold(field)) {
    const payout = table.byType[betType];
    for (const combination of enumerateCombinations(betType, field)) {
      const code = encodeCombination(combination);
      for (let cur = 0; cur < CURRENCY_OF_CODE.length; cur++) {
        const c = classifyCombination(payout, code, CURRENCY_OF_CODE[cur] as Currency, rules);
        if (!c.ok) continue;
        invariant(Number.isInteger(c.value.per100) && c.value.per100 >= 0 && c.value.per100 <= 0x7fff_ffff, `per100 ${c.value.per100} does not fit an Int32`);
        const i = cur * COMBO_KEY_SPACE + comboKey(betType, code);
        status[i] = STATUS_CODE[c.value.status];
        per100[i] = c.value.per100;
      }
    }
  }
  return { status, per100 };
}

export interface ColumnOutput {
  readonly status: Uint8Array;
  /** The ticket's payout per 100 staked (0 for lost and invalid tickets). */
  readonly per100: Int32Array;
  /** stakeUnits * per100; integers held exactly in a Float64 (below 2^53). */
  readonly payout: Float64Array;
}

export interface ColumnTotals {
  readonly cashPaid: number;
  readonly medalsPaid: number;
  /** Tickets won or paid specially. */
  readonly hits: number;
  /** Of those, trifecta tickets (missions count them). */
  readonly trifectaHits: number;
  /** Tickets that could not be settled (status 0); the object path returns an error for them. */
  readonly invalid: number;
}

/** 1 for the status codes that count as hits (won, special). */
const HIT_OF_STATUS = new Uint8Array([0, 1, 0, 0, 1, 0, 0, 0]);
const INVALID_INDEX = 0; // status[0] is never filled: betType 0 = win, code 0 is not a combination
/** 1 at the trifecta bet type code: trifecta hits counted with a load, not a branch. */
const IS_TRIFECTA = new Uint8Array(256);
IS_TRIFECTA[BET_TYPE_CODE.trifecta] = 1;

/** A ColumnOutput for `rows` tickets. */
export function createColumnOutput(rows: number): ColumnOutput {
  return { status: new Uint8Array(rows), per100: new Int32Array(rows), payout: new Float64Array(rows) };
}

/** Settles rows [from, to) into `out`; a tight loop over typed arrays that allocates nothing. */
export function settleColumns(columns: TicketColumns, lookup: OutcomeLookup, from: number, to: number, out: ColumnOutput): ColumnTotals {
  invariant(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= columns.count, `bad row range [${from}, ${to}) of ${columns.count}`);
  invariant(out.status.length >= to && out.per100.length >= to && out.payout.length >= to, `output arrays hold fewer than ${to} rows`);
  invariant(lookup.status.length === CURRENCY_OF_CODE.length * COMBO_KEY_SPACE, 'lookup has the wrong size');
  const { betType, comboCode, stakeUnits, currency } = columns;
  const statusOf = lookup.status;
  const per100Of = lookup.per100;
  const outStatus = out.status;
  const outPer100 = out.per100;
  const outPayout = out.payout;
  let cashPaid = 0;
  let medalsPaid = 0;
  let hits = 0;
  let trifectaHits = 0;
  let invalid = 0;
  for (let i = from; i < to; i++) {
    const bt = betType[i] as number;
    const code = comboCode[i] as number;
    const cur = currency[i] as number;
    // Out-of-range columns map to the never-filled entry, so they settle as invalid.
    const k = code > MAX_COMBO_CODE || bt >= BET_TYPES.length || cur > 1 ? INVALID_INDEX : cur * COMBO_KEY_SPACE + bt * 1000 + code;
    const s = statusOf[k] as number;
    const per100 = per100Of[k] as number;
    const pay = (stakeUnits[i] as number) * per100;
    outStatus[i] = s;
    outPer100[i] = per100;
    outPayout[i] = pay;
    medalsPaid += pay * cur;
    cashPaid += pay * (1 - cur);
    const hit = HIT_OF_STATUS[s] as number;
    hits += hit;
    trifectaHits += hit & (IS_TRIFECTA[bt] as number);
    invalid += s === 0 ? 1 : 0;
  }
  return { cashPaid, medalsPaid, hits, trifectaHits, invalid };
}
