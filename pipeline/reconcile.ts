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
// Re-driving duplicates messages but never a settlement. Why it exists: a broker can keep a
// message leased to a consumer that died and hand it to nobody (docs/chaos.md, the stall); a
// pipeline that only waits for the bus would wait forever. Every re-drive is counted and reported.
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
}

export const RECONCILE_DEFAULTS: ReconcileOptions = {
  // Longer than a redelivery takes (an ack deadline of 10-60 s and the bus's backoff), so a
  // message that is merely slow is not re-driven; short against the minutes a race may take.
  stallMs: 60_000,
  intervalMs: 5_000,
};

export type RedriveKind = 'fanout' | 'users' | 'barrier';

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

interface Watched {
  progress: string;
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

export function createReconciler(deps: ReconcilerDeps, options: Partial<ReconcileOptions> = {}): Reconciler {
  const o = { ...RECONCILE_DEFAULTS, ...options };
  const { store, bus, clock, counters } = deps;
  const unranked = storeMethod(store, 'unrankedRaces');
  const terminalCount = storeMethod(store, 'terminalUserCount');
  const fanoutUsers = storeMethod(store, 'fanoutUsers');
  const countOpen = storeMethod(store, 'countUsersWithOpenTickets');
  const watched = new Map<string, Watched>();
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
    if (users === 0) {
      // Everyone is terminal and the ranking is still not out: one settled user's post-settle reaches the barrier again.
      const first = (await storeMethod(store, 'pageSettlementTotals')(raceId, undefined, 1))[0];
      if (first === undefined) return undefined; // every user dead-lettered and none settled: the intake ranks it
      await publishSettleRequests(raceId, resultVersion, publishedAtMs, [first.userId]);
      users = 1;
      counters.redriveRaces++;
      counters.redriveUsers += users;
      return { kind: 'barrier', users };
    }
    counters.redriveRaces++;
    counters.redriveUsers += users;
    return { kind: 'users', users };
  };

  const round = async (): Promise<readonly Redrive[]> => {
    const now = clock.nowMs();
    const races = await unranked();
    const current = new Set(races);
    for (const id of watched.keys()) if (!current.has(id)) watched.delete(id);
    const done: Redrive[] = [];
    for (const raceId of races) {
      const fanout = await fanoutUsers(raceId);
      if (fanout === 0) continue; // nobody to settle: such a race has no ranking to wait for
      const progress = `${fanout ?? '-'}/${await countOpen(raceId)}/${await terminalCount(raceId)}`;
      const w = watched.get(raceId);
      if (w === undefined || w.progress !== progress) {
        watched.set(raceId, { progress, sinceMs: now });
        continue;
      }
      const stalledMs = now - w.sinceMs;
      if (stalledMs < o.stallMs) continue;
      const r = await redrive(raceId, fanout);
      w.sinceMs = now; // give the re-drive a full stall period before judging again
      if (r === undefined) continue;
      const entry: Redrive = { raceId, kind: r.kind, users: r.users, atMs: now, stalledMs };
      done.push(entry);
      redrives.push(entry);
      if (redrives.length > REDRIVES_KEPT) redrives.shift();
      deps.log?.(`reconciler: race ${raceId} made no progress for ${Math.round(entry.stalledMs / 1000)} s (${progress} fan-out/open/terminal): re-drove ${r.kind === 'fanout' ? 'its fan-out' : `${r.users} user(s)`}`);
    }
    return done;
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
