// Recovery by sequence number: the per-subscription sequencer between a user's live notification
// frames (the delivery policy's queue, which may drop, and an intake that may deliver twice or out
// of order) and the client. Every notification to a user has its number in the user's log
// (Store.appendNotifications, given before it is published), so the sequencer can promise the
// client every notification after `afterSeq`, in order, once:
//   1. first what the Store holds after afterSeq, page by page;
//   2. then live frames: one at or below the last number delivered is a duplicate and is dropped;
//      one above last + 1 means frames were lost (dropped by the policy, or not yet arrived), so
//      the missing range is read from the Store and delivered before it.
// A client evicted or dropped reconnects with the last number it saw and gets the rest the same way.
import type { NotificationBody } from '../core/notification.ts';
import type { SequencedNotification, Store } from '../core/ports.ts';
import { NOTIFICATIONS_PAGE_MAX } from '../core/ports.ts';
import type { Outbound } from './contracts.ts';

/** Notifications read from the Store per call while catching up. */
export const RECOVERY_PAGE_DEFAULT = 100;

export interface SequencerOptions {
  readonly userId: string;
  /**
   * The last number the client saw: the Store's notifications after it come first (0: all of
   * them). Undefined: live only, from the first live frame on (gaps after it are still filled).
   */
  readonly afterSeq: number | undefined;
  readonly store: Pick<Store, 'notificationsAfter'>;
  /** The frame for a notification read from the Store (the gateway's own Notification value). */
  readonly frameOf?: (n: SequencedNotification, nowMs: number) => Outbound;
  readonly pageSize?: number;
  readonly nowMs?: () => number;
  /**
   * When no live frame came for this long, read the Store after the last number anyway: a policy
   * that dropped a user's latest notification leaves no gap for a later frame to reveal (the
   * incident's "channel is full" drops anything). Undefined: never (the tail then comes with the
   * next live frame or the next reconnect).
   */
  readonly idleCheckMs?: number;
}

export interface SequencerStats {
  /** Notifications delivered from the Store (catch-up and gap fills). */
  readonly fromStore: number;
  /** Live frames delivered. */
  readonly live: number;
  /** Live frames dropped because their number was already delivered. */
  readonly duplicates: number;
  /** Gaps in the live frames filled from the Store. */
  readonly gapsFilled: number;
  /** Numbers a gap fill found missing in the Store (a log that lost rows: never expected). */
  readonly missing: number;
  /** Store reads after an idle period (idleCheckMs). */
  readonly idleChecks: number;
}

export interface SequencedFeed extends AsyncIterable<Outbound> {
  stats(): SequencerStats;
  /** The last number delivered (undefined before the first, on a live-only feed). */
  lastSeq(): number | undefined;
}

/** The default frame of a stored notification: the Notification value of the subscription. */
export function storedNotificationFrame(n: SequencedNotification, nowMs: number): Outbound {
  const payload = { seq: n.seq, raceId: n.raceId, kind: n.kind, publishedAt: n.publishedAt, notificationId: n.notificationId, payload: n.payload };
  return { kind: 'notification', raceId: n.raceId, userId: n.userId, seq: n.seq, payload, bytes: Buffer.byteLength(JSON.stringify(payload)), enteredAtMs: nowMs, originAtMs: n.publishedAt };
}

/** The default frame of a live notification body (what an intake delivers), for callers without their own. */
export function liveNotificationFrame(body: NotificationBody & { readonly seq: number }, receivedAtMs: number): Outbound {
  return storedNotificationFrame(body, receivedAtMs);
}

const IDLE = Symbol('idle');

/** The live iterator's next result, or IDLE after `ms` (the pending next stays pending for the next round). */
async function idleOr<T>(next: Promise<T>, ms: number): Promise<T | typeof IDLE> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([next, new Promise<typeof IDLE>((resolve) => (timer = setTimeout(() => resolve(IDLE), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export function sequenceNotifications(live: AsyncIterable<Outbound>, o: SequencerOptions): SequencedFeed {
  const pageSize = o.pageSize ?? RECOVERY_PAGE_DEFAULT;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > NOTIFICATIONS_PAGE_MAX) throw new Error(`recovery page size must be 1..${NOTIFICATIONS_PAGE_MAX}, got ${pageSize}`);
  if (o.afterSeq !== undefined && (!Number.isSafeInteger(o.afterSeq) || o.afterSeq < 0)) throw new Error(`afterSeq must be a non-negative integer, got ${o.afterSeq}`);
  if (o.idleCheckMs !== undefined && (!Number.isSafeInteger(o.idleCheckMs) || o.idleCheckMs < 1)) throw new Error(`idleCheckMs must be a positive integer, got ${o.idleCheckMs}`);
  const frameOf = o.frameOf ?? storedNotificationFrame;
  const now = o.nowMs ?? Date.now;
  const stats = { fromStore: 0, live: 0, duplicates: 0, gapsFilled: 0, missing: 0, idleChecks: 0 };
  let last = o.afterSeq;

  /** Reads the Store after `last`, up to `until` (inclusive; undefined: to its end), yielding each. */
  async function* fromStore(until: number | undefined): AsyncGenerator<Outbound> {
    for (;;) {
      const from = last as number;
      const want = until === undefined ? pageSize : Math.min(pageSize, until - from);
      if (want <= 0) return;
      const page = await o.store.notificationsAfter(o.userId, from, want);
      for (const n of page) {
        if (n.seq <= from || (until !== undefined && n.seq > until)) continue;
        last = n.seq;
        stats.fromStore++;
        yield frameOf(n, now());
      }
      if (page.length < want) return;
    }
  }

  /** Delivers one live frame (or drops it), filling a gap before it from the Store. */
  async function* onLive(f: Outbound): AsyncGenerator<Outbound> {
    // Not a numbered notification (nothing to order it by): passed on as it is.
    if (f.seq === undefined) {
      yield f;
      return;
    }
    last ??= f.seq - 1;
    if (f.seq <= last) {
      stats.duplicates++;
      return;
    }
    if (f.seq > last + 1) {
      stats.gapsFilled++;
      yield* fromStore(f.seq - 1);
      // The log is written before anything is published, so it has every number below f.seq.
      if (f.seq > last + 1) stats.missing += f.seq - last - 1;
    }
    last = f.seq;
    stats.live++;
    yield f;
  }

  async function* run(): AsyncGenerator<Outbound> {
    if (last !== undefined) yield* fromStore(undefined);
    const it = live[Symbol.asyncIterator]();
    let next: Promise<IteratorResult<Outbound>> | undefined;
    try {
      for (;;) {
        next ??= it.next();
        const r = o.idleCheckMs === undefined ? await next : await idleOr(next, o.idleCheckMs);
        if (r === IDLE) {
          // Nothing live for a while: a lost last notification shows no gap, so ask the Store.
          if (last !== undefined) {
            stats.idleChecks++;
            yield* fromStore(undefined);
          }
          continue;
        }
        next = undefined;
        if (r.done === true) return;
        yield* onLive(r.value);
      }
    } finally {
      await it.return?.();
    }
  }

  const gen = run();
  return {
    [Symbol.asyncIterator]: () => gen,
    stats: () => ({ ...stats }),
    lastSeq: () => last,
  };
}
