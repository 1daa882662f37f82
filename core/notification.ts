// Notification payloads pushed to a user's GraphQL subscription, and their dedupe ids. Every step
// before the client retries through Pub/Sub, so a client can receive the same notification more
// than once; the id is derived from what the notification is about (not from when it was sent),
// so a client drops a notification whose id it has already seen.
import type { RankingEntry } from './ranking.ts';
import { invariant, ok, type Result } from './result.ts';
import type { Settlement } from './settlement-record.ts';
import { countAt, idAt, invalid, objectAt, onlyKnownFields, WIRE_LIMITS, type Fields } from './wire-check.ts';

export const NOTIFICATION_KINDS = ['settled', 'ranking'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export interface SettledPayload {
  readonly kind: 'settled';
  readonly raceId: string;
  readonly settlementId: string;
  /** Cash and medals credited by the settlement. */
  readonly cash: number;
  readonly medals: number;
  readonly hits: number;
}

export interface RankingPayload {
  readonly kind: 'ranking';
  readonly raceId: string;
  /** The user's own rank, or null when the user is not among the ranked entries. */
  readonly rank: number | null;
  /** The first entries of the ranking (at most WIRE_LIMITS.rankingTopMax). */
  readonly top: readonly RankingEntry[];
  /**
   * Users the ranking leaves out because their settlement went to the dead letters, with their
   * count per reason code (e.g. {"RESULT.ORDER_INVALID": 2}); absent when nobody was left out.
   */
  readonly leftOut?: LeftOut;
}

export interface LeftOut {
  readonly users: number;
  readonly reasons: Readonly<Record<string, number>>;
}

export type NotificationPayload = SettledPayload | RankingPayload;

/** The dedupe id rule: one settled notification per settlement, one ranking notification per (race, user). */
export function settledNotificationId(settlementId: string): string {
  return `ntf:settled:${settlementId}`;
}

/** Every ranking notification's id starts with this (the broadcast's and each user's own). */
export const RANKING_NOTIFICATION_ID_PREFIX = 'ntf:ranking:';

export function rankingNotificationId(raceId: string, userId: string): string {
  return `${RANKING_NOTIFICATION_ID_PREFIX}${raceId}:${userId}`;
}

export function notificationIdOf(userId: string, payload: NotificationPayload): string {
  return payload.kind === 'settled' ? settledNotificationId(payload.settlementId) : rankingNotificationId(payload.raceId, userId);
}

/** The body of a `notifications` message (messages.ts adds schemaVersion). */
export interface NotificationBody {
  readonly userId: string;
  readonly raceId: string;
  readonly kind: NotificationKind;
  readonly payload: NotificationPayload;
  readonly publishedAt: number;
  readonly notificationId: string;
  /**
   * The notification's number in its user's log (Store.appendNotifications): 1, 2, ... per user.
   * Given by the pipeline before it publishes; a redelivery carries the same number. A client
   * subscribes again after the last number it saw and gets what it missed from the log.
   */
  readonly seq?: number;
}

/** What a notification log holds: every body of a user in order, by number (core/ports.ts SequencedNotification). */
export interface NotificationLogView {
  /** The user's last number (0: empty log). */
  lastSeq(userId: string): number;
  /** The number of the user's notification with this id, if logged. */
  seqOf(userId: string, notificationId: string): number | undefined;
}

/** One body to write into the log with its new number. */
export interface LogAppend {
  readonly seq: number;
  readonly body: NotificationBody;
}

/**
 * The log's append rule, the same on every backend: each body in order gets its user's next
 * number, unless its id is logged (or appears earlier in the same call), which answers the
 * existing number. Returns the numbers, in the order of `bodies`, and the rows to write.
 */
export function planNotificationAppend(bodies: readonly NotificationBody[], log: NotificationLogView): { readonly seqs: number[]; readonly appends: LogAppend[] } {
  const last = new Map<string, number>();
  const fresh = new Map<string, number>();
  const seqs: number[] = [];
  const appends: LogAppend[] = [];
  for (const b of bodies) {
    invariant(b.userId.length > 0 && b.notificationId.length > 0, `a logged notification needs a user id and a notification id, got ${JSON.stringify({ userId: b.userId, notificationId: b.notificationId })}`);
    const key = `${b.userId}\u0000${b.notificationId}`;
    const known = fresh.get(key) ?? log.seqOf(b.userId, b.notificationId);
    if (known !== undefined) {
      seqs.push(known);
      continue;
    }
    const seq = (last.get(b.userId) ?? log.lastSeq(b.userId)) + 1;
    last.set(b.userId, seq);
    fresh.set(key, seq);
    seqs.push(seq);
    appends.push({ seq, body: withoutSeq(b) });
  }
  return { seqs, appends };
}

/** The body as logged: the number is the log's (a caller's stale `seq` is not kept). */
export function withoutSeq(b: NotificationBody): NotificationBody {
  return { userId: b.userId, raceId: b.raceId, kind: b.kind, payload: b.payload, publishedAt: b.publishedAt, notificationId: b.notificationId };
}

/** The arguments of Store.notificationsAfter, checked the same way on every backend. */
export function checkNotificationsAfter(userId: string, afterSeq: number, limit: number, pageMax: number): void {
  invariant(userId.length > 0, 'notificationsAfter: the user id is empty');
  invariant(Number.isSafeInteger(afterSeq) && afterSeq >= 0, `notificationsAfter: afterSeq must be a non-negative integer, got ${afterSeq}`);
  invariant(Number.isSafeInteger(limit) && limit >= 1 && limit <= pageMax, `notificationsAfter: limit must be an integer in 1..${pageMax}, got ${limit}`);
}

export function settledNotification(s: Settlement, publishedAt: number): NotificationBody {
  const payload: SettledPayload = { kind: 'settled', raceId: s.raceId, settlementId: s.settlementId, cash: s.cashDelta, medals: s.medalDelta, hits: s.hits };
  return { userId: s.userId, raceId: s.raceId, kind: 'settled', payload, publishedAt, notificationId: settledNotificationId(s.settlementId) };
}

/** One user's ranking notification: the top entries plus the user's own rank if ranked. */
export function rankingNotification(raceId: string, userId: string, ranking: readonly RankingEntry[], topCount: number, publishedAt: number, leftOut?: LeftOut): NotificationBody {
  const top = ranking.slice(0, Math.min(topCount, WIRE_LIMITS.rankingTopMax));
  const rank = ranking.find((e) => e.userId === userId)?.rank ?? null;
  const payload: RankingPayload = leftOut === undefined || leftOut.users === 0 ? { kind: 'ranking', raceId, rank, top } : { kind: 'ranking', raceId, rank, top, leftOut };
  return { userId, raceId, kind: 'ranking', payload, publishedAt, notificationId: rankingNotificationId(raceId, userId) };
}

/** Several users' ranking notifications of one race, sharing one top and leftOut (what encodeRankingNotifications expects). */
export function rankingNotificationsOf(raceId: string, userIds: readonly string[], ranking: readonly RankingEntry[], topCount: number, publishedAt: number, leftOut?: LeftOut): NotificationBody[] {
  const top = ranking.slice(0, Math.min(topCount, WIRE_LIMITS.rankingTopMax));
  const rankOf = new Map(ranking.map((e) => [e.userId, e.rank]));
  const shared = leftOut === undefined || leftOut.users === 0 ? undefined : leftOut;
  return userIds.map((userId) => {
    const rank = rankOf.get(userId) ?? null;
    const payload: RankingPayload = shared === undefined ? { kind: 'ranking', raceId, rank, top } : { kind: 'ranking', raceId, rank, top, leftOut: shared };
    return { userId, raceId, kind: 'ranking', payload, publishedAt, notificationId: rankingNotificationId(raceId, userId) };
  });
}

/**
 * What a client keeps to drop duplicates: the ids of the last `remembered` notifications. Bounded
 * so a long-lived connection cannot grow it without end; redeliveries arrive within seconds, far
 * inside the window.
 */
export interface NotificationDeduper {
  /** True the first time an id is seen (show it), false for a duplicate (drop it). */
  accept(notificationId: string): boolean;
}

export const DEDUPE_REMEMBERED_DEFAULT = 1024;

export function createNotificationDeduper(remembered: number = DEDUPE_REMEMBERED_DEFAULT): NotificationDeduper {
  const seen = new Set<string>();
  return {
    accept(id) {
      if (seen.has(id)) return false;
      seen.add(id);
      // Sets iterate in insertion order, so the first key is the oldest id.
      if (seen.size > remembered) seen.delete(seen.values().next().value as string);
      return true;
    },
  };
}

function parseRankingEntry(value: unknown, path: string): Result<RankingEntry> {
  const o = objectAt(value, path);
  if (!o.ok) return o;
  const known = onlyKnownFields(o.value, ['rank', 'userId', 'cash', 'medals'], path);
  if (!known.ok) return known;
  const rank = countAt(o.value, 'rank', path, 'a positive integer');
  if (!rank.ok) return rank;
  if (rank.value === 0) return invalid(`${path}.rank`, 'must be a positive integer, got 0');
  const userId = idAt(o.value, 'userId', path);
  if (!userId.ok) return userId;
  // Ranked amounts are credits, never negative.
  const cash = countAt(o.value, 'cash', path);
  if (!cash.ok) return cash;
  const medals = countAt(o.value, 'medals', path);
  if (!medals.ok) return medals;
  return ok({ rank: rank.value, userId: userId.value, cash: cash.value, medals: medals.value });
}

function parseRankingPayload(o: Fields, path: string): Result<RankingPayload> {
  const known = onlyKnownFields(o, ['kind', 'raceId', 'rank', 'top', 'leftOut'], path);
  if (!known.ok) return known;
  const raceId = idAt(o, 'raceId', path);
  if (!raceId.ok) return raceId;
  let rank: number | null = null;
  if (o.rank !== null) {
    const r = countAt(o, 'rank', path, 'a positive integer or null');
    if (!r.ok) return r;
    if (r.value === 0) return invalid(`${path}.rank`, 'must be a positive integer or null, got 0');
    rank = r.value;
  }
  if (!Array.isArray(o.top) || o.top.length > WIRE_LIMITS.rankingTopMax) return invalid(`${path}.top`, `must be an array of at most ${WIRE_LIMITS.rankingTopMax} entries`);
  const top: RankingEntry[] = [];
  for (let i = 0; i < o.top.length; i++) {
    const e = parseRankingEntry(o.top[i], `${path}.top[${i}]`);
    if (!e.ok) return e;
    top.push(e.value);
  }
  if (o.leftOut === undefined) return ok({ kind: 'ranking', raceId: raceId.value, rank, top });
  const leftOut = parseLeftOut(o.leftOut, `${path}.leftOut`);
  if (!leftOut.ok) return leftOut;
  return ok({ kind: 'ranking', raceId: raceId.value, rank, top, leftOut: leftOut.value });
}

/** Reason codes kept at most in `leftOut.reasons` (codes are a short fixed list). */
const LEFT_OUT_REASONS_MAX = 32;

function parseLeftOut(value: unknown, path: string): Result<LeftOut> {
  const o = objectAt(value, path);
  if (!o.ok) return o;
  const known = onlyKnownFields(o.value, ['users', 'reasons'], path);
  if (!known.ok) return known;
  const users = countAt(o.value, 'users', path);
  if (!users.ok) return users;
  const reasons = objectAt(o.value.reasons, `${path}.reasons`);
  if (!reasons.ok) return reasons;
  const entries = Object.entries(reasons.value);
  if (entries.length > LEFT_OUT_REASONS_MAX) return invalid(`${path}.reasons`, `must name at most ${LEFT_OUT_REASONS_MAX} reason codes, got ${entries.length}`);
  let sum = 0;
  const out: Record<string, number> = {};
  for (const [code] of entries) {
    const n = countAt(reasons.value, code, `${path}.reasons`);
    if (!n.ok) return n;
    out[code] = n.value;
    sum += n.value;
  }
  if (sum !== users.value) return invalid(`${path}.reasons`, `must count ${users.value} users in all, got ${sum}`);
  return ok({ users: users.value, reasons: out });
}

function parseSettledPayload(o: Fields, path: string): Result<SettledPayload> {
  const known = onlyKnownFields(o, ['kind', 'raceId', 'settlementId', 'cash', 'medals', 'hits'], path);
  if (!known.ok) return known;
  const raceId = idAt(o, 'raceId', path);
  if (!raceId.ok) return raceId;
  const settlementId = idAt(o, 'settlementId', path, WIRE_LIMITS.derivedIdLengthMax);
  if (!settlementId.ok) return settlementId;
  const amounts: number[] = [];
  for (const key of ['cash', 'medals', 'hits']) {
    const v = countAt(o, key, path);
    if (!v.ok) return v;
    amounts.push(v.value);
  }
  const [cash, medals, hits] = amounts as [number, number, number];
  return ok({ kind: 'settled', raceId: raceId.value, settlementId: settlementId.value, cash, medals, hits });
}

/** Validates a payload of the given kind; `path` is where it sits, e.g. `notifications.payload`. */
export function parseNotificationPayload(kind: NotificationKind, value: unknown, path: string): Result<NotificationPayload> {
  const o = objectAt(value, path);
  if (!o.ok) return o;
  if (o.value.kind !== kind) return invalid(`${path}.kind`, `must be "${kind}" like the message's kind, got ${JSON.stringify(o.value.kind)}`);
  return kind === 'settled' ? parseSettledPayload(o.value, path) : parseRankingPayload(o.value, path);
}
