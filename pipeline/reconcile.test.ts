// The reconciler on the memory backend in virtual time: a bus that silently loses chosen messages
// (the way a broker that keeps a dead consumer's lease loses them) leaves a race unranked; the
// reconciler sees its progress stop and re-drives exactly what is missing, and nothing is paid twice.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createMemoryStore, createVirtualClock } from '../backends/memory/index.ts';
import type { BusMessage, Clock, MessageBus } from '../core/ports.ts';
import { createRng } from '../core/rng.ts';
import { settledNotificationId } from '../core/notification.ts';
import { SUBSCRIPTIONS, TOPICS } from '../core/topology.ts';
import { smokeRaceDay } from '../sim/workload.ts';
import { loadDay } from '../sim/world.ts';
import { createReconciler, RECONCILE_DEFAULTS } from './reconcile.ts';
import { startPipeline } from './runner.ts';
import { DEFAULT_VARIANTS } from './settings.ts';
import { encodeSettleRequest, parseSettled, parseSettleRequest } from './wire.ts';

const SHAPE = { usersMin: 12, usersMax: 12, ticketsPerUserMax: 3, stakeUnitsMax: 5 };

/** Drops (once each) the messages `lose` picks, unless the reconciler published them. */
function lossyBus(bus: MessageBus, lose: (topic: string, m: BusMessage) => boolean): MessageBus & { lost: number } {
  const dropped = new Set<string>();
  const lossy = {
    lost: 0,
    publish: async (topic: string, messages: readonly BusMessage[]) => {
      const kept = messages.filter((m) => {
        if (m.attributes?.['redrive'] !== undefined || dropped.has(topic + m.data) || !lose(topic, m)) return true;
        dropped.add(topic + m.data);
        lossy.lost++;
        return false;
      });
      if (kept.length > 0) await bus.publish(topic, kept);
    },
    subscribe: bus.subscribe.bind(bus),
    close: bus.close.bind(bus),
  };
  return lossy;
}

/** Acks and drops, once each, the deliveries of `subscription` that `lose` picks: lost to that subscriber alone. */
function deafSubscriber(bus: MessageBus, subscription: string, lose: (m: BusMessage) => boolean): MessageBus & { lost: number } {
  const dropped = new Set<string>();
  const deaf = {
    lost: 0,
    publish: bus.publish.bind(bus),
    subscribe: ((name, handler, options) =>
      bus.subscribe(name, async (d) => {
        if (name === subscription && d.attributes['redrive'] === undefined && !dropped.has(d.data) && lose(d)) {
          dropped.add(d.data);
          deaf.lost++;
          d.ack();
          return;
        }
        await handler(d);
      }, options)) as MessageBus['subscribe'],
    close: bus.close.bind(bus),
  };
  return deaf;
}

async function world(lose: (users: readonly string[]) => (topic: string, m: BusMessage) => boolean, wrap?: (bus: MessageBus, users: readonly string[]) => MessageBus & { lost: number }) {
  const clock = createVirtualClock();
  const inner = createMemoryBus({ clock });
  const store = createMemoryStore({ clock });
  const day = smokeRaceDay(11, createRng(11), SHAPE);
  await loadDay(store, day);
  const race = day.races[0];
  if (race === undefined) throw new Error('no race');
  const users = day.users.map((u) => u.userId).sort();
  const bus = wrap === undefined ? lossyBus(inner, lose(users)) : wrap(inner, users);
  const pipeline = startPipeline({ store, bus, clock, variants: DEFAULT_VARIANTS });
  let now = 1_000_000;
  const reconcilerClock: Clock = { nowMs: () => now, sleep: (ms) => clock.sleep(ms) };
  const reconciler = createReconciler({ store, bus, clock: reconcilerClock, counters: pipeline.counters, fanout: DEFAULT_VARIANTS.fanout });
  await pipeline.ingest({ raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched });
  await clock.runUntilIdle();
  const advance = (ms: number): void => void (now += ms);
  const ranked = async (): Promise<boolean> => (await store.rankingClaim(race.raceId))?.published === true;
  const applications = async (): Promise<number[]> => (await store.readback!.settlementMarkers(race.raceId)).map((m) => m.applications ?? 0);
  /** A first round, a full stall period, the round that re-drives; returns its re-drive once the pipeline is idle again. */
  const redriveAfterStall = async () => {
    await reconciler.round();
    advance(RECONCILE_DEFAULTS.stallMs);
    const [r] = await reconciler.round();
    await clock.runUntilIdle();
    return r;
  };
  /** Publishes a settle request for `userIds` by hand (a late delivery), and runs the pipeline to idle. */
  const settleAgain = async (userIds: readonly string[], attributes?: Record<string, string>): Promise<void> => {
    const outcome = await store.getOutcome(race.raceId);
    if (outcome === undefined) throw new Error('the race has an outcome');
    const data = encodeSettleRequest({ raceId: race.raceId, resultVersion: outcome.resultVersion, publishedAtMs: outcome.publishedAtMs, userIds });
    await bus.publish(TOPICS.settleRequests, [attributes === undefined ? { data } : { data, attributes }]);
    await clock.runUntilIdle();
  };
  return { clock, store, bus, race, users, pipeline, reconciler, advance, ranked, applications, redriveAfterStall, settleAgain };
}

const settleRequestFor = (userIds: readonly string[]) => (topic: string, m: BusMessage) => {
  if (topic !== TOPICS.settleRequests) return false;
  const r = parseSettleRequest(m.data);
  return r.ok && r.value.userIds.some((u) => userIds.includes(u));
};

describe('the reconciler', () => {
  it('watches the races of its window only: a race whose result is older than watchWindowMs is left alone', async () => {
    const w = await world((users) => settleRequestFor(users.slice(3, 5)));
    expect(await w.ranked()).toBe(false);
    w.advance(RECONCILE_DEFAULTS.watchWindowMs + 1);
    expect(await w.reconciler.round()).toEqual([]);
    w.advance(2 * RECONCILE_DEFAULTS.stallMs);
    expect(await w.reconciler.round()).toEqual([]);
    await w.clock.runUntilIdle();
    expect(await w.ranked()).toBe(false);
    expect(w.pipeline.counters).toMatchObject({ redriveRaces: 0, redriveUsers: 0 });
  });

  it('re-drives the users whose settle requests were lost, after the race stalled for stallMs, and no sooner', async () => {
    const w = await world((users) => settleRequestFor(users.slice(3, 5)));
    expect(w.bus.lost).toBe(2);
    expect(await w.ranked()).toBe(false);
    expect(await w.store.countUsersWithOpenTickets(w.race.raceId)).toBe(2);

    expect(await w.reconciler.round()).toEqual([]); // first sight: the progress is recorded
    w.advance(RECONCILE_DEFAULTS.stallMs - 1);
    expect(await w.reconciler.round()).toEqual([]); // not stalled long enough
    w.advance(1);
    const [r] = await w.reconciler.round();
    expect(r).toMatchObject({ raceId: w.race.raceId, kind: 'users', users: 2, stalledMs: RECONCILE_DEFAULTS.stallMs });
    await w.clock.runUntilIdle();

    expect(await w.ranked()).toBe(true);
    expect(await w.store.countUsersWithOpenTickets(w.race.raceId)).toBe(0);
    expect(await w.applications()).toEqual(w.users.map(() => 1));
    expect(w.pipeline.counters).toMatchObject({ redriveRaces: 1, redriveUsers: 2, redriveFanouts: 0, rankingsPublished: 1, settlementsApplied: w.users.length });
    // A ranked race is no longer watched: nothing more is re-driven.
    w.advance(10 * RECONCILE_DEFAULTS.stallMs);
    expect(await w.reconciler.round()).toEqual([]);
    expect(await w.reconciler.round()).toEqual([]);
  });

  it('re-drives the fan-out when the race result never reached it', async () => {
    const w = await world(() => (topic) => topic === TOPICS.raceResults);
    expect(w.bus.lost).toBe(1);
    expect(await w.store.fanoutUsers(w.race.raceId)).toBeUndefined();
    expect(await w.redriveAfterStall()).toMatchObject({ kind: 'fanout', users: 0 });
    expect(await w.ranked()).toBe(true);
    expect(await w.applications()).toEqual(w.users.map(() => 1));
    expect(w.pipeline.counters.redriveFanouts).toBe(1);
  });

  it('re-drives a settled user whose `settled` was lost: settle publishes it again from the marker, paying nothing twice', async () => {
    const w = await world((users) => (topic, m) => {
      if (topic !== TOPICS.settled) return false;
      const s = parseSettled(m.data);
      return s.ok && s.value.userId === users[7];
    });
    expect(w.bus.lost).toBe(1);
    expect(await w.store.countUsersWithOpenTickets(w.race.raceId)).toBe(0);
    expect(await w.store.terminalUserCount(w.race.raceId)).toBe(w.users.length - 1);
    const notifiedBefore = w.pipeline.counters.notificationsPublished;
    expect(await w.redriveAfterStall()).toMatchObject({ kind: 'users', users: 1 });
    expect(await w.ranked()).toBe(true);
    expect(await w.applications()).toEqual(w.users.map(() => 1));
    expect(w.pipeline.counters.settlementsDuplicate).toBe(1);
    expect(w.pipeline.counters.notificationsPublished).toBe(notifiedBefore + 1);
  });

  it('re-drives one settled user when every user is terminal but no ranking was published', async () => {
    // Every `settled` is lost once, then every user is marked post-settled by hand: the state a
    // post-settle that marked the last user and died before claiming the ranking leaves behind.
    const w = await world(() => (topic) => topic === TOPICS.settled);
    for (const u of w.users) await w.store.markPostSettled(w.race.raceId, u);
    expect(await w.store.terminalUserCount(w.race.raceId)).toBe(w.users.length);
    expect(await w.ranked()).toBe(false);
    expect(await w.redriveAfterStall()).toMatchObject({ kind: 'barrier', users: 1 });
    expect(await w.ranked()).toBe(true);
    expect(await w.applications()).toEqual(w.users.map(() => 1));
    expect(w.pipeline.counters).toMatchObject({ redriveRaces: 1, redriveUsers: 1, rankingsPublished: 1 });
  });

  it('leaves a race alone while it makes progress, and a race that completed alone', async () => {
    const w = await world(() => () => false);
    expect(await w.ranked()).toBe(true);
    expect(await w.store.unrankedRaces(Number.MIN_SAFE_INTEGER)).toEqual([]);
    w.advance(10 * RECONCILE_DEFAULTS.stallMs);
    expect(await w.reconciler.round()).toEqual([]);
    expect(w.pipeline.counters.redriveRaces + w.pipeline.counters.redriveFanouts).toBe(0);
  });
  it('audits a ranked race\'s notifications: users whose `settled` never reached notify are re-driven once the missing count stops falling', async () => {
    // notify alone loses two users' `settled`: post-settle sees every user, so the race ranks.
    const w = await world(() => () => false, (bus, users) => deafSubscriber(bus, SUBSCRIPTIONS.notify.name, (m) => {
      const s = parseSettled(m.data);
      return s.ok && users.slice(2, 4).includes(s.value.userId);
    }));
    expect(w.bus.lost).toBe(2);
    expect(await w.ranked()).toBe(true);
    const logged = async (): Promise<number> => {
      const totals = await w.store.pageSettlementTotals(w.race.raceId, undefined, 1_000);
      const found = await w.store.notificationsLogged(totals.map((t) => ({ userId: t.userId, notificationId: settledNotificationId(t.settlementId) })));
      return found.filter(Boolean).length;
    };
    expect(await logged()).toBe(w.users.length - 2);

    expect(await w.reconciler.round()).toEqual([]); // first sight of the ranked race: its audit is due a stall period on
    w.advance(RECONCILE_DEFAULTS.stallMs - 1);
    expect(await w.reconciler.round()).toEqual([]);
    w.advance(1);
    expect(await w.reconciler.round()).toEqual([]); // first audit: 2 missing, nothing to compare with (notify may be behind)
    w.advance(RECONCILE_DEFAULTS.stallMs);
    const [r] = await w.reconciler.round(); // second audit: still 2 missing, so notify is stuck for them
    expect(r).toMatchObject({ raceId: w.race.raceId, kind: 'notify', users: 2, stalledMs: 2 * RECONCILE_DEFAULTS.stallMs }); // since first seen ranked
    await w.clock.runUntilIdle();

    expect(await logged()).toBe(w.users.length);
    expect(await w.applications()).toEqual(w.users.map(() => 1));
    expect(w.pipeline.counters).toMatchObject({ redriveRaces: 1, redriveUsers: 2, notificationsPublished: w.users.length, rankingsPublished: 1 });
    // Audited complete: the race is not audited again.
    w.advance(10 * RECONCILE_DEFAULTS.stallMs);
    expect(await w.reconciler.round()).toEqual([]);
    w.advance(RECONCILE_DEFAULTS.stallMs);
    expect(await w.reconciler.round()).toEqual([]);
  });

  it('does not re-drive notifications that are arriving, only slowly', async () => {
    let deaf = true;
    const w = await world(() => () => false, (bus, users) => deafSubscriber(bus, SUBSCRIPTIONS.notify.name, (m) => {
      const s = parseSettled(m.data);
      return deaf && s.ok && users.slice(0, 4).includes(s.value.userId);
    }));
    expect(w.bus.lost).toBe(4);
    await w.reconciler.round();
    w.advance(RECONCILE_DEFAULTS.stallMs);
    expect(await w.reconciler.round()).toEqual([]); // first audit: 4 missing
    // Two of them arrive late (a backlog draining), between the audits.
    deaf = false;
    const twoLate = await w.store.pageSettlementTotals(w.race.raceId, undefined, 2);
    await w.settleAgain(twoLate.map((t) => t.userId));
    w.advance(RECONCILE_DEFAULTS.stallMs);
    expect(await w.reconciler.round()).toEqual([]); // 2 missing, fewer than 4: not stuck yet
    w.advance(RECONCILE_DEFAULTS.stallMs);
    const [r] = await w.reconciler.round();
    expect(r).toMatchObject({ kind: 'notify', users: 2 });
  });
  it('counts users settling as progress while the fan-out and terminal counts stand still', async () => {
    // Every `settled` is lost (nobody turns terminal) and three users' settle requests too.
    const w = await world((users) => (topic, m) => topic === TOPICS.settled || settleRequestFor(users.slice(3, 6))(topic, m));
    expect(await w.store.countUsersWithOpenTickets(w.race.raceId)).toBe(3);
    expect(await w.reconciler.round()).toEqual([]);
    w.advance(RECONCILE_DEFAULTS.stallMs / 2);
    expect(await w.reconciler.round()).toEqual([]); // the open count's baseline: 3
    // One of them settles (a late delivery); its `settled` is lost as well, so terminal stays 0.
    await w.settleAgain([w.users[3] as string], { redrive: 'test' });
    expect(await w.store.countUsersWithOpenTickets(w.race.raceId)).toBe(2);
    expect(await w.store.terminalUserCount(w.race.raceId)).toBe(0);
    w.advance(RECONCILE_DEFAULTS.stallMs / 2);
    expect(await w.reconciler.round()).toEqual([]); // a stall period since first sight, but a user settled
    w.advance(RECONCILE_DEFAULTS.stallMs - 1);
    expect(await w.reconciler.round()).toEqual([]);
    w.advance(1);
    const [r] = await w.reconciler.round();
    expect(r).toMatchObject({ kind: 'users', users: w.users.length });
  });
});
