// Invalid bets through a real gateway: the generated cases (bet-arbitraries.ts) are sent as
// placeBet mutations over GraphQL over HTTP, each with its user's signed token, a few at a time.
// Every one must be refused with exactly the code its kind expects (and the field at fault), and
// afterwards the store must hold exactly what was accepted: each user's balances are the opening
// ones less the valid first bets of the reused-key cases, and the tickets are exactly those.
import type { Store } from '../../core/ports.ts';
import { signToken } from '../../gateway/auth.ts';
import { startGateway, type GatewayHandle } from '../../gateway/server.ts';
import { BET_KINDS, BET_KIND_NAMES, drawBetCases, type BetCase, type BetKind, type BetWorld, type ValidBet } from './bet-arbitraries.ts';

export interface BetFuzzOptions {
  readonly seed: number;
  /** Cases per kind. */
  readonly runs: number;
  readonly kinds?: readonly BetKind[];
  /** Requests in flight at once. */
  readonly concurrency?: number;
  readonly log?: (line: string) => void;
}

export interface BetCell {
  readonly kind: string;
  readonly expectedCode: string;
  readonly tried: number;
  /** Refused with the expected code (and field, where the kind names one), nothing in `data`. */
  readonly rejected: number;
  /** Refused with another code, no code, or a malformed answer: examples in `wrong`. */
  readonly wrongCode: number;
  /** Answered with a ticket: a bet that should have been refused was placed. */
  readonly accepted: number;
  readonly wrong: readonly string[];
}

export interface BetFuzzResult {
  readonly seed: number;
  readonly cells: readonly BetCell[];
  readonly tried: number;
  readonly rejected: number;
  readonly wrongCode: number;
  readonly accepted: number;
  /** Balances or tickets that do not reconcile with what was accepted: must be none. */
  readonly reconciliation: readonly string[];
  /** HTTP failures and 5xx answers (a crash of a request): must be none. */
  readonly crashes: readonly string[];
  readonly ok: boolean;
  readonly wallMs: number;
}

const SECRET = 'chaos-fuzz-secret-of-at-least-32-bytes!!';
const PLACE = 'mutation($input: BetInput!, $key: String!) { placeBet(input: $input, idempotencyKey: $key) { ticket { ticketId stake currency } } }';
const WRONG_KEPT = 3;

export function betWorld(seed: number, nowMs: number): BetWorld & { readonly closeAtMs: number } {
  const tag = `fz${seed}`;
  return {
    users: [1, 2, 3, 4].map((i) => `${tag}-user-${i}`),
    cash: 1_000_000,
    medals: 1_000,
    stranger: `${tag}-stranger`,
    openRace: { raceId: `${tag}-open`, field: { sport: 'keirin', riders: 9 } },
    smallRace: { raceId: `${tag}-small`, field: { sport: 'keirin', riders: 7 } },
    closedRace: { raceId: `${tag}-closed`, field: { sport: 'keirin', riders: 9 } },
    closeAtMs: nowMs + 3_600_000,
  };
}

async function setUp(store: Store, w: ReturnType<typeof betWorld>, nowMs: number): Promise<void> {
  await store.putUsers(w.users.map((userId) => ({ userId, cash: w.cash, medals: w.medals })));
  for (const r of [w.openRace, w.smallRace]) await store.putRace({ raceId: r.raceId, sport: r.field.sport, riders: r.field.riders, closeAtMs: w.closeAtMs, postAtMs: w.closeAtMs + 60_000 });
  await store.putRace({ raceId: w.closedRace.raceId, sport: w.closedRace.field.sport, riders: w.closedRace.field.riders, closeAtMs: nowMs - 60_000, postAtMs: nowMs - 1_000 });
}

interface Answer {
  readonly status: number;
  readonly body: { data?: unknown; errors?: { message?: string; extensions?: { code?: string; field?: string } }[] } | undefined;
  readonly text: string;
}

async function send(gateway: GatewayHandle, token: string, variables: Record<string, unknown>): Promise<Answer> {
  const res = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: PLACE, variables }) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as Answer['body'], text };
  } catch {
    return { status: res.status, body: undefined, text };
  }
}

const variablesOf = (input: unknown, key: string | undefined): Record<string, unknown> => (key === undefined ? { input } : { input, key });

type Verdict = 'rejected' | 'wrong' | 'accepted' | 'crash';

function judge(c: BetCase, a: Answer): { verdict: Verdict; note?: string } {
  if (a.status >= 500 || a.body === undefined) return { verdict: 'crash', note: `HTTP ${a.status}: ${a.text.slice(0, 120)}` };
  const placed = (a.body.data as { placeBet?: unknown } | null | undefined)?.placeBet;
  if (placed !== undefined && placed !== null) return { verdict: 'accepted', note: JSON.stringify(c.input).slice(0, 160) };
  const want = BET_KINDS[c.kind] as { code: string; field?: string };
  const e = a.body.errors?.[0]?.extensions;
  if (e?.code === want.code && (want.field === undefined || e.field === want.field)) return { verdict: 'rejected' };
  return { verdict: 'wrong', note: `${JSON.stringify(c.input).slice(0, 100)} -> ${e?.code ?? 'no code'}${e?.field === undefined ? '' : ` (${e.field})`}: ${a.body.errors?.[0]?.message?.slice(0, 100) ?? a.text.slice(0, 100)}` };
}

/** What the store must hold afterwards: opening balances less the accepted first bets. */
async function reconcile(store: Store, w: BetWorld, accepted: readonly { userId: string; bet: ValidBet; ticketId: string }[]): Promise<string[]> {
  const rb = store.readback;
  if (rb === undefined) return ['the store cannot read balances and tickets back'];
  const problems: string[] = [];
  for (const userId of [...w.users, w.stranger]) {
    const mine = accepted.filter((a) => a.userId === userId);
    const spent = (cur: 'cash' | 'medal') => mine.filter((a) => a.bet.currency === cur).reduce((n, a) => n + a.bet.stake, 0);
    const b = await rb.balances(userId);
    const want = userId === w.stranger ? undefined : { cash: w.cash - spent('cash'), medals: w.medals - spent('medal') };
    if (want === undefined ? b !== undefined : b?.cash !== want.cash || b.medals !== want.medals) problems.push(`user ${userId}: balances ${JSON.stringify(b)}, expected ${JSON.stringify(want)}`);
  }
  const want = new Set(accepted.map((a) => a.ticketId));
  for (const race of [w.openRace, w.smallRace, w.closedRace]) {
    for await (const t of rb.ticketsOfRace(race.raceId)) {
      if (!want.delete(t.ticketId)) problems.push(`ticket ${t.ticketId} of ${t.userId} (${t.betType} ${t.combination} ${t.stake} ${t.currency}) was placed by a refused bet`);
    }
  }
  for (const id of want) problems.push(`accepted ticket ${id} is missing from the store`);
  return problems;
}

/** Runs `tasks` with at most `n` in flight. */
async function pool<T>(items: readonly T[], n: number, task: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await task(items[i] as T, i);
    }
  }));
}

export async function runBetFuzz(store: Store, o: BetFuzzOptions): Promise<BetFuzzResult> {
  const started = performance.now();
  const nowMs = Date.now();
  const w = betWorld(o.seed, nowMs);
  await setUp(store, w, nowMs);
  const kinds = o.kinds ?? BET_KIND_NAMES;
  // Keys made unique per case: two generated cases must not meet on one ticket id by chance.
  const cases = drawBetCases(w, o.runs, o.seed, kinds).map((c, i) => (c.first === undefined ? c : { ...c, key: `${i}-${c.key}`, first: { ...c.first, key: `${i}-${c.first.key}` } }));
  o.log?.(`fuzz bets: ${cases.length} invalid bets of ${kinds.length} kinds through a gateway`);
  const gateway = await startGateway({ store, secret: SECRET, log: () => undefined });
  const tokens = new Map<string, string>();
  for (const u of [...w.users, w.stranger]) tokens.set(u, await signToken(u, SECRET, 3_600));
  const cells = new Map<string, { kind: string; expectedCode: string; tried: number; rejected: number; wrongCode: number; accepted: number; wrong: string[] }>();
  for (const k of kinds) cells.set(k, { kind: k, expectedCode: BET_KINDS[k].code, tried: 0, rejected: 0, wrongCode: 0, accepted: 0, wrong: [] });
  const accepted: { userId: string; bet: ValidBet; ticketId: string }[] = [];
  const crashes: string[] = [];
  try {
    await pool(cases, o.concurrency ?? 8, async (c) => {
      const token = tokens.get(c.userId) as string;
      const cell = cells.get(c.kind) as NonNullable<ReturnType<typeof cells.get>>;
      if (c.first !== undefined) {
        const a = await send(gateway, token, variablesOf(c.first.input, c.first.key));
        const ticket = (a.body?.data as { placeBet?: { ticket?: { ticketId: string } } } | undefined)?.placeBet?.ticket;
        if (ticket === undefined) {
          crashes.push(`the valid first bet of a ${c.kind} case was refused: ${a.text.slice(0, 160)}`);
          return;
        }
        accepted.push({ userId: c.userId, bet: c.first.input, ticketId: ticket.ticketId });
      }
      cell.tried++;
      let answer: Answer;
      try {
        answer = await send(gateway, token, variablesOf(c.input, c.key));
      } catch (e) {
        crashes.push(`${c.kind}: request failed: ${(e as Error).message}`);
        return;
      }
      const { verdict, note } = judge(c, answer);
      if (verdict === 'rejected') cell.rejected++;
      else if (verdict === 'accepted') cell.accepted++;
      else if (verdict === 'crash') crashes.push(`${c.kind}: ${note ?? ''}`);
      else cell.wrongCode++;
      if ((verdict === 'wrong' || verdict === 'accepted') && cell.wrong.length < WRONG_KEPT) cell.wrong.push(`${verdict}: ${note ?? ''}`);
    });
  } finally {
    await gateway.close();
  }
  const reconciliation = await reconcile(store, w, accepted);
  const list = [...cells.values()];
  const sum = (f: (c: BetCell) => number): number => list.reduce((n, c) => n + f(c), 0);
  const wrongCode = sum((c) => c.wrongCode);
  const acceptedCount = sum((c) => c.accepted);
  return {
    seed: o.seed,
    cells: list,
    tried: sum((c) => c.tried),
    rejected: sum((c) => c.rejected),
    wrongCode,
    accepted: acceptedCount,
    reconciliation,
    crashes,
    ok: wrongCode === 0 && acceptedCount === 0 && reconciliation.length === 0 && crashes.length === 0,
    wallMs: Math.round(performance.now() - started),
  };
}
