// The memory store's notification log: per user, the notifications in order (index = seq - 1)
// and their ids. An append runs without an await between reading the last number and writing the
// next, so concurrent calls in this process cannot interleave inside it (the atomicity the port
// asks for); there is no other process to share it with.
//
// At replay scale (millions of users, nothing reads the log back) `bodies: false` keeps per user
// only a 52-bit hash of each notification id, in seq order: enough to give a redelivered
// notification its number again (a user has a handful of ids, so two of one user's ids sharing a
// hash is out of the question), without holding millions of bodies and id strings.
import { checkNotificationsAfter, planNotificationAppend } from '../../core/notification.ts';
import { NOTIFICATIONS_PAGE_MAX, type SequencedNotification, type Store } from '../../core/ports.ts';

interface UserLog {
  readonly entries: SequencedNotification[];
  readonly seqById: Map<string, number>;
}

type NotificationLog = Pick<Store, 'appendNotifications' | 'notificationsAfter'> & Required<Pick<Store, 'notificationsLogged'>>;

export function createNotificationLog(bodies = true): NotificationLog {
  return bodies ? fullLog() : numbersOnlyLog();
}

function fullLog(): NotificationLog {
  const logs = new Map<string, UserLog>();
  return {
    async appendNotifications(bodies) {
      const { seqs, appends } = planNotificationAppend(bodies, {
        lastSeq: (userId) => logs.get(userId)?.entries.length ?? 0,
        seqOf: (userId, id) => logs.get(userId)?.seqById.get(id),
      });
      for (const { seq, body } of appends) {
        let log = logs.get(body.userId);
        if (log === undefined) logs.set(body.userId, (log = { entries: [], seqById: new Map() }));
        log.entries.push({ ...body, seq });
        log.seqById.set(body.notificationId, seq);
      }
      return seqs;
    },
    async notificationsAfter(userId, afterSeq, limit) {
      checkNotificationsAfter(userId, afterSeq, limit, NOTIFICATIONS_PAGE_MAX);
      // Numbers are dense from 1, so seq n sits at index n - 1.
      return logs.get(userId)?.entries.slice(afterSeq, afterSeq + limit) ?? [];
    },
    async notificationsLogged(keys) {
      return keys.map((k) => logs.get(k.userId)?.seqById.has(k.notificationId) === true);
    },
  };
}

/** FNV-1a over the id's UTF-16 units, two 32-bit lanes folded to 52 bits (exact in a double). */
function idHash(id: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ id.length;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
  }
  return (a & 0xfffff) * 0x100000000 + b;
}

function numbersOnlyLog(): NotificationLog {
  const hashes = new Map<string, number[]>();
  return {
    async appendNotifications(bodies) {
      const { seqs, appends } = planNotificationAppend(bodies, {
        lastSeq: (userId) => hashes.get(userId)?.length ?? 0,
        seqOf: (userId, id) => {
          const at = hashes.get(userId)?.indexOf(idHash(id)) ?? -1;
          return at < 0 ? undefined : at + 1;
        },
      });
      for (const { body } of appends) {
        const mine = hashes.get(body.userId);
        if (mine === undefined) hashes.set(body.userId, [idHash(body.notificationId)]);
        else mine.push(idHash(body.notificationId));
      }
      return seqs;
    },
    async notificationsAfter() {
      throw new Error('notificationsAfter: this memory store keeps notification numbers only (notificationLog: false); create it with the log to read it back');
    },
    async notificationsLogged(keys) {
      return keys.map((k) => hashes.get(k.userId)?.includes(idHash(k.notificationId)) === true);
    },
  };
}
