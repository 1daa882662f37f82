// The reconciler: re-drives a race whose progress stopped. The store, not the bus, is the record of
// what is done, so a race is watched from its recorded result until its ranking is recorded
// published, and when its progress (fan-out count, users open, users terminal) stays the same for
// `stallMs`, what is missing is published again:
// - no fan-out count yet: the race-results message (the fan-out is idempotent: it counts once and
//   pages only the users still open);
// - users neither post-settled nor dead-lettered: a settle request for each. Settle settles an open
//   user once (the marker) and publishes `settled` again for a settled one, so post-settle, notify
//   and the ranking barrier see that user again; every stage downstream is idempotent;
// - every user terminal but no ranking published: one settled user's request, whose post-settle
//   reaches the barrier again and claims (or takes over) the ranking.
// Once a race's ranking is out, its notifications are audited: every settled user's `settled`
// notification must be in that user's log. Notify runs beside post-settle, not before the barrier,
// so a `settled` message lost on notify's subscription alone leaves a ranked race with a user never
// told. The audit reads the race's settlement totals page by page and the log by notification id;
// when the count of users missing one has not fallen for `stallMs`, a settle request is published
// again for each of them (settle republishes `settled`; notify appends by id, so once).
// Re-driving duplicates messages but never a settlement. Why it exists: a broker can keep a
// message leased to a consumer that died and hand it to nobody (docs/chaos.md, the stall); a
// pipeline that only waits for the bus would wait forever. Every re-drive is counted and reported.
import { settledNotificationId } from '../core/notification.ts';
import type { BusMessage, Clock, MessageBus, Store } from '../core/ports.ts';
import { TOPICS } from '../core/topology.ts';
import { storeMethod, type PipelineCounters } from './context.ts';
import { LIMITS, type FanoutVariant } from './settings.ts';
import { allUserPages } from './user-pages.ts';
import { encodeRaceResultsMessage, encodeSettleRequest } from './wire.ts';

export interface ReconcileOptions {
  /** A race whose progress has not moved for this long is re-driven. */
  readonly stallMs: number;
  /** How often the unranked races are read. */
  readonly intervalMs: number;
  /** Races ranked this long ago at most are audited (a restarted reconciler audits the recent ones again). */
  readonly auditWindowMs: number;
  /**
   * Races whose result was published this long ago at most are watched: a round reads that window,
   * not every race ever run. A race still unranked after a day of re-drives needs a person.
   */
  readonly watchWindowMs: number;
}

export const RECONCILE_DEFAULTS: ReconcileOptions = {
  // Longer than a redelivery takes (an ack deadline of 10-60 s and the bus's backoff), so a
  // message that is merely slow is not re-driven; short against the minutes a race may take.
  stallMs: 60_000,
  intervalMs: 5_000,
  auditWindowMs: 3_600_000,
  watchWindowMs: 86_400_000,
};

export type RedriveKind = 'fanout' | 'users' | 'barrier' | 'notify';

export interface Redrive {
  readonly raceId: string;
  readonly kind: RedriveKind;
  /** Users named in the re-published settle requests (0 for a fan-out re-drive). */
  readonly users: number;
  readonly atMs: number;
  /** How long the race had made no progress. */
  readonly stalledMs: number;
}

export interface ReconcilerDeps {
  readonly store: Store;
  readonly bus: MessageBus;
  readonly clock: Clock;
  readonly counters: PipelineCounters;
  readonly fanout: FanoutVariant;
  readonly log?: (line: string) => void;
}

export interface Reconciler {
  /** One round: reads every unranked race and re-drives the stalled ones; returns what it re-drove. */
  round(): Promise<readonly Redrive[]>;
  /** Runs rounds every intervalMs until stop(); a failed round is logged and the next one runs. */
  start(): void;
  stop(): Promise<void>;
  /** Every re-drive so far, oldest first (the last REDRIVES_KEPT). */
  readonly redrives: readonly Redrive[];
}

const REDRIVES_KEPT = 200;
/** Audits of one ranked race at most: a race whose notifications stay missing after this many is given up (and logged). */
const AUDITS_MAX = 6;

interface Audit {
  /** When the race was first seen ranked. */
  readonly seenMs: number;
  /** When the audit is next due. */
  dueMs: number;
  /** Users missing their notification at the last audit (undefined before the first). */
  missing: number | undefined;
  passes: number;
}

interface Watched {
  /** The fan-out count and the terminal count, as `fanout/terminal`. */
  cheap: string;
  /** Users open, counted once the cheap counts stood still (undefined until then). */
  open: number | undefined;
  sinceMs: number;
}

/** Users of the race not yet terminal, ascending: every user (open or settled) minus the terminal ones, page by page. */
async function* unfinishedUsers(store: Store, raceId: string): AsyncGenerator<readonly string[]> {
  const pageTerminal = storeMethod(store, 'pageTerminalUsers');
  let after: string | undefined;
  for await (const users of allUserPages(store, raceId)) {
    // The terminal users of this page's range are among its users, so users.length of them reach past it.
    const terminal = new Set(await pageTerminal(raceId, after, users.length));
    const left = users.filter((u) => !terminal.has(u));
    if (left.length > 0) yield left;
    after = users[users.length - 1];
  }
}

/** Settled users of the race whose `settled` notification is not in their log, page by page. */
async function* unnotifiedUsers(store: Store, raceId: string): AsyncGenerator<readonly string[]> {
  const page = storeMethod(store, 'pageSettlementTotals');
  const logged = storeMethod(store, 'notificationsLogged');
  let after: string | undefined;
  for (;;) {
    const rows = await page(raceId, after, LIMITS.fanoutPageUsers);
    if (rows.length === 0) return;
    const found = await logged(rows.map((t) => ({ userId: t.userId, notificationId: settledNotificationId(t.settlementId) })));
    const missing = rows.filter((_, i) => found[i] !== true).map((t) => t.userId);
    if (missing.length > 0) yield missing;
    if (rows.length < LIMITS.fanoutPageUsers) return;
    after = rows[rows.length - 1]?.userId;
  }
}

export function createReconciler(deps: ReconcilerDeps, options: Partial<ReconcileOptions> = {}): Reconciler {
  const o = { ...RECONCILE_DEFAULTS, ...options };
  const { store, bus, clock, counters } = deps;
  const unranked = storeMethod(store, 'unrankedRaces');
  const terminalCount = storeMethod(store, 'terminalUserCount');
  const fanoutUsers = storeMethod(store, 'fanoutUsers');
  const countOpen = storeMethod(store, 'countUsersWithOpenTickets');
  const watched = new Map<string, Watched>();
  const audits = new Map<string, Audit>();
  /** Races of the audit window whose audit is over (nothing missing, or given up). */
  const audited = new Set<string>();
  const rankedSince = store.notificationsLogged === undefined ? undefined : store.racesRankedSince?.bind(store);
  const redrives: Redrive[] = [];
  const perMessage = deps.fanout.kind === 'user-batch' ? deps.fanout.usersPerMessage : 1;

  const publishSettleRequests = async (raceId: string, resultVersion: number, publishedAtMs: number, users: readonly string[]): Promise<void> => {
    const messages: BusMessage[] = [];
    for (let i = 0; i < users.length; i += perMessage) messages.push({ data: encodeSettleRequest({ raceId, resultVersion, publishedAtMs, userIds: users.slice(i, i + perMessage) }), attributes: { redrive: 'reconciler' } });
    for (let i = 0; i < messages.length; i += LIMITS.publishBatchMessages) await bus.publish(TOPICS.settleRequests, messages.slice(i, i + LIMITS.publishBatchMessages));
  };

  /** Publishes what the stalled race is missing; undefined when the race needs nothing (no users). */
  const redrive = async (raceId: string, fanout: number | undefined): Promise<{ kind: RedriveKind; users: number } | undefined> => {
    const outcome = await store.getOutcome(raceId);
    if (outcome === undefined) return undefined;
    const { resultVersion, publishedAtMs } = outcome;
    if (fanout === undefined) {
      await bus.publish(TOPICS.raceResults, [{ data: encodeRaceResultsMessage({ raceId, resultVersion, publishedAtMs }), attributes: { redrive: 'reconciler' } }]);
      counters.redriveFanouts++;
      return { kind: 'fanout', users: 0 };
    }
    let users = 0;
    for await (const page of unfinishedUsers(store, raceId)) {
      await publishSettleRequests(raceId, resultVersion, publishedAtMs, page);
      users += page.length;
    }
    let kind: RedriveKind = 'users';
    if (users === 0) {
      // Everyone is terminal and the ranking is still not out: one settled user's post-settle reaches the barrier again.
      const first = (await storeMethod(store, 'pageSettlementTotals')(raceId, undefined, 1))[0];
      if (first === undefined) return undefined; // every user dead-lettered and none settled: the intake ranks it
      await publishSettleRequests(raceId, resultVersion, publishedAtMs, [first.userId]);
      users = 1;
      kind = 'barrier';
    }
    counters.redriveRaces++;
    counters.redriveUsers += users;
    return { kind, users };
  };

  const round = async (): Promise<readonly Redrive[]> => {
    const now = clock.nowMs();
    const races = await unranked(now - o.watchWindowMs);
    const current = new Set(races);
    for (const id of watched.keys()) if (!current.has(id)) watched.delete(id);
    if (rankedSince !== undefined) {
      // Every race ranked within the window is audited once, first a stall period after it is seen.
      const ranked = await rankedSince(now - o.auditWindowMs);
      const inWindow = new Set(ranked);
      for (const id of audited) if (!inWindow.has(id)) audited.delete(id);
      for (const id of ranked) if (!audits.has(id) && !audited.has(id)) audits.set(id, { seenMs: now, dueMs: now + o.stallMs, missing: undefined, passes: 0 });
    }
    const done: Redrive[] = [];
    const record = (entry: Redrive, line: string): void => {
      done.push(entry);
      redrives.push(entry);
      if (redrives.length > REDRIVES_KEPT) redrives.shift();
      deps.log?.(line);
    };
    for (const raceId of races) {
      const fanout = await fanoutUsers(raceId);
      if (fanout === 0) continue; // nobody to settle: such a race has no ranking to wait for
      // The open count is a scan of the race's open tickets: read only when the cheap counts stood still.
      const terminal = await terminalCount(raceId);
      const cheap = `${fanout ?? '-'}/${terminal}`;
      const w = watched.get(raceId);
      if (w === undefined || w.cheap !== cheap) {
        watched.set(raceId, { cheap, open: undefined, sinceMs: now });
        continue;
      }
      const open = await countOpen(raceId);
      // The first count since the cheap ones moved is the baseline (users who settled in the round
      // right after that move are not seen as progress: a re-drive at most one round early, which
      // duplicates messages, never a settlement); a later change is progress.
      if (w.open === undefined) w.open = open;
      else if (w.open !== open) {
        w.open = open;
        w.sinceMs = now;
        continue;
      }
      const progress = `${fanout ?? '-'}/${open}/${terminal}`;
      const stalledMs = now - w.sinceMs;
      if (stalledMs < o.stallMs) continue;
      const r = await redrive(raceId, fanout);
      w.sinceMs = now; // give the re-drive a full stall period before judging again
      if (r === undefined) continue;
      const entry: Redrive = { raceId, kind: r.kind, users: r.users, atMs: now, stalledMs };
      record(entry, `reconciler: race ${raceId} made no progress for ${Math.round(entry.stalledMs / 1000)} s (${progress} fan-out/open/terminal): re-drove ${r.kind === 'fanout' ? 'its fan-out' : `${r.users} user(s)`}`);
    }
    for (const [raceId, a] of audits) {
      if (now < a.dueMs) continue;
      const entry = await audit(raceId, a, now);
      if (entry !== undefined) record(entry, `reconciler: ranked race ${raceId}: ${entry.users} settled user(s) still without their notification after ${Math.round(entry.stalledMs / 1000)} s: re-drove them`);
    }
    return done;
  };

  /** One audit of a ranked race's notifications; a re-drive when the missing count did not fall since the last audit. */
  const audit = async (raceId: string, a: Audit, now: number): Promise<Redrive | undefined> => {
    const missing: string[] = [];
    for await (const page of unnotifiedUsers(store, raceId)) missing.push(...page);
    const previous = a.missing;
    a.missing = missing.length;
    a.passes++;
    a.dueMs = now + o.stallMs;
    if (missing.length === 0) {
      audits.delete(raceId);
      audited.add(raceId);
      return undefined;
    }
    if (a.passes >= AUDITS_MAX) {
      audits.delete(raceId);
      audited.add(raceId);
      deps.log?.(`reconciler: ranked race ${raceId}: ${missing.length} settled user(s) still without their notification after ${a.passes} audits; giving up on it`);
    }
    // Fewer missing than last time: notify is behind, not stuck; judge again a stall period later.
    if (previous === undefined || missing.length < previous) return undefined;
    const outcome = await store.getOutcome(raceId);
    if (outcome === undefined) return undefined;
    await publishSettleRequests(raceId, outcome.resultVersion, outcome.publishedAtMs, missing);
    counters.redriveRaces++;
    counters.redriveUsers += missing.length;
    // Stalled since it was first seen ranked: at least two audits, a stall period apart.
    return { raceId, kind: 'notify', users: missing.length, atMs: now, stalledMs: now - a.seenMs };
  };

  let stopped = false;
  let running: Promise<unknown> | undefined;
  let loop: Promise<void> | undefined;
  return {
    round,
    redrives,
    start() {
      if (loop !== undefined) return;
      loop = (async () => {
        while (!stopped) {
          running = round().catch((e: unknown) => {
            deps.log?.(`reconciler: round failed (${e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e)}); next round in ${o.intervalMs} ms`);
          });
          await running;
          running = undefined;
          if (!stopped) await clock.sleep(o.intervalMs);
        }
      })();
    },
    async stop() {
      stopped = true;
      // The round under way finishes (its reads and publishes need the store and bus still open);
      // a loop asleep ends at its next wake-up without starting another.
      await running;
    },
  };
}
