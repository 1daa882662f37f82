// Proves settleUserTickets pays every ticket what the rules say: hand-built payout tables cover
// won, lost, refunded, special, free-medal and unpriced outcomes and each error, and fast-check
// properties (seeded, printing the seed on failure) show that settlement is idempotent and
// order-independent, that its ledger sums equal its balance deltas, and that free-medal tickets
// never change cash pools, cash payouts or cash balances.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIELDS, pick, randomPayoutTable, randomTickets } from './_fixtures/random-settlement.ts';
import { encodeCombination, parseCombination } from './combination.ts';
import { computePayoutTable } from './payout.ts';
import type { PayoutTable } from './payout-table.ts';
import { createRng } from './rng.ts';
import { applySettlement, settlementProblems, settleUserTickets, verifySettlement, type SettleUserInput } from './settlement.ts';
import type { Settlement } from './settlement-record.ts';
import type { BetType, Field } from './sports.ts';
import type { Ticket } from './ticket.ts';

const FIELD9: Field = { sport: 'keirin', riders: 9 };

// Result [[3],[1,5],...]: trifecta 3-1-5 and 3-5-1 win; cash was staked on 3-1-5 only.
const TABLE: PayoutTable = {
  sport: 'keirin',
  riders: 9,
  byType: {
    trifecta: { kind: 'paid', winners: new Map([[315, 310]]), winning: [315, 351], refunded: new Set([731]) },
    wide: { kind: 'special', per100: 70, winning: [13, 15, 35], refunded: new Set() },
    exacta: { kind: 'no_sales', winning: [31, 35], refunded: new Set() },
    trio: { kind: 'refunded' },
    quinella: { kind: 'paid', winners: new Map([[13, 250], [35, 180]]), winning: [13, 35], refunded: new Set() },
  },
};

let nextId = 0;
function ticket(betType: BetType, combination: string, stake: number, currency: Ticket['currency'] = 'cash', over: Partial<Ticket> = {}): Ticket {
  return { ticketId: `t${String(nextId++).padStart(3, '0')}`, userId: 'u1', raceId: 'r1', betType, combination, stake, currency, ...over };
}

function settle(tickets: Ticket[], over: Partial<SettleUserInput> = {}) {
  return settleUserTickets({ raceId: 'r1', userId: 'u1', resultVersion: 1, tickets, table: TABLE, field: FIELD9, ...over });
}

function settled(tickets: Ticket[], over: Partial<SettleUserInput> = {}): Settlement {
  const r = settle(tickets, over);
  if (!r.ok) throw new Error(`expected a settlement, got ${r.error.code}: ${r.error.message}`);
  return r.value;
}

describe('settleUserTickets outcomes', () => {
  it('pays a staked winner its per100, refunds and special payouts, and loses the rest', () => {
    const won = ticket('trifecta', '3-1-5', 200);
    const lost = ticket('trifecta', '1-2-3', 500);
    const scratched = ticket('trifecta', '7-3-1', 300);
    const special = ticket('wide', '2=4', 1000);
    const voided = ticket('trio', '1=3=5', 400);
    const s = settled([won, lost, scratched, special, voided]);
    const by = new Map(s.outcomes.map((o) => [o.ticketId, o]));
    expect(by.get(won.ticketId)).toMatchObject({ status: 'won', per100: 310, payout: 620, currency: 'cash', betType: 'trifecta' });
    expect(by.get(lost.ticketId)).toMatchObject({ status: 'lost', per100: 0, payout: 0 });
    expect(by.get(scratched.ticketId)).toMatchObject({ status: 'refunded', per100: 100, payout: 300 });
    expect(by.get(special.ticketId)).toMatchObject({ status: 'special', per100: 70, payout: 700 });
    expect(by.get(voided.ticketId)).toMatchObject({ status: 'refunded', per100: 100, payout: 400 });
    expect(s.cashDelta).toBe(620 + 300 + 700 + 400);
    expect(s.medalDelta).toBe(0);
    expect(s.hits).toBe(2);
    expect(s.settlementId).toBe('stl:r1:u1:v1');
    expect(s.ledger.map((e) => [e.ref, e.reason, e.amount])).toEqual([
      [won.ticketId, 'payout', 620],
      [scratched.ticketId, 'refund', 300],
      [special.ticketId, 'special', 700],
      [voided.ticketId, 'refund', 400],
    ]);
  });

  it('pays free-medal tickets in medals at the official per100, and refunds medals', () => {
    const won = ticket('quinella', '3=5', 1000, 'medal');
    const special = ticket('wide', '1=3', 300, 'medal');
    const refund = ticket('trifecta', '7-3-1', 200, 'medal');
    const lost = ticket('quinella', '1=2', 100, 'medal');
    const s = settled([won, special, refund, lost]);
    expect(s.outcomes.map((o) => [o.status, o.per100, o.payout, o.currency])).toEqual([
      ['won', 180, 1800, 'medal'],
      ['special', 70, 210, 'medal'],
      ['refunded', 100, 200, 'medal'],
      ['lost', 0, 0, 'medal'],
    ]);
    expect(s.medalDelta).toBe(1800 + 210 + 200);
    expect(s.cashDelta).toBe(0);
    expect(s.ledger.every((e) => e.currency === 'medal')).toBe(true);
  });

  it('pays a free-medal winner without an official price the configured unpriced per100', () => {
    const unstaked = ticket('trifecta', '3-5-1', 500, 'medal');
    const noSales = ticket('exacta', '3-1', 200, 'medal');
    const noSalesLoser = ticket('exacta', '1-3', 200, 'medal');
    const byDefault = settled([unstaked, noSales, noSalesLoser]);
    expect(byDefault.outcomes.map((o) => [o.status, o.per100, o.payout])).toEqual([
      ['won', 100, 500],
      ['won', 100, 200],
      ['lost', 0, 0],
    ]);
    const configured = settled([unstaked, noSales], { rules: { unpricedMedalWinPer100: 150 } });
    expect(configured.outcomes.map((o) => o.payout)).toEqual([750, 300]);
    expect(configured.hits).toBe(2);
  });

  it('orders outcomes by ticket id whatever order the tickets came in', () => {
    const a = ticket('trifecta', '3-1-5', 100);
    const b = ticket('trifecta', '1-2-3', 100, 'medal');
    expect(settled([b, a])).toEqual(settled([a, b]));
    expect(settled([b, a]).outcomes.map((o) => o.ticketId)).toEqual([a.ticketId, b.ticketId]);
  });
});

describe('settleUserTickets errors', () => {
  const cases: [string, Ticket, string, string][] = [
    ['an invalid combination', ticket('trifecta', '3-3-1', 100), 'BET.COMBINATION_INVALID', 'appears twice'],
    ['a rider out of range', ticket('exacta', '3-10', 100), 'BET.COMBINATION_INVALID', '"10" is not a rider number'],
    ['a ticket of another race', ticket('trifecta', '3-1-5', 100, 'cash', { raceId: 'r2' }), 'INPUT.INVALID', 'belongs to race "r2"'],
    ['a ticket of another user', ticket('trifecta', '3-1-5', 100, 'cash', { userId: 'u9' }), 'INPUT.INVALID', 'belongs to user "u9"'],
    ['a stake that is not a multiple of 100', ticket('trifecta', '3-1-5', 150), 'BET.STAKE_INVALID', 'positive multiple of 100'],
    ['a bet type not sold in the field', ticket('win', '3', 100), 'BET.TYPE_NOT_SOLD', 'not sold'],
    ['a bet type missing from the table', ticket('bracket_exacta', '2-1', 100), 'BET.TYPE_NOT_SOLD', 'no entry'],
    ['a cash winner the table has no price for', ticket('trifecta', '3-5-1', 100), 'POOL.INVALID', 'no price'],
  ];
  for (const [name, t, code, words] of cases) {
    it(`rejects ${name}`, () => {
      const r = settle([ticket('trifecta', '1-2-3', 100), t]);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.code).toBe(code);
      expect(r.error.message).toContain(words);
      expect(r.error.message).toContain(t.ticketId);
    });
  }

  it('rejects a ticket id that appears twice and a table of another field', () => {
    const t = ticket('trifecta', '1-2-3', 100);
    const dup = settle([t, { ...t }]);
    expect(!dup.ok && dup.error.message).toContain('appears twice');
    const other = settle([t], { field: { sport: 'keirin', riders: 7 } });
    expect(!other.ok && other.error.code).toBe('INPUT.INVALID');
  });
});

describe('verifySettlement and applySettlement', () => {
  it('applies deltas to a balance and refuses a record whose ledger disagrees with its deltas', () => {
    const s = settled([ticket('trifecta', '3-1-5', 200), ticket('quinella', '3=5', 100, 'medal')]);
    expect(applySettlement({ userId: 'u1', cash: 1000, medals: 50 }, s)).toEqual({ userId: 'u1', cash: 1620, medals: 230 });
    const broken = { ...s, cashDelta: s.cashDelta + 10 };
    expect(settlementProblems(broken)).toEqual([`cash ledger sums to 620 but cashDelta is 630`]);
    expect(() => verifySettlement(broken)).toThrow(/invariant violated/);
    expect(settlementProblems({ ...s, hits: 0 })).toHaveLength(1);
    expect(settlementProblems({ ...s, settlementId: 'stl:x' })).toHaveLength(1);
  });
});

/** A random settlement input from one seed: field, a consistent random table, shuffled tickets. */
function randomInput(seed: number, count: number): SettleUserInput {
  const rng = createRng(seed);
  const field = pick(rng, FIELDS);
  const table = randomPayoutTable(rng, field);
  const tickets = randomTickets(rng, field, table, { raceId: 'r1', userId: 'u1', count, medalShare: 0.6, onlySettleable: true });
  return { raceId: 'r1', userId: 'u1', resultVersion: rng.int(1, 3), tickets, table, field };
}

function cashPools(tickets: readonly Ticket[], field: Field): Partial<Record<BetType, Map<number, number>>> {
  const pools: Partial<Record<BetType, Map<number, number>>> = {};
  for (const t of tickets) {
    if (t.currency !== 'cash') continue;
    const parsed = parseCombination(t.betType, t.combination, field);
    if (!parsed.ok) throw new Error(parsed.error.message);
    const pool = (pools[t.betType] ??= new Map());
    const code = encodeCombination(parsed.value);
    pool.set(code, (pool.get(code) ?? 0) + t.stake);
  }
  return pools;
}

describe('settlement properties', () => {
  it('is idempotent and order-independent, and its ledger sums equal its balance deltas', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 60 }), (seed, count) => {
        const input = randomInput(seed, count);
        const a = settleUserTickets(input);
        const b = settleUserTickets({ ...input, tickets: [...input.tickets].reverse() });
        expect(a.ok && b.ok).toBe(true);
        if (!a.ok || !b.ok) return;
        expect(b.value).toEqual(a.value);
        expect(settlementProblems(a.value)).toEqual([]);
        const sum = (c: string) => a.value.ledger.filter((e) => e.currency === c).reduce((n, e) => n + e.amount, 0);
        expect([sum('cash'), sum('medal')]).toEqual([a.value.cashDelta, a.value.medalDelta]);
        expect(a.value.outcomes).toHaveLength(input.tickets.length);
      }),
    );
  });

  it('adding free-medal tickets changes neither the cash pools, the payout table, nor cash payouts and balances', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const rng = createRng(seed);
        const field = pick(rng, FIELDS);
        const riders = Array.from({ length: field.riders }, (_, i) => i + 1);
        for (let i = riders.length - 1; i > 0; i--) {
          const j = rng.int(0, i);
          [riders[i], riders[j]] = [riders[j] as number, riders[i] as number];
        }
        const [a, b, c, d] = riders as [number, number, number, number];
        const order = rng.int(0, 1) === 0 ? [[a], [b, c], [d]] : [[a], [b], [c], [d]];
        const result = { status: 'official' as const, order };
        const probe = randomPayoutTable(rng, field);
        const all = randomTickets(rng, field, probe, { raceId: 'r1', userId: 'u1', count: 80, medalShare: 0.5, onlySettleable: false });
        const cashOnly = all.filter((t) => t.currency === 'cash');
        const tableOf = (ts: readonly Ticket[]) => computePayoutTable({ field, scratched: [], result, pools: cashPools(ts, field) });
        const table = tableOf(all);
        expect(table).toEqual(tableOf(cashOnly));
        const input = { raceId: 'r1', userId: 'u1', resultVersion: 1, table, field };
        const withMedals = settleUserTickets({ ...input, tickets: all });
        const withoutMedals = settleUserTickets({ ...input, tickets: cashOnly });
        expect(withMedals.ok && withoutMedals.ok).toBe(true);
        if (!withMedals.ok || !withoutMedals.ok) return;
        expect(withMedals.value.cashDelta).toBe(withoutMedals.value.cashDelta);
        expect(withMedals.value.ledger.filter((e) => e.currency === 'cash')).toEqual(withoutMedals.value.ledger);
        expect(withoutMedals.value.medalDelta).toBe(0);
      }),
    );
  });
});
