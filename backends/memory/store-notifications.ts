// The memory store's notification log: per user, the notifications in order (index = seq - 1)
// and their ids. An append runs without an await between reading the last number and writing the
// next, so concurrent calls in this process cannot interleave inside it (the atomicity the port
// asks for); there is no other process to share it with.
import { checkNotificationsAfter, planNotificationAppend } from '../../core/notification.ts';
import { NOTIFICATIONS_PAGE_MAX, type SequencedNotification, type Store } from '../../core/ports.ts';

interface UserLog {
  readonly entries: SequencedNotification[];
  readonly seqById: Map<string, number>;
}

export function createNotificationLog(): Pick<Store, 'appendNotifications' | 'notificationsAfter'> {
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
  };
}
