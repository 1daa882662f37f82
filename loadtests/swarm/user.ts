// One simulated user of the swarm: a connection that subscribes to the user's notifications (and
// to a race's odds when it watches one), behaves as its cohort says, reconnects after an eviction
// with the last sequence it holds without a gap, and records what arrived.
import { connectLean, nowEpochMs, type LeanConnection, type LeanClientEvents } from './client.ts';
import type { Cohort, CohortBehaviour } from './cohorts.ts';
import { histogramKey, recordLatency, type HistogramSet } from './histograms.ts';
import { createSequenceTracker, type SequenceTracker } from './sequence.ts';

export interface UserPlan {
  readonly userId: string;
  readonly token: string;
  readonly cohort: Cohort;
  /** The race whose odds this user watches (none: notifications only). */
  readonly watchRaceId?: string;
}

/** What one user saw, kept for the worker's report. */
export interface UserState {
  readonly plan: UserPlan;
  readonly tracker: SequenceTracker;
  connects: number;
  connectFailures: number;
  /** Closes the user did not ask for, by close code (e.g. 4008: evicted as a slow consumer). */
  readonly closesByCode: Map<number, number>;
  errors: number;
  lastError: string | undefined;
  notifications: number;
  odds: number;
  bytes: number;
  /** When the stalled client stopped reading (epoch ms), and notifications it still took in after. */
  stalledAtMs: number | undefined;
  notificationsAfterStall: number;
}

export interface UserContext {
  readonly url: string;
  readonly behaviour: CohortBehaviour;
  readonly histograms: HistogramSet;
  /** True once the swarm is stopping: no reconnects. */
  stopping(): boolean;
}

export interface RunningUser {
  readonly state: UserState;
  /** Resolves once the first connection is acknowledged and subscribed (or failed). */
  readonly ready: Promise<void>;
  stop(): void;
}

export function startUser(plan: UserPlan, ctx: UserContext): RunningUser {
  const state: UserState = {
    plan, tracker: createSequenceTracker(), connects: 0, connectFailures: 0, closesByCode: new Map(), errors: 0,
    lastError: undefined, notifications: 0, odds: 0, bytes: 0, stalledAtMs: undefined, notificationsAfterStall: 0,
  };
  let conn: LeanConnection | undefined;
  let timers: NodeJS.Timeout[] = [];
  let closingOnPurpose = false;
  const notificationKey = histogramKey(plan.cohort, 'notification');
  const oddsKey = histogramKey(plan.cohort, 'odds');
  const throttle = plan.cohort === 'slow' ? createReadThrottle(ctx.behaviour.slowReadBytesPerSecond) : undefined;

  const events: LeanClientEvents = {
    onNotification(n, at, bytes) {
      state.notifications++;
      state.bytes += bytes;
      if (state.stalledAtMs !== undefined) state.notificationsAfterStall++;
      // A duplicate is counted but not timed: a correct client drops it.
      if (state.tracker.accept(n.seq) !== 'duplicate') recordLatency(ctx.histograms, notificationKey, at - n.publishedAt);
      if (throttle !== undefined && conn !== undefined) throttle(bytes, conn);
    },
    onOdds(o, at, bytes) {
      state.odds++;
      state.bytes += bytes;
      recordLatency(ctx.histograms, oddsKey, at - o.sentAt);
      if (throttle !== undefined && conn !== undefined) throttle(bytes, conn);
    },
    onError(message) {
      state.errors++;
      state.lastError = message;
    },
    onClose(code) {
      conn = undefined;
      if (closingOnPurpose || ctx.stopping()) return;
      state.closesByCode.set(code, (state.closesByCode.get(code) ?? 0) + 1);
      // A stalled client is gone for good; everyone else comes back after what it holds.
      if (plan.cohort !== 'stalled') later(ctx.behaviour.reconnectDelayMs, () => void connect());
    },
  };

  function later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      timers = timers.filter((x) => x !== t);
      fn();
    }, ms);
    timers.push(t);
  }

  async function connect(): Promise<void> {
    if (ctx.stopping()) return;
    closingOnPurpose = false;
    try {
      conn = await connectLean(ctx.url, plan.token, events);
    } catch (e) {
      state.connectFailures++;
      state.lastError = (e as Error).message;
      if (!ctx.stopping() && plan.cohort !== 'stalled') later(ctx.behaviour.reconnectDelayMs * 5, () => void connect());
      return;
    }
    state.connects++;
    conn.subscribeNotifications(state.tracker.counts().contiguous);
    if (plan.watchRaceId !== undefined) conn.subscribeOdds(plan.watchRaceId);
    if (plan.cohort === 'stalled') {
      conn.pause();
      state.stalledAtMs = nowEpochMs();
    } else if (plan.cohort === 'flapping') {
      const c = conn;
      // Jitter so a thousand flapping clients do not reconnect in one burst.
      later(ctx.behaviour.flapEveryMs * (0.5 + Math.random()), () => {
        closingOnPurpose = true;
        c.close(1000, 'flap');
        later(ctx.behaviour.reconnectDelayMs, () => void connect());
      });
    }
  }

  return {
    state,
    ready: connect(),
    stop() {
      closingOnPurpose = true;
      for (const t of timers) clearTimeout(t);
      timers = [];
      conn?.resume();
      conn?.close(1000, 'swarm stopped');
    },
  };
}

/**
 * A token bucket on received bytes: after a frame of `bytes`, the client may read again only
 * when the bucket has paid for it; until then the socket is paused. Small bursts (one 4 KB frame)
 * pass without a pause.
 */
function createReadThrottle(bytesPerSecond: number): (bytes: number, conn: LeanConnection) => void {
  const burstBytes = 4 * 1024;
  let freeAtMs = 0;
  let resumeTimer: NodeJS.Timeout | undefined;
  return (bytes, conn) => {
    const now = performance.now();
    freeAtMs = Math.max(freeAtMs, now - (burstBytes / bytesPerSecond) * 1000) + (bytes / bytesPerSecond) * 1000;
    if (freeAtMs <= now || resumeTimer !== undefined) return;
    conn.pause();
    resumeTimer = setTimeout(() => {
      resumeTimer = undefined;
      conn.resume();
    }, freeAtMs - now);
  };
}
