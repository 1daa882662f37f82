// What the deadline rush sends: the i-th request's user, idempotency key and bet. Deterministic
// from the index, so a run can be reasoned about afterwards. Most bets are valid trifectas; a
// share is malformed on purpose (a repeated rider) so refusals are exercised on every run, and a
// share repeats an earlier request's key and bet (a client retry) to prove a retry debits once.
import type { BetInput } from '../../gateway/place-bet.ts';

export interface RushUser {
  readonly userId: string;
  readonly token: string;
}

export interface PlannedBet {
  readonly user: RushUser;
  readonly idempotencyKey: string;
  readonly input: BetInput;
  /** Index of the request whose key this one repeats (a retry), if any. */
  readonly retryOf?: number;
}

export interface RushMix {
  /** One request in this many is malformed (0: none). */
  readonly malformedEvery: number;
  /** One request in this many repeats an earlier key (0: none). */
  readonly retryEvery: number;
  /** Stake of each bet, yen (a multiple of 100). */
  readonly stakeYen: number;
}

export const RUSH_MIX_DEFAULT: RushMix = { malformedEvery: 10, retryEvery: 25, stakeYen: 100 };

/** The riders of the race the rush bets on: a trifecta needs three distinct ones. */
function trifecta(i: number, riders: number): string {
  const a = (i % riders) + 1;
  const b = ((i + 1 + Math.floor(i / riders)) % riders) + 1;
  let c = ((i + 2 + Math.floor(i / (riders * riders))) % riders) + 1;
  const fixed = b === a ? (a % riders) + 1 : b;
  while (c === a || c === fixed) c = (c % riders) + 1;
  return `${a}-${fixed}-${c}`;
}

export function planBet(i: number, runId: string, users: readonly RushUser[], raceId: string, riders: number, mix: RushMix): PlannedBet {
  if (mix.retryEvery > 0 && i > 0 && i % mix.retryEvery === 0) {
    const first = planBet(i - 1, runId, users, raceId, riders, { ...mix, retryEvery: 0 });
    return { ...first, retryOf: i - 1 };
  }
  const user = users[i % users.length] as RushUser;
  const combination = mix.malformedEvery > 0 && i % mix.malformedEvery === mix.malformedEvery - 1 ? '1-1-2' : trifecta(i, riders);
  return { user, idempotencyKey: `${runId}-${i}`, input: { raceId, betType: 'trifecta', combination, stake: mix.stakeYen, currency: 'cash' } };
}

export const PLACE_BET_MUTATION = 'mutation PlaceBet($input: BetInput!, $key: String!) { placeBet(input: $input, idempotencyKey: $key) { ticket { ticketId stake } balances { cash } } }';

export function placeBetBody(bet: PlannedBet): string {
  return JSON.stringify({ query: PLACE_BET_MUTATION, variables: { input: bet.input, key: bet.idempotencyKey } });
}

/** How the gateway answered one request. */
export type BetOutcome =
  | { readonly kind: 'accepted'; readonly ticketId: string }
  | { readonly kind: 'rejected'; readonly code: string }
  /** No usable answer (a timeout, a non-JSON body): the bet may or may not have been placed. */
  | { readonly kind: 'indeterminate'; readonly why: string };

export function outcomeOf(status: number, body: string): BetOutcome {
  let parsed: { data?: { placeBet?: { ticket?: { ticketId?: unknown } } | null } | null; errors?: { extensions?: { code?: unknown } }[] };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return { kind: 'indeterminate', why: `HTTP ${status}, body is not JSON` };
  }
  const ticketId = parsed.data?.placeBet?.ticket?.ticketId;
  if (typeof ticketId === 'string') return { kind: 'accepted', ticketId };
  const code = parsed.errors?.[0]?.extensions?.code;
  if (typeof code === 'string') return { kind: 'rejected', code };
  if (parsed.errors !== undefined) return { kind: 'rejected', code: `HTTP_${status}` };
  return { kind: 'indeterminate', why: `HTTP ${status} without a ticket or an error` };
}
