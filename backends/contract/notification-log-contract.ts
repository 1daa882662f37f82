// The notification log contract (Store.appendNotifications, notificationsAfter), for every
// backend: per-user numbers dense from 1, idempotent by notification id, atomic under concurrent
// appends, read back in order and in pages. Fresh nonce-prefixed ids per test, so it also runs
// against a shared database.
import { describe, expect, it } from 'vitest';
import { settledNotificationId, type NotificationBody } from '../../core/notification.ts';
import { NOTIFICATIONS_PAGE_MAX, type SequencedNotification, type Store } from '../../core/ports.ts';
import { settlementIdOf } from '../../core/settlement-record.ts';
import { storeRunner, type StoreUnderTest } from './fresh-store.ts';

export interface NotificationLogContractOptions {
  readonly testTimeoutMs?: number;
  /** Concurrent appends in the race-condition tests. */
  readonly concurrency?: number;
  /** A second store on the same data with its own client (another process's): concurrent appends alternate between the two. */
  readonly twin?: () => Store;
}

/** A valid `settled` notification of user `userId` about race `raceId` (distinct races give distinct ids). */
export function settledBody(userId: string, raceId: string, cash = 100): NotificationBody {
  const settlementId = settlementIdOf(raceId, userId, 1);
  return { userId, raceId, kind: 'settled', payload: { kind: 'settled', raceId, settlementId, cash, medals: 0, hits: cash > 0 ? 1 : 0 }, publishedAt: 1_700_000_000_000, notificationId: settledNotificationId(settlementId) };
}

async function wholeLog(store: Store, userId: string): Promise<SequencedNotification[]> {
  const out: SequencedNotification[] = [];
  for (;;) {
    const page = await store.notificationsAfter(userId, out.length === 0 ? 0 : (out[out.length - 1] as SequencedNotification).seq, 2);
    out.push(...page);
    if (page.length < 2) return out;
  }
}

export function describeNotificationLogContract(name: string, makeStore: () => Promise<StoreUnderTest>, opts: NotificationLogContractOptions = {}): void {
  const timeout = opts.testTimeoutMs ?? 30_000;
  const concurrency = opts.concurrency ?? 8;
  const withStore = storeRunner(makeStore, 'n');

  describe(`Notification log contract: ${name}`, () => {
    it('numbers each user\'s notifications 1, 2, ... across calls, users apart, and reads them back in order', () =>
      withStore(async (store, p) => {
        const [a, b] = [`${p}a`, `${p}b`];
        expect(await store.appendNotifications([settledBody(a, `${p}r1`), settledBody(b, `${p}r1`), settledBody(a, `${p}r2`)])).toEqual([1, 1, 2]);
        expect(await store.appendNotifications([settledBody(a, `${p}r3`, 0)])).toEqual([3]);
        const log = await wholeLog(store, a);
        expect(log.map((n) => n.seq)).toEqual([1, 2, 3]);
        expect(log.map((n) => n.raceId)).toEqual([`${p}r1`, `${p}r2`, `${p}r3`]);
        expect(log[2]).toEqual({ ...settledBody(a, `${p}r3`, 0), seq: 3 });
        expect((await store.notificationsAfter(b, 0, 10)).map((n) => [n.userId, n.seq])).toEqual([[b, 1]]);
      }), timeout);

    it('says which (user, notification id) are logged, in the order asked, across users', () =>
      withStore(async (store, p) => {
        const [a, b] = [`${p}a`, `${p}b`];
        const logged = [settledBody(a, `${p}r1`), settledBody(b, `${p}r1`), settledBody(a, `${p}r2`)];
        await store.appendNotifications(logged);
        const logCheck = store.notificationsLogged;
        if (logCheck === undefined) throw new Error('this Store lacks notificationsLogged, which the reconciler needs');
        const key = (body: NotificationBody) => ({ userId: body.userId, notificationId: body.notificationId });
        const asked = [key(logged[2] as NotificationBody), key(settledBody(b, `${p}r2`)), key(logged[0] as NotificationBody), key(settledBody(`${p}nobody`, `${p}r1`)), key(logged[1] as NotificationBody), key(logged[0] as NotificationBody)];
        // b's id of race r1 asked under user a is not a's notification.
        asked.push({ userId: a, notificationId: (logged[1] as NotificationBody).notificationId });
        expect(await logCheck.call(store, asked)).toEqual([true, false, true, false, true, true, false]);
        expect(await logCheck.call(store, [])).toEqual([]);
      }), timeout);

    it('reads a page after a number: only seq > afterSeq, at most limit, nothing past the end or for an unknown user', () =>
      withStore(async (store, p) => {
        const u = `${p}u`;
        await store.appendNotifications(Array.from({ length: 5 }, (_, i) => settledBody(u, `${p}r${i}`)));
        expect((await store.notificationsAfter(u, 1, 3)).map((n) => n.seq)).toEqual([2, 3, 4]);
        expect((await store.notificationsAfter(u, 4, 10)).map((n) => n.seq)).toEqual([5]);
        expect(await store.notificationsAfter(u, 5, 10)).toEqual([]);
        expect(await store.notificationsAfter(`${p}nobody`, 0, 10)).toEqual([]);
      }), timeout);

    it('answers a logged notification id with its existing number and logs it once (also twice in one call)', () =>
      withStore(async (store, p) => {
        const u = `${p}u`;
        const first = settledBody(u, `${p}r1`);
        expect(await store.appendNotifications([first, settledBody(u, `${p}r2`)])).toEqual([1, 2]);
        // A redelivery (carrying a stale seq of its own) and a new one in one call; then the new one twice.
        expect(await store.appendNotifications([{ ...first, seq: 7 }, settledBody(u, `${p}r3`)])).toEqual([1, 3]);
        expect(await store.appendNotifications([settledBody(u, `${p}r4`), settledBody(u, `${p}r4`)])).toEqual([4, 4]);
        expect((await wholeLog(store, u)).map((n) => [n.seq, n.notificationId])).toEqual([1, 2, 3, 4].map((s) => [s, settledBody(u, `${p}r${s}`).notificationId]));
      }), timeout);

    it('gives concurrent appends of one user (from two clients where the backend has them) distinct dense numbers, and concurrent duplicates one number', () =>
      withStore(async (store, p) => {
        const u = `${p}u`;
        const n = 2 * concurrency;
        const other = opts.twin?.() ?? store;
        const seqs = await Promise.all(Array.from({ length: n }, (_, i) => (i % 2 === 0 ? store : other).appendNotifications([settledBody(u, `${p}r${i}`)])));
        expect(seqs.map((s) => s[0]).sort((x, y) => (x as number) - (y as number))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        // Each notification's number is the one its own call was answered.
        const log = await wholeLog(store, u);
        for (let i = 0; i < n; i++) expect(log.find((x) => x.raceId === `${p}r${i}`)?.seq).toBe(seqs[i]?.[0]);
        const dup = settledBody(u, `${p}dup`);
        const dups = await Promise.all(Array.from({ length: concurrency }, (_, i) => (i % 2 === 0 ? store : other).appendNotifications([dup])));
        expect(new Set(dups.map((s) => s[0]))).toEqual(new Set([n + 1]));
        expect((await wholeLog(store, u)).length).toBe(n + 1);
      }), timeout);

    it('numbers a large call (1,000 notifications of 5 users, interleaved) in call order per user', () =>
      withStore(async (store, p) => {
        const users = Array.from({ length: 5 }, (_, i) => `${p}u${i}`);
        const bodies = Array.from({ length: 1_000 }, (_, i) => settledBody(users[i % 5] as string, `${p}r${i}`));
        const seqs = await store.appendNotifications(bodies);
        expect(seqs).toEqual(bodies.map((_, i) => Math.floor(i / 5) + 1));
        const page = await store.notificationsAfter(users[3] as string, 150, NOTIFICATIONS_PAGE_MAX);
        expect(page.map((n) => [n.seq, n.raceId])).toEqual(Array.from({ length: 50 }, (_, k) => [151 + k, `${p}r${(150 + k) * 5 + 3}`]));
      }), timeout);

    it('refuses a bad read: negative afterSeq, a limit out of 1..NOTIFICATIONS_PAGE_MAX, an empty user', () =>
      withStore(async (store, p) => {
        await expect(store.notificationsAfter(`${p}u`, -1, 10)).rejects.toThrow(/afterSeq/);
        await expect(store.notificationsAfter(`${p}u`, 0, 0)).rejects.toThrow(/limit/);
        await expect(store.notificationsAfter(`${p}u`, 0, NOTIFICATIONS_PAGE_MAX + 1)).rejects.toThrow(/limit/);
        await expect(store.notificationsAfter('', 0, 10)).rejects.toThrow(/user/);
      }), timeout);
  });
}
