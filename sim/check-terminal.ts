// Checkers for result finality and dead-letter liveness (docs/result-finality.md):
// - result-final: the recorded outcome is the first result, every settlement used its version,
//   every republished result was answered as it must be (duplicate: the recorded version;
//   conflicting: RESULT.ALREADY_FINAL);
// - terminal: every user ends settled or dead-lettered with a reason; a user the core refuses is
//   dead-lettered (its tickets still open, its balance untouched, a replayable request with the
//   reason in the dead letters) and never settled; a user whose request or `settled` message
//   crashed on every attempt (the doom fault, faults.ts) is dead-lettered DELIVERY.ATTEMPTS_EXHAUSTED
//   from the bus's own forwarding, left out if it never settled;
// - ranking-once: the ranking is claimed once, after every user is terminal, and published
//   exactly once (counted on the bus), except that a claimant crashed right after publishing
//   publishes the same notification again; it names how many users were left out and why.
import { parseMessage } from '../core/messages.ts';
import type { RankingPayload } from '../core/notification.ts';
import type { Store } from '../core/ports.ts';
import { RANKING_BROADCAST_USER } from '../pipeline/ranking.ts';
import { TOPICS } from '../core/topology.ts';
import type { Violation } from './checkers.ts';
import type { DoomPlan } from './faults.ts';
import type { FinalityPlan, Republication } from './finality-faults.ts';

export interface TerminalWorld {
  readonly raceId: string;
  /** The users the scenario expects settled (everyone but the rejectable ones). */
  readonly settledUsers: readonly string[];
  readonly plan: FinalityPlan;
  readonly store: Store;
  readonly deadLetters: (topic: string) => readonly { readonly data: string; readonly attributes: Readonly<Record<string, string>> }[];
  /** Every `notifications` message published during the run, as published (the bus is tapped). */
  readonly notificationsPublished: readonly string[];
  /** Crashes injected right after the ranking was published (each may republish it once). */
  readonly crashesAfterRankingPublish: number;
  /** What ingest answered to each republication: the recorded version, or the error code. */
  readonly republished: readonly { readonly republication: Republication; readonly answer: string }[];
  /** The canonical result JSON of the first result (what must be recorded). */
  readonly firstResultJson: string;
  /** The doom fault of the run, and every user a doomed settle request named. */
  readonly doom?: { readonly plan: DoomPlan; readonly named: ReadonlySet<string> };
}

export const TERMINAL_CHECKERS = ['result-final', 'terminal', 'ranking-once'] as const;

const EXAMPLES_MAX = 3;

function codeOf(reason: string): string {
  return /^[A-Z_]+\.[A-Z_]+/.exec(reason)?.[0] ?? 'UNKNOWN';
}

async function checkFinal(w: TerminalWorld, add: (checker: string, message: string) => void): Promise<void> {
  const outcome = await w.store.getOutcome(w.raceId);
  if (outcome === undefined) return add('result-final', `race ${w.raceId} has no recorded outcome`);
  if (outcome.resultVersion !== 1 || outcome.resultJson !== w.firstResultJson) add('result-final', `recorded v${outcome.resultVersion} ${outcome.resultJson}, the first result was v1 ${w.firstResultJson}`);
  for (const m of (await w.store.readback?.settlementMarkers(w.raceId)) ?? []) {
    if (m.resultVersion !== outcome.resultVersion) add('result-final', `user ${m.userId} was settled on v${m.resultVersion}, the recorded result is v${outcome.resultVersion}`);
  }
  // Messages naming a version that was never recorded: refused for finality (or, before the
  // first result was recorded, as a race without a result), never settled on.
  for (const topic of [TOPICS.raceResults, TOPICS.settleRequests, TOPICS.settled]) {
    for (const letter of w.deadLetters(topic)) {
      const m = parseMessage(topic, letter.data);
      if (!m.ok || m.value.message.raceId !== w.raceId || !('resultVersion' in m.value.message) || m.value.message.resultVersion === outcome.resultVersion) continue;
      const reason = letter.attributes['reason'] ?? '';
      if (!/^(RESULT\.ALREADY_FINAL|RACE\.UNKNOWN): /.test(reason)) add('result-final', `a ${topic} message naming v${m.value.message.resultVersion} was dead-lettered for "${reason}", not RESULT.ALREADY_FINAL`);
    }
  }
  for (const { republication: r, answer } of w.republished) {
    const want = r.conflicting ? 'RESULT.ALREADY_FINAL' : 'v1';
    if (answer !== want) add('result-final', `a ${r.conflicting ? 'conflicting' : 'duplicate'} result (v${r.resultVersion} ${JSON.stringify(r.result)}) was answered ${answer}, expected ${want}`);
  }
}

async function checkTerminal(w: TerminalWorld, add: (checker: string, message: string) => void): Promise<void> {
  const store = w.store;
  const dead = new Map(((await store.deadLetteredUsers?.(w.raceId)) ?? []).map((d) => [d.userId, d.reason]));
  const markers = new Set(((await store.readback?.settlementMarkers(w.raceId)) ?? []).map((m) => m.userId));
  const letters = w.deadLetters(TOPICS.settleRequests);
  for (const userId of w.settledUsers) if (!markers.has(userId) && !dead.has(userId)) add('terminal', `user ${userId} is neither settled nor dead-lettered`);
  for (const [userId, reason] of dead) if (reason.trim() === '') add('terminal', `user ${userId} was dead-lettered without a reason`);
  for (const { account, ticket } of w.plan.rejectable) {
    const userId = account.userId;
    const reason = dead.get(userId);
    if (reason === undefined) add('terminal', `user ${userId}, whose ticket ${ticket.combination} the core refuses, was not dead-lettered`);
    if (markers.has(userId)) add('terminal', `user ${userId}, whose ticket the core refuses, was settled`);
    const letter = letters.find((l) => l.attributes['userId'] === userId);
    const request = letter === undefined ? undefined : parseMessage(TOPICS.settleRequests, letter.data);
    // Named by a request the doom fault crashed every time, it may never reach the core: checkDoomed checks it then.
    if (letter === undefined && w.doom?.named.has(userId) === true) {
      // no letter of its own to check
    } else if (letter === undefined || (letter.attributes['reason'] ?? '') === '') add('terminal', `no dead letter with a reason names user ${userId}`);
    else if (request === undefined || !request.ok || !('userId' in request.value.message) || request.value.message.userId !== userId) add('terminal', `the dead letter of user ${userId} is not a replayable settle request of that user: ${letter.data.slice(0, 120)}`);
    const balance = await store.readback?.balances(userId);
    if (balance !== undefined && (balance.cash !== account.cash || balance.medals !== account.medals - ticket.stake)) add('terminal', `dead-lettered user ${userId}'s balance changed: cash ${balance.cash} medals ${balance.medals}`);
  }
}

const EXHAUSTED = /^DELIVERY\.ATTEMPTS_EXHAUSTED: /;

/** Users whose work crashed on every attempt: dead-lettered as exhausted by the bus's forwarding, settled or left out accordingly. */
async function checkDoomed(w: TerminalWorld, add: (checker: string, message: string) => void): Promise<void> {
  if (w.doom === undefined) return;
  const { plan, named } = w.doom;
  const dead = new Map(((await w.store.deadLetteredUsers?.(w.raceId)) ?? []).map((d) => [d.userId, d.reason]));
  const markers = new Set(((await w.store.readback?.settlementMarkers(w.raceId)) ?? []).map((m) => m.userId));
  const forwarded = (topic: string, userId: string): boolean =>
    w.deadLetters(topic).some((l) => l.attributes['reason'] === undefined && l.attributes['CloudPubSubDeadLetterSourceDeliveryCount'] !== undefined && l.data.includes(`"${userId}"`));
  if (plan.settleUser !== undefined) {
    const u = plan.settleUser;
    if (!named.has(u)) add('terminal', `no settle request naming doomed user ${u} was ever handled`);
    if (markers.has(u)) add('terminal', `doomed user ${u}, whose every settle request crashed, was settled`);
    if (!forwarded('settle-requests', u)) add('terminal', `the bus never dead-lettered a settle request of doomed user ${u}`);
  }
  for (const u of named) {
    if (markers.has(u)) continue;
    if (!EXHAUSTED.test(dead.get(u) ?? '')) add('terminal', `user ${u}, named by a request that crashed on every attempt and never settled, is dead-lettered for "${dead.get(u) ?? 'nothing'}", not DELIVERY.ATTEMPTS_EXHAUSTED`);
  }
  const v = plan.settledUser;
  if (v !== undefined && markers.has(v)) {
    if (!EXHAUSTED.test(dead.get(v) ?? '')) add('terminal', `settled user ${v}, whose post-settle crashed on every attempt, is dead-lettered for "${dead.get(v) ?? 'nothing'}", not DELIVERY.ATTEMPTS_EXHAUSTED`);
    if (!forwarded('settled', v)) add('terminal', `the bus never dead-lettered a settled message of doomed user ${v}`);
  } else if (v !== undefined && !named.has(v)) add('terminal', `doomed settled user ${v} was never settled`);
}

async function checkRankingOnce(w: TerminalWorld, add: (checker: string, message: string) => void): Promise<void> {
  const rankings = w.notificationsPublished.filter((data) => {
    const m = parseMessage(TOPICS.notifications, data);
    // The race-level broadcast (each user's own ranking notification precedes it, numbered per user).
    return m.ok && m.value.topic === TOPICS.notifications && m.value.message.kind === 'ranking' && m.value.message.raceId === w.raceId && m.value.message.userId === RANKING_BROADCAST_USER;
  });
  const allowed = 1 + w.crashesAfterRankingPublish;
  if (rankings.length === 0) add('ranking-once', `the ranking of ${w.raceId} was never published`);
  if (rankings.length > allowed) add('ranking-once', `the ranking of ${w.raceId} was published ${rankings.length} times (${w.crashesAfterRankingPublish} crashes right after publishing)`);
  if (new Set(rankings).size > 1) add('ranking-once', `the ranking of ${w.raceId} was computed more than once: ${rankings.length} publications differ`);
  const claims = ((await w.store.readback?.rankingClaims()) ?? []).filter((c) => c.raceId === w.raceId);
  const everyone = w.settledUsers.length + w.plan.rejectable.length;
  for (const c of claims) if (c.postSettledUsers < everyone) add('ranking-once', `the ranking was claimed with ${c.postSettledUsers} of ${everyone} users terminal`);
  const first = rankings[0];
  if (first === undefined) return;
  const m = parseMessage(TOPICS.notifications, first);
  const payload = m.ok && m.value.topic === TOPICS.notifications ? (m.value.message.payload as RankingPayload) : undefined;
  const settled = new Set(((await w.store.readback?.settlementMarkers(w.raceId)) ?? []).map((m) => m.userId));
  // Left out: dead-lettered and not settled (a user settled before its post-settle was dead-lettered is ranked).
  const dead = ((await w.store.deadLetteredUsers?.(w.raceId)) ?? []).filter((d) => !settled.has(d.userId));
  const want: Record<string, number> = {};
  for (const d of dead) want[codeOf(d.reason)] = (want[codeOf(d.reason)] ?? 0) + 1;
  const got = payload?.leftOut ?? { users: 0, reasons: {} };
  if (got.users !== dead.length || JSON.stringify(Object.entries(got.reasons).sort()) !== JSON.stringify(Object.entries(want).sort())) {
    add('ranking-once', `the ranking says ${JSON.stringify(got)} left out; ${dead.length} users were dead-lettered (${JSON.stringify(want)})`);
  }
}

export async function checkTerminalWorld(w: TerminalWorld): Promise<Violation[]> {
  const out: Violation[] = [];
  const counts = new Map<string, number>();
  const add = (checker: string, message: string): void => {
    const n = (counts.get(checker) ?? 0) + 1;
    counts.set(checker, n);
    if (n <= EXAMPLES_MAX) out.push({ checker, message });
  };
  await checkFinal(w, add);
  await checkTerminal(w, add);
  await checkDoomed(w, add);
  await checkRankingOnce(w, add);
  return out;
}
