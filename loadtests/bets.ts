// The deadline rush (`raceday load bets`): autocannon, driven from code, posts placeBet mutations
// (GraphQL over HTTP, bearer tokens) at a rate that ramps up in stages to the race's close and
// goes on a little past it, records every answer (accepted with its ticket, or refused with its
// code), and afterwards checks the Store: every accepted bet is there, once, for its user and
// stake; a refused one left no ticket; and every user's cash is the opening cash minus the stakes
// of exactly the accepted tickets.
import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import { ticketIdFor } from '../gateway/place-bet.ts';
import type { StoreReadback } from '../core/ports.ts';
import { createLatencyHistogram, percentilesOf, type Percentiles } from '../reports/latency.ts';
import { outcomeOf, placeBetBody, planBet, RUSH_MIX_DEFAULT, type BetOutcome, type PlannedBet, type RushMix, type RushUser } from './bets/plan.ts';

export type { RushUser, RushMix } from './bets/plan.ts';

export interface BetsOptions {
  /** POST endpoint of GraphQL over HTTP, e.g. http://127.0.0.1:P/graphql. */
  readonly graphqlUrl: string;
  readonly users: readonly RushUser[];
  readonly raceId: string;
  readonly riders: number;
  /** When betting on the race closes (epoch ms): the ramp ends here. */
  readonly closeAtMs: number;
  /** Ramp length before the close (default 5 s), in `stages` equal steps. */
  readonly rampMs?: number;
  readonly stages?: number;
  readonly rateStartPerSecond?: number;
  readonly ratePeakPerSecond?: number;
  /** How long the rush goes on past the close at the peak rate (default 1 s): those bets must be refused. */
  readonly afterCloseMs?: number;
  /** HTTP connections (default 16). */
  readonly connections?: number;
  readonly mix?: RushMix;
  readonly log?: (line: string) => void;
}

export interface StageReport {
  readonly ratePerSecond: number;
  readonly startMsBeforeClose: number;
  readonly requests: number;
  readonly latencyMs: Percentiles;
}

export interface RequestRecord {
  readonly index: number;
  readonly bet: PlannedBet;
  readonly outcome: BetOutcome;
  /** Sent before the race's close (by the driver's clock). */
  readonly beforeClose: boolean;
}

export interface BetsReport {
  readonly requests: number;
  readonly accepted: number;
  readonly acceptedDistinctTickets: number;
  /** Refusals by error code (BET.COMBINATION_INVALID, BET.RACE_CLOSED, BET.INSUFFICIENT_BALANCE, ...). */
  readonly rejectedByCode: Readonly<Record<string, number>>;
  readonly indeterminate: number;
  /** Transport errors autocannon counted (timeouts, resets). */
  readonly transportErrors: number;
  readonly latencyMs: Percentiles;
  readonly stages: readonly StageReport[];
}

const stageRates = (start: number, peak: number, stages: number): number[] =>
  Array.from({ length: stages }, (_, k) => Math.round(stages === 1 ? peak : start + ((peak - start) * k) / (stages - 1)));

/** Runs the rush and returns its report and every request's record (for verifyBets). */
export async function runBets(options: BetsOptions): Promise<{ report: BetsReport; records: RequestRecord[] }> {
  const runId = randomUUID().slice(0, 8);
  const mix = options.mix ?? RUSH_MIX_DEFAULT;
  const stages = options.stages ?? 5;
  const rampMs = options.rampMs ?? 5_000;
  const rates = stageRates(options.rateStartPerSecond ?? 20, options.ratePeakPerSecond ?? 200, stages);
  const stageMs = rampMs / stages;
  const records: RequestRecord[] = [];
  const all = createLatencyHistogram();
  const stageReports: StageReport[] = [];
  let next = 0;
  const pending = new Map<number, PlannedBet>();
  let transportErrors = 0;
  const waitMs = options.closeAtMs - rampMs - Date.now();
  if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
  // Stages are anchored to the clock, not chained: a stage that ran long shortens the next, so the
  // ramp's last stage still ends at the close.
  const rampStartMs = options.closeAtMs - rampMs;
  const plan: { rate: number; endMs: number; afterClose?: true }[] = rates.map((rate, k) => ({ rate, endMs: rampStartMs + (k + 1) * stageMs }));
  const afterCloseMs = options.afterCloseMs ?? 1_000;
  if (afterCloseMs > 0) plan.push({ rate: rates[rates.length - 1] as number, endMs: options.closeAtMs + afterCloseMs, afterClose: true });
  for (const { rate, endMs, afterClose } of plan) {
    // The rush past the close always runs for its full length: on a slow backend the ramp's last
    // stage can overrun the close, and skipping the rest would leave the close untried.
    const ms = afterClose === true ? Math.max(endMs - Date.now(), afterCloseMs) : endMs - Date.now();
    if (ms < 50) continue;
    const h = createLatencyHistogram();
    const before = options.closeAtMs - Date.now();
    const amount = Math.max(1, Math.round((rate * ms) / 1000));
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const inst = autocannon({
        url: options.graphqlUrl,
        // autocannon refuses more connections than requests.
        connections: Math.min(options.connections ?? 16, rate, amount),
        overallRate: rate,
        // A count, not a duration: autocannon stops a timed run with requests in flight, whose
        // bets may be placed with no answer recorded; a counted run waits for every answer.
        amount,
        timeout: 10,
        requests: [{
          method: 'POST',
          setupRequest: (req, context) => {
            const index = next++;
            const bet = planBet(index, runId, options.users, options.raceId, options.riders, mix);
            Object.assign(context, { index, bet, sentBeforeClose: Date.now() < options.closeAtMs });
            pending.set(index, bet);
            return { ...req, headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization: `Bearer ${bet.user.token}` }, body: placeBetBody(bet) };
          },
          onResponse: (status, body, context) => {
            const c = context as { index: number; bet: PlannedBet; sentBeforeClose: boolean };
            pending.delete(c.index);
            records.push({ index: c.index, bet: c.bet, outcome: outcomeOf(status, body), beforeClose: c.sentBeforeClose });
          },
        }],
      }, (e, r) => (e ? reject(e) : resolve(r)));
      inst.on('response', (_client, _status, _bytes, responseTimeMs) => {
        const us = Math.max(0, Math.round(responseTimeMs * 1000));
        h.recordValue(us);
        all.recordValue(us);
      });
    });
    transportErrors += result.errors + result.timeouts;
    // Prepared but never answered (a timeout, or the last request of the stage): placed or not,
    // the Store decides; verifyBets counts such a ticket only if it exists.
    for (const [index, bet] of pending) records.push({ index, bet, outcome: { kind: 'indeterminate', why: 'no answer' }, beforeClose: false });
    pending.clear();
    stageReports.push({ ratePerSecond: rate, startMsBeforeClose: before, requests: h.totalCount, latencyMs: percentilesOf(h) });
    options.log?.(`rush: ${rate} req/s for ${Math.round(ms)} ms from ${Math.round(before)} ms before the close: ${h.totalCount} answered`);
  }
  return { report: summarize(records, all, stageReports, transportErrors), records };
}

function summarize(records: readonly RequestRecord[], all: ReturnType<typeof createLatencyHistogram>, stages: StageReport[], transportErrors: number): BetsReport {
  const rejectedByCode: Record<string, number> = {};
  const tickets = new Set<string>();
  let accepted = 0;
  let indeterminate = 0;
  for (const r of records) {
    if (r.outcome.kind === 'accepted') {
      accepted++;
      tickets.add(r.outcome.ticketId);
    } else if (r.outcome.kind === 'rejected') rejectedByCode[r.outcome.code] = (rejectedByCode[r.outcome.code] ?? 0) + 1;
    else indeterminate++;
  }
  return { requests: records.length, accepted, acceptedDistinctTickets: tickets.size, rejectedByCode, indeterminate, transportErrors, latencyMs: percentilesOf(all), stages };
}

export interface BetsVerification {
  readonly ok: boolean;
  /** Accepted tickets the Store lacks, or holds for another user or stake. */
  readonly acceptedMissing: number;
  /** Refused requests whose ticket is in the Store anyway (and whose key was never accepted). */
  readonly rejectedLeftTicket: number;
  /** Users whose cash is not opening cash minus the stakes of their accepted tickets. */
  readonly balanceMismatches: number;
  readonly usersChecked: number;
  readonly firstProblem?: string;
}

/**
 * Checks the run against the Store. `openingCash` is each user's cash before the rush. A request
 * with no usable answer (indeterminate) may have been placed: its ticket, if the Store has it,
 * counts as accepted for the balance; that is the only way a ticket not answered as accepted may exist.
 */
export async function verifyBets(records: readonly RequestRecord[], store: Pick<StoreReadback, 'ticketsOfRace' | 'balances'>, raceId: string, openingCash: ReadonlyMap<string, number>): Promise<BetsVerification> {
  const inStore = new Map<string, { userId: string; stake: number }>();
  for await (const t of store.ticketsOfRace(raceId)) inStore.set(t.ticketId, { userId: t.userId, stake: t.stake });
  const acceptedKeys = new Set<string>();
  const debits = new Map<string, Map<string, number>>(); // user -> ticket -> stake
  const debit = (userId: string, ticketId: string, stake: number) => (debits.get(userId) ?? debits.set(userId, new Map()).get(userId) as Map<string, number>).set(ticketId, stake);
  let acceptedMissing = 0;
  let rejectedLeftTicket = 0;
  let firstProblem: string | undefined;
  const problem = (s: string) => (firstProblem ??= s);
  for (const r of records) {
    if (r.outcome.kind !== 'accepted') continue;
    acceptedKeys.add(`${r.bet.user.userId}\u0000${r.bet.idempotencyKey}`);
    const t = inStore.get(r.outcome.ticketId);
    if (t === undefined || t.userId !== r.bet.user.userId || t.stake !== r.bet.input.stake) {
      acceptedMissing++;
      problem(`accepted ticket ${r.outcome.ticketId} of ${r.bet.user.userId} is ${t === undefined ? 'not in the Store' : 'stored with another user or stake'}`);
    } else debit(r.bet.user.userId, r.outcome.ticketId, t.stake);
  }
  for (const r of records) {
    if (r.outcome.kind === 'accepted') continue;
    const id = ticketIdFor(r.bet.user.userId, r.bet.idempotencyKey);
    const t = inStore.get(id);
    if (t === undefined) continue;
    if (r.outcome.kind === 'indeterminate') debit(r.bet.user.userId, id, t.stake);
    else if (!acceptedKeys.has(`${r.bet.user.userId}\u0000${r.bet.idempotencyKey}`)) {
      rejectedLeftTicket++;
      problem(`refused request ${r.index} (${r.outcome.code}) left ticket ${id} in the Store`);
    }
  }
  let balanceMismatches = 0;
  for (const [userId, opening] of openingCash) {
    const spent = [...(debits.get(userId)?.values() ?? [])].reduce((s, v) => s + v, 0);
    const account = await store.balances(userId);
    if (account?.cash !== opening - spent) {
      balanceMismatches++;
      problem(`user ${userId}: cash ${account?.cash} but opening ${opening} - accepted stakes ${spent} = ${opening - spent}`);
    }
  }
  const ok = acceptedMissing === 0 && rejectedLeftTicket === 0 && balanceMismatches === 0;
  return { ok, acceptedMissing, rejectedLeftTicket, balanceMismatches, usersChecked: openingCash.size, ...(firstProblem === undefined ? {} : { firstProblem }) };
}
