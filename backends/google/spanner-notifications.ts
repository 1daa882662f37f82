// The notification log on Spanner (schema.sql Notifications, NotificationsById, NotificationHeads).
// An append is one read-write transaction per shard and group commit: the appends waiting for a
// busy shard go together (the notify stage appends one body per `settled` message, and a
// transaction each would queue behind the settlements on the emulator's one-transaction-at-a-time
// databases). The transaction reads the users' heads and the ids already logged, numbers the new
// bodies with the core's rule (planNotificationAppend) and writes rows and heads. Two appends for
// one user, from this process or another, both read and write its head row, so Spanner
// serializes them (the loser aborts and is retried); the unique index is the backstop.
import type { Database, Transaction } from '@google-cloud/spanner';
import { encodeNotification, parseNotification } from '../../core/messages.ts';
import { checkNotificationsAfter, planNotificationAppend, withoutSeq, type NotificationBody } from '../../core/notification.ts';
import { NOTIFICATIONS_PAGE_MAX, type NotificationKey, type SequencedNotification } from '../../core/ports.ts';
import { invariant } from '../../core/result.ts';
import { uniqueKeys } from './spanner-batch.ts';
import { assertId } from './spanner-rows.ts';
import { runReadWrite, type TxCounters, type TxRunnerOptions } from './spanner-tx.ts';

/** Notifications.NotificationId is STRING(200). */
const NOTIFICATION_ID_LENGTH_MAX = 200;
/**
 * Bodies per call the group commit takes at most, calls it takes at once (ShardBatcher), and
 * bodies per transaction: the calls taken are committed in transactions of at most
 * `bodiesPerCommitMax` bodies, one after another. Measured on the emulator (2,000 ranking
 * notifications of about 700 bytes, one shard): one transaction of 2,000 took 2.1 s, transactions
 * of 500 took 0.8 s in all, of 100 0.86 s, of 25 1.36 s (a transaction's cost grows faster
 * than its size, and each has a fixed cost too).
 */
export const NOTIFICATION_BATCH = { bodiesPerCallMax: 100, callsPerCommitMax: 100, bodiesPerCommitMax: 400 } as const;

export function checkAppend(bodies: readonly NotificationBody[]): void {
  for (const b of bodies) {
    assertId('userId', b.userId);
    invariant(b.notificationId.length > 0 && b.notificationId.length <= NOTIFICATION_ID_LENGTH_MAX, `notification id ${JSON.stringify(b.notificationId)} must be 1..${NOTIFICATION_ID_LENGTH_MAX} characters`);
  }
}

/**
 * Splits one call's items into commit-sized chunks without splitting a user: a user's bodies of
 * one call stay in one transaction, in their order, so concurrent chunks cannot reorder them.
 */
export function chunkByUser<T>(items: readonly T[], userOf: (item: T) => string, max: number = NOTIFICATION_BATCH.bodiesPerCallMax): T[][] {
  const byUser = new Map<string, T[]>();
  for (const item of items) {
    const mine = byUser.get(userOf(item));
    if (mine === undefined) byUser.set(userOf(item), [item]);
    else mine.push(item);
  }
  const chunks: T[][] = [];
  let chunk: T[] = [];
  for (const mine of byUser.values()) {
    if (chunk.length > 0 && chunk.length + mine.length > max) {
      chunks.push(chunk);
      chunk = [];
    }
    chunk.push(...mine);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** Appends every waiting call's bodies (all of one shard) in transactions of at most bodiesPerCommitMax bodies; the seqs per call. */
export async function appendNotificationsBatch(database: Database, counters: TxCounters, options: TxRunnerOptions, calls: readonly (readonly NotificationBody[])[]): Promise<number[][]> {
  const out: number[][] = [];
  let group: (readonly NotificationBody[])[] = [];
  let bodies = 0;
  for (const call of calls) {
    if (group.length > 0 && bodies + call.length > NOTIFICATION_BATCH.bodiesPerCommitMax) {
      out.push(...(await appendInOneTransaction(database, counters, options, group)));
      group = [];
      bodies = 0;
    }
    group.push(call);
    bodies += call.length;
  }
  if (group.length > 0) out.push(...(await appendInOneTransaction(database, counters, options, group)));
  return out;
}

function appendInOneTransaction(database: Database, counters: TxCounters, options: TxRunnerOptions, calls: readonly (readonly NotificationBody[])[]): Promise<number[][]> {
  return runReadWrite(
    database,
    counters,
    async (tx: Transaction) => {
      const all = calls.flat();
      const userIds = [...new Set(all.map((b) => b.userId))];
      const idKeys = [...new Map(all.map((b) => [`${b.userId}\u0000${b.notificationId}`, [b.userId, b.notificationId]])).values()];
      const [[heads], [logged]] = await Promise.all([
        tx.read('NotificationHeads', { keys: userIds.map((u) => [u]), columns: ['UserId', 'LastSeq'], json: true }),
        tx.read('Notifications', { index: 'NotificationsById', keys: idKeys, columns: ['UserId', 'NotificationId', 'Seq'], json: true }),
      ]);
      const last = new Map((heads as { UserId: string; LastSeq: number }[]).map((h) => [h.UserId, Number(h.LastSeq)]));
      const seqById = new Map((logged as { UserId: string; NotificationId: string; Seq: number }[]).map((r) => [`${r.UserId}\u0000${r.NotificationId}`, Number(r.Seq)]));
      const { seqs, appends } = planNotificationAppend(all, { lastSeq: (u) => last.get(u) ?? 0, seqOf: (u, id) => seqById.get(`${u}\u0000${id}`) });
      if (appends.length > 0) {
        tx.insert(
          'Notifications',
          appends.map(({ seq, body }) => ({ UserId: body.userId, Seq: seq, NotificationId: body.notificationId, Body: encodeNotification(body) })),
        );
        const top = new Map<string, number>();
        for (const { seq, body } of appends) top.set(body.userId, seq);
        tx.upsert('NotificationHeads', [...top].map(([UserId, LastSeq]) => ({ UserId, LastSeq })));
      }
      // Back to one array per call, in call order.
      const out: number[][] = [];
      let at = 0;
      for (const c of calls) {
        out.push(seqs.slice(at, at + c.length));
        at += c.length;
      }
      return out;
    },
    options,
  );
}

/** A strong read of the user's log after `afterSeq`: one key range in key order (ascending seq). */
/** Whether each (user, id) of one shard is logged, in the order asked (one read of the id index). */
export async function readNotificationsLogged(database: Database, keys: readonly NotificationKey[]): Promise<boolean[]> {
  if (keys.length === 0) return [];
  const idOf = (userId: string, id: string): string => `${userId}\u0000${id}`;
  const [rows] = await database.table('Notifications').read({ index: 'NotificationsById', keys: uniqueKeys(keys.map((k) => [k.userId, k.notificationId])), columns: ['UserId', 'NotificationId'], json: true });
  const found = new Set((rows as { UserId: string; NotificationId: string }[]).map((r) => idOf(r.UserId, r.NotificationId)));
  return keys.map((k) => found.has(idOf(k.userId, k.notificationId)));
}

export async function readNotificationsAfter(database: Database, userId: string, afterSeq: number, limit: number): Promise<SequencedNotification[]> {
  checkNotificationsAfter(userId, afterSeq, limit, NOTIFICATIONS_PAGE_MAX);
  assertId('userId', userId);
  const [rows] = await database.table('Notifications').read({ ranges: [{ startOpen: [userId, afterSeq], endClosed: [userId] }], columns: ['Seq', 'Body'], limit, json: true });
  return (rows as { Seq: number; Body: string }[]).map((r) => {
    const parsed = parseNotification(JSON.parse(r.Body));
    // A row the store wrote itself fails only if it was altered: that is corruption, not input.
    invariant(parsed.ok, `notification log row ${userId}#${r.Seq} is not a valid notification: ${parsed.ok ? '' : parsed.error.message}`);
    return { ...withoutSeq(parsed.value), seq: Number(r.Seq) };
  }).sort((a, b) => a.seq - b.seq);
}
