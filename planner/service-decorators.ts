// The memory backend's Store and MessageBus given the cost model's service times: every call the
// pipeline makes waits on the virtual clock for its resource (service-times.ts) before the real
// memory store or bus does the work, so the pipeline's own logic (batches, barrier, post-settle,
// notify) decides what is asked of each resource and when. Calls not listed here are passed
// through at no cost: they are off the per-user path (race lookups, the ranking claim's small
// writes) or happen before the publication (loading).
import type { NotificationBody } from '../core/notification.ts';
import type { MessageBus, Store } from '../core/ports.ts';
import type { MemoryStore } from '../backends/memory/index.ts';
import type { Resources } from './service-times.ts';

/** Called after each applied settlement commits (virtual time is the commit's). */
export type OnSettled = (userId: string) => void;

/** Tickets per user of the synthetic race: the size of a settlement transaction. */
export type TicketsOf = (userId: string) => number;

/**
 * The store with service times. Settlements, post-settle marks and notification appends are
 * group-committed per shard where the target does that (the emulators); fan-out pages and the
 * ranking's reads are database reads.
 */
export function timedStore(inner: MemoryStore, res: Resources, ticketsOf: TicketsOf, onSettled: OnSettled): Store {
  const timed = Object.create(inner) as Store;
  const overrides: Partial<Store> = {
    settleUserColumns: (raceId, userId, version, lookup, outbox) =>
      res.transact('settle', userId, { users: 1, tickets: ticketsOf(userId) }, async () => {
        const r = await inner.settleUserColumns(raceId, userId, version, lookup, outbox);
        if (r.kind === 'applied') onSettled(userId);
        return r;
      }),
    settleUser: (raceId, userId, version, compute, outbox) =>
      res.transact('settle', userId, { users: 1, tickets: ticketsOf(userId) }, async () => {
        const r = await inner.settleUser(raceId, userId, version, compute, outbox);
        if (r.kind === 'applied') onSettled(userId);
        return r;
      }),
    // Post-settle's writes: the day progress (only for a user with hits) and the marker, each a
    // group commit of its own on Spanner, each priced as postSettle.commit.
    markPostSettled: (raceId, userId) => res.transact('postSettle', userId, { users: 1, writes: 1 }, () => inner.markPostSettled(raceId, userId)),
    applyDayProgress: (entry, bonusesOf) => res.transact('day', entry.userId, { users: 1, writes: 1 }, () => inner.applyDayProgress(entry, bonusesOf)),
    appendNotifications: (bodies) => appendTimed(inner, res, bodies),
    async pageUsersWithOpenTickets(raceId, after, limit) {
      await res.startup();
      const page = await inner.pageUsersWithOpenTickets(raceId, after, limit);
      await res.read('fanout.page', { users: page.length }, page.length);
      return page;
    },
    async countUsersWithOpenTickets(raceId) {
      await res.startup();
      const n = await inner.countUsersWithOpenTickets(raceId);
      await res.read('fanout.page', { users: 0 }, n);
      return n;
    },
    // The settled check (post-settle and notify, before acting on a `settled` message): a point
    // read on the database, coalesced per shard where the Spanner store coalesces it.
    getSettlementTotals: (raceId, userId) => res.checkSettled(userId, () => inner.getSettlementTotals(raceId, userId)),
    async pageSettlementTotals(raceId, after, limit) {
      const rows = await inner.pageSettlementTotals(raceId, after, limit);
      await res.read('ranking.claim', { users: rows.length }, rows.length);
      return rows;
    },
    async cashPools(raceId) {
      const pools = await inner.cashPools(raceId);
      await res.read('ingest.result', { tickets: inner.stats().tickets }, inner.stats().tickets);
      return pools;
    },
  };
  return Object.assign(timed, overrides);
}

/**
 * An append of several users' bodies (the ranking appends a slice of users at once) is one
 * transaction per shard they live in, as on Spanner; the bodies are appended for real once every
 * shard's commit is done, so the numbers come back in the order given.
 */
async function appendTimed(inner: MemoryStore, res: Resources, bodies: readonly NotificationBody[]): Promise<readonly number[]> {
  if (bodies.length <= 1) {
    const first = bodies[0];
    if (first === undefined) return inner.appendNotifications(bodies);
    return res.transact('notify', first.userId, { notifications: 1, users: 1 }, () => inner.appendNotifications(bodies));
  }
  // Grouped by user here; the resources group them by shard (each user's call joins its shard's commit).
  await Promise.all(bodies.map((b) => res.transact('notify', b.userId, { notifications: 1, users: 1 }, async () => undefined)));
  return inner.appendNotifications(bodies);
}

/** A subscription's deliveries in flight, integrated over virtual time (delivery to the handler's end). */
export class SlotUse {
  #inFlight = 0;
  #integral = 0;
  #last = 0;
  deliveries = 0;
  readonly #now: () => number;
  constructor(now: () => number) {
    this.#now = now;
    this.#last = now();
  }
  #advance(): void {
    const t = this.#now();
    this.#integral += this.#inFlight * (t - this.#last);
    this.#last = t;
  }
  enter(): void {
    this.#advance();
    this.#inFlight++;
    this.deliveries++;
  }
  leave(): void {
    this.#advance();
    this.#inFlight--;
  }
  /** Slot-ms held so far. */
  busyMs(): number {
    this.#advance();
    return this.#integral;
  }
}

export interface TimedBus extends MessageBus {
  /** Per subscription: how long its deliveries held a flow-control slot. */
  readonly slots: ReadonlyMap<string, SlotUse>;
}

/**
 * The bus with service times: a publish call costs publish.batch at its size before the messages
 * are accepted; each delivery costs deliver.message before its handler starts (and the gateway's
 * per-frame cost on the gateway subscription).
 */
export function timedBus(inner: MessageBus, res: Resources, gatewaySubscription: string): TimedBus {
  const slots = new Map<string, SlotUse>();
  return {
    slots,
    async publish(topic, messages) {
      await res.work('publish.batch', { messages: messages.length });
      return inner.publish(topic, messages);
    },
    subscribe(subscription, handler, options) {
      let use = slots.get(subscription);
      if (use === undefined) slots.set(subscription, (use = new SlotUse(() => res.clock.nowMs())));
      const u = use;
      return inner.subscribe(
        subscription,
        async (d) => {
          u.enter();
          try {
            await res.work('deliver.message', { messages: 1 });
            if (subscription === gatewaySubscription) await res.gateway();
            await handler(d);
          } finally {
            u.leave();
          }
        },
        options,
      );
    },
    close: () => inner.close(),
  };
}
