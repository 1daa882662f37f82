// Invariant checkers over the whole world after a run: the store (tickets, markers, balances,
// ledger, bonuses, ranking claims), the bus (backlog, dead letters) and the notification client.
// Each checker reports at most a few examples, so a broken run stays readable.
import type { NotificationPayload, RankingPayload } from '../core/notification.ts';
import { rankingNotificationId, settledNotificationId } from '../core/notification.ts';
import { RANKING_BROADCAST_USER } from '../pipeline/post-settle.ts';
import type { LedgerTotals, Store, StoreReadback, UserAccount, UserLedger } from '../core/ports.ts';
import { DEAD_LETTER_ATTRIBUTES, TOPICS, type DeadLetter } from '../core/topology.ts';
import { checkDayBonuses } from './check-missions.ts';
import type { ExpectedAccount, ExpectedRace, ExpectedWorld } from './expected.ts';

/** Every checker, in report order. */
export const CHECKERS = [
  'settled-exactly-once',
  'ledger-conservation',
  'notified-exactly-once',
  'bonuses-exactly-once',
  'ranking-exactly-once',
  'nothing-unacked',
  'no-handler-errors',
] as const;

export interface Violation {
  readonly checker: string;
  readonly message: string;
}

/** Every delivery of one notification id to the clients, duplicates included. */
export interface Delivered {
  readonly userId: string;
  readonly times: number;
  /** Deliveries whose user or payload differed from the first one's (one id must mean one notification). */
  readonly differing: number;
}

/**
 * What reached the clients, apart from what they showed: the bus delivers at least once, so an
 * id may be delivered several times; the deduping clients must show each exactly once.
 */
export interface ClientView {
  readonly shown: ReadonlyMap<string, { readonly userId: string; readonly payload: NotificationPayload; readonly times: number; readonly seq?: number }>;
  readonly delivered: ReadonlyMap<string, Delivered>;
}

export interface PoisonSent {
  readonly topic: string;
  readonly data: string;
}

/**
 * What the checkers read from a bus after a run: the memory bus offers it directly; the Pub/Sub
 * bus through a watcher (backends/google/pubsub-watch.ts) that counts in this process and reads
 * the dead-letter audit subscriptions.
 */
export interface BusView {
  isIdle(): boolean;
  stats(): { readonly subscriptions: readonly { readonly subscription: string; readonly topic: string; readonly backlog: number }[] };
  /** Messages on the dead-letter topic of `topic` (pass the source topic). */
  deadLetters(topic: string): readonly Pick<DeadLetter, 'data' | 'attributes'>[];
}

export interface World {
  /** Every race of the day, and every user's end of day. */
  readonly expected: ExpectedWorld;
  readonly store: Store;
  readonly bus: BusView;
  readonly client: ClientView;
  readonly poison: readonly PoisonSent[];
  readonly handlerErrors: readonly string[];
  /** Users the world holds a refused ticket for: dead-lettered, not settled (checked in check-terminal.ts). */
  readonly refusedUsers?: ReadonlySet<string>;
  /** Valid messages a fault made crash on every attempt: the bus dead-letters them (check-terminal.ts checks their users). */
  readonly exhausted?: (topic: string, data: string, attributes: Readonly<Record<string, string>>) => boolean;
}

const EXAMPLES_MAX = 3;

class Report {
  readonly violations: Violation[] = [];
  private readonly counts = new Map<string, number>();
  add(checker: string, message: string): void {
    const n = (this.counts.get(checker) ?? 0) + 1;
    this.counts.set(checker, n);
    if (n <= EXAMPLES_MAX) this.violations.push({ checker, message });
    else if (n === EXAMPLES_MAX + 1) this.violations.push({ checker, message: '(more violations of this checker not listed)' });
  }
}

async function checkTickets(expected: ExpectedRace, rb: StoreReadback, r: Report, refusedUsers?: ReadonlySet<string>): Promise<void> {
  const seen = new Set<string>();
  for await (const t of rb.ticketsOfRace(expected.race.raceId)) {
    seen.add(t.ticketId);
    if (refusedUsers?.has(t.userId) === true) continue;
    const want = expected.outcomeByTicket.get(t.ticketId);
    // A ticket of the scenario without an expected outcome is a left-out user's: it must stay open.
    if (want === undefined && expected.tickets.has(t.ticketId)) {
      if (t.status !== 'open') r.add('settled-exactly-once', `ticket ${t.ticketId} of a user left out of ${expected.race.raceId} is ${t.status}, not open`);
    } else if (want === undefined) r.add('settled-exactly-once', `ticket ${t.ticketId} is not in the scenario`);
    else if (t.status !== want.status || t.per100 !== want.per100 || t.payout !== want.payout) {
      r.add('settled-exactly-once', `ticket ${t.ticketId}: stored ${t.status} per100 ${t.per100} payout ${t.payout}, the core computes ${want.status} per100 ${want.per100} payout ${want.payout}`);
    }
  }
  for (const id of expected.tickets.keys()) if (!seen.has(id)) r.add('settled-exactly-once', `ticket ${id} is missing from the store`);
  const markers = await rb.settlementMarkers(expected.race.raceId);
  const markerOf = new Map(markers.map((m) => [m.userId, m]));
  for (const u of expected.users.values()) {
    const m = markerOf.get(u.userId);
    if (m === undefined) r.add('settled-exactly-once', `user ${u.userId} has no settlement marker`);
    else if (m.applications !== undefined && m.applications !== 1) r.add('settled-exactly-once', `user ${u.userId}'s settlement was applied ${m.applications} times`);
  }
}

/** Per-user read-backs in flight at once: a remote store (Spanner) answers each in milliseconds, one by one that is minutes. */
const LEDGER_READS_IN_FLIGHT = 16;

function ledgerMessage(u: ExpectedAccount, b: UserAccount | undefined, t: LedgerTotals | undefined): string | undefined {
  if (b === undefined || b.cash !== u.cash || b.medals !== u.medals) {
    return `user ${u.userId}: balance cash ${b?.cash} medals ${b?.medals}, expected initial - stakes + payouts + bonuses = cash ${u.cash} medals ${u.medals}`;
  }
  if (t === undefined) return undefined;
  const sum = (x: Readonly<Record<string, number>>) => Object.values(x).reduce((a, v) => a + v, 0);
  if (t.initialCash + sum(t.cash) !== b.cash || t.initialMedals + sum(t.medal) !== b.medals) return `user ${u.userId}: ledger entries do not add up to the balance change`;
  return undefined;
}

async function ledgerViolation(rb: StoreReadback, u: ExpectedAccount): Promise<string | undefined> {
  const b = await rb.balances(u.userId);
  return ledgerMessage(u, b, b === undefined ? undefined : await rb.ledgerTotals(u.userId));
}

async function checkLedger(w: World, rb: StoreReadback, r: Report): Promise<void> {
  const users = [...w.expected.accounts.values()];
  const found: (string | undefined)[] = new Array(users.length);
  if (rb.ledgers !== undefined) {
    // One bulk pass (a remote store streams whole key ranges) instead of two round trips per user.
    const read = new Map<string, UserLedger>();
    for await (const l of rb.ledgers()) if (w.expected.accounts.has(l.account.userId)) read.set(l.account.userId, l);
    users.forEach((u, i) => (found[i] = ledgerMessage(u, read.get(u.userId)?.account, read.get(u.userId)?.totals)));
  } else {
    let next = 0;
    const reader = async (): Promise<void> => {
      for (let i = next++; i < users.length; i = next++) found[i] = await ledgerViolation(rb, users[i] as (typeof users)[number]);
    };
    await Promise.all(Array.from({ length: Math.min(LEDGER_READS_IN_FLIGHT, users.length) }, reader));
  }
  // Reported in user order whatever order the reads finished in, so a seed's report replays exactly.
  for (const message of found) if (message !== undefined) r.add('ledger-conservation', message);
}

/** Each bonus applied once: a store that counts its grant applications must count exactly 1 per id. */
async function checkBonusApplications(rb: StoreReadback, r: Report): Promise<void> {
  for (const b of await rb.bonuses()) {
    if (b.applications !== undefined && b.applications !== 1) r.add('bonuses-exactly-once', `bonus ${b.bonusId} granted ${b.applications} times`);
  }
}

function sameRanking(a: RankingPayload['top'], b: RankingPayload['top']): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || x.rank !== y.rank || x.userId !== y.userId || x.cash !== y.cash || x.medals !== y.medals) return false;
  }
  return true;
}

/** Checks one race's notifications; `known` collects their ids, so what no race explains is found after the last. */
function checkNotifications(w: World, expected: ExpectedRace, known: Set<string>, r: Report): void {
  const { shown } = w.client;
  const raceId = expected.race.raceId;
  for (const u of expected.users.values()) {
    const s = u.settlement;
    const id = settledNotificationId(s.settlementId);
    known.add(id);
    const n = shown.get(id);
    if (n === undefined) r.add('notified-exactly-once', `user ${u.userId} was never notified of ${s.settlementId}`);
    else if (n.times !== 1) r.add('notified-exactly-once', `the client showed ${id} ${n.times} times`);
    else if (n.payload.kind !== 'settled' || n.payload.cash !== s.cashDelta || n.payload.medals !== s.medalDelta || n.payload.hits !== s.hits) {
      r.add('notified-exactly-once', `notification ${id} says ${JSON.stringify(n.payload)}, the settlement credited cash ${s.cashDelta} medals ${s.medalDelta} hits ${s.hits}`);
    }
  }
  checkUserRankings(w, expected, known, r);
  const rid = rankingNotificationId(raceId, RANKING_BROADCAST_USER);
  known.add(rid);
  const rn = shown.get(rid);
  if (rn === undefined) r.add('ranking-exactly-once', `the ranking of ${raceId} was never shown`);
  else if (rn.times !== 1) r.add('ranking-exactly-once', `the client showed ${rid} ${rn.times} times`);
  else if (rn.payload.kind !== 'ranking' || !sameRanking(rn.payload.top, expected.ranking)) {
    r.add('ranking-exactly-once', `the ranking shown is not the ranking of every settled user: ${JSON.stringify(rn.payload.kind === 'ranking' ? rn.payload.top.slice(0, 3) : rn.payload)}`);
  }
}

/**
 * Each settled user's own ranking notification (the race's top and the user's rank), shown once;
 * a user the ranking left out (dead-lettered) gets one too, also shown once.
 */
function checkUserRankings(w: World, expected: ExpectedRace, known: Set<string>, r: Report): void {
  const raceId = expected.race.raceId;
  for (const u of expected.users.values()) {
    const id = rankingNotificationId(raceId, u.userId);
    known.add(id);
    const n = w.client.shown.get(id);
    const rank = expected.ranking.find((e) => e.userId === u.userId)?.rank ?? null;
    if (n === undefined) r.add('ranking-exactly-once', `user ${u.userId} was never shown the ranking of ${raceId}`);
    else if (n.times !== 1) r.add('ranking-exactly-once', `the client showed ${id} ${n.times} times`);
    else if (n.payload.kind !== 'ranking' || n.payload.rank !== rank || !sameRanking(n.payload.top, expected.ranking)) r.add('ranking-exactly-once', `${id} says ${JSON.stringify(n.payload).slice(0, 200)}, expected rank ${rank} in the race's ranking`);
  }
  const prefix = rankingNotificationId(raceId, '');
  for (const [id, n] of w.client.shown) {
    if (!id.startsWith(prefix) || known.has(id) || n.userId === RANKING_BROADCAST_USER) continue;
    known.add(id);
    if (n.times !== 1) r.add('ranking-exactly-once', `the client showed ${id} ${n.times} times`);
  }
}

function checkUnexpectedNotifications(w: World, known: ReadonlySet<string>, r: Report): void {
  for (const id of w.client.shown.keys()) if (!known.has(id)) r.add('notified-exactly-once', `unexpected notification ${id}`);
}

/** Deliveries may repeat, but every repeat carries the same notification, and each id delivered was shown. */
function checkDeliveries(w: World, r: Report): void {
  const { shown, delivered } = w.client;
  for (const [id, d] of delivered) {
    if (d.differing > 0) r.add('notified-exactly-once', `${id} was delivered ${d.times} times, ${d.differing} of them with a different user, number or payload`);
    const s = shown.get(id);
    if (s === undefined) r.add('notified-exactly-once', `${id} was delivered ${d.times} times and never shown`);
    else if (s.times > d.times) r.add('notified-exactly-once', `${id} was shown ${s.times} times but delivered ${d.times}`);
  }
  for (const id of shown.keys()) if (!delivered.has(id)) r.add('notified-exactly-once', `${id} was shown without a delivery`);
}

/**
 * The notification log's numbers as the clients saw them: every user notification carries one,
 * a user's notifications are numbered 1..n without gaps or repeats (a repeat delivery with another
 * number is caught in checkDeliveries), and the race-level broadcast carries none.
 */
function checkNumbers(w: World, r: Report): void {
  const perUser = new Map<string, number[]>();
  for (const [id, n] of w.client.shown) {
    if (n.userId === RANKING_BROADCAST_USER) {
      if (n.seq !== undefined) r.add('notified-exactly-once', `the broadcast ${id} carries seq ${n.seq}`);
      continue;
    }
    if (n.seq === undefined) {
      r.add('notified-exactly-once', `${id} carries no seq`);
      continue;
    }
    const seqs = perUser.get(n.userId) ?? [];
    seqs.push(n.seq);
    perUser.set(n.userId, seqs);
  }
  for (const [userId, seqs] of perUser) {
    seqs.sort((a, b) => a - b);
    const wrong = seqs.findIndex((s, i) => s !== i + 1);
    if (wrong >= 0) r.add('notified-exactly-once', `user ${userId} was shown numbers ${seqs.join(',').slice(0, 120)}: not 1..${seqs.length}`);
  }
}

async function checkRankingClaims(expected: ExpectedRace, rb: StoreReadback, r: Report): Promise<void> {
  const claims = (await rb.rankingClaims()).filter((c) => c.raceId === expected.race.raceId);
  if (claims.length !== 1) r.add('ranking-exactly-once', `the ranking of ${expected.race.raceId} was claimed ${claims.length} times`);
  const users = expected.users.size;
  for (const c of claims) if (c.postSettledUsers < users) r.add('ranking-exactly-once', `the ranking was claimed with ${c.postSettledUsers} of ${users} users post-settled (barrier)`);
  // The claimant records the ranking published (a lease otherwise): a claim never marked means a claimant died and nobody took over.
  for (const c of claims) if (c.publishedAtMs === undefined) r.add('ranking-exactly-once', `the ranking of ${expected.race.raceId} was claimed but never recorded published`);
}

function checkBus(w: World, r: Report): void {
  if (!w.bus.isIdle()) {
    for (const s of w.bus.stats().subscriptions) {
      if (s.backlog > 0 && !s.topic.endsWith('-dead-letter')) r.add('nothing-unacked', `${s.subscription} has ${s.backlog} unacked messages`);
    }
  }
  const poisonLeft = new Map<string, number>();
  for (const p of w.poison) poisonLeft.set(`${p.topic}\u0000${p.data}`, (poisonLeft.get(`${p.topic}\u0000${p.data}`) ?? 0) + 1);
  for (const topic of [TOPICS.raceResults, TOPICS.settleRequests, TOPICS.settled, TOPICS.notifications]) {
    // A poison message delivered twice is dead-lettered twice; the audit dedupes by original id.
    const seenOriginal = new Set<string>();
    for (const dl of w.bus.deadLetters(topic)) {
      const original = dl.attributes['originalMessageId'];
      if (original !== undefined) {
        if (seenOriginal.has(original)) continue;
        seenOriginal.add(original);
      }
      const reason = dl.attributes['reason'] ?? dl.attributes[DEAD_LETTER_ATTRIBUTES.reason];
      if (w.refusedUsers?.has(dl.attributes['userId'] ?? '') === true) continue;
      if (w.exhausted?.(topic, dl.data, dl.attributes) === true) {
        if (reason === undefined || reason === '') r.add('nothing-unacked', `dead letter on ${topic} carries no reason`);
        continue;
      }
      const key = `${topic}\u0000${dl.data}`;
      const left = poisonLeft.get(key) ?? 0;
      if (left === 0) r.add('nothing-unacked', `a valid ${topic} message was dead-lettered (${reason ?? 'no reason'}): ${dl.data.slice(0, 120)}`);
      else poisonLeft.set(key, left - 1);
      if (reason === undefined || reason === '') r.add('nothing-unacked', `dead letter on ${topic} carries no reason`);
    }
  }
  for (const [key, left] of poisonLeft) if (left > 0) r.add('nothing-unacked', `poison message was not dead-lettered: ${key.replace('\u0000', ': ').slice(0, 120)}`);
}

export async function checkWorld(w: World): Promise<Violation[]> {
  const r = new Report();
  const rb = w.store.readback;
  if (rb === undefined) throw new Error('invariant violated: the simulator needs a Store with read-backs');
  for (const e of w.handlerErrors) r.add('no-handler-errors', e.split('\n').slice(0, 2).join(' | '));
  for (const race of w.expected.races) await checkTickets(race, rb, r, w.refusedUsers);
  await checkLedger(w, rb, r);
  await checkDayBonuses(w.expected, rb, (checker, message) => r.add(checker, message));
  await checkBonusApplications(rb, r);
  const known = new Set<string>();
  for (const race of w.expected.races) checkNotifications(w, race, known, r);
  checkUnexpectedNotifications(w, known, r);
  checkDeliveries(w, r);
  checkNumbers(w, r);
  for (const race of w.expected.races) await checkRankingClaims(race, rb, r);
  checkBus(w, r);
  return r.violations;
}
