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
  /** The gateway instance this user connects to (default: the worker's URL). */
  readonly url?: string;
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
  /**
   * The run is ending: a flapping client stops flapping and any client but a stalled one that is
   * between connections reconnects now, so what it is owed can still arrive before the count.
   */
  quiesce(): void;
  stop(): void;
}

/** What a user does with each frame: count it, time it, and (slow cohort) pay for its bytes with a pause. */
function frameHandlers(state: UserState, ctx: UserContext, current: () => LeanConnection | undefined): Omit<LeanClientEvents, 'onClose'> {
  const notificationKey = histogramKey(state.plan.cohort, 'notification');
  const oddsKey = histogramKey(state.plan.cohort, 'odds');
  const throttle = state.plan.cohort === 'slow' ? createReadThrottle(ctx.behaviour.slowReadBytesPerSecond) : undefined;
  const pay = (bytes: number): void => {
    const c = current();
    if (throttle !== undefined && c !== undefined) throttle(bytes, c);
  };
  return {
    onNotification(n, at, bytes) {
      state.notifications++;
      state.bytes += bytes;
      if (state.stalledAtMs !== undefined) state.notificationsAfterStall++;
      // A duplicate is counted but not timed: a correct client drops it.
      if (state.tracker.accept(n.seq) !== 'duplicate') recordLatency(ctx.histograms, notificationKey, at - n.publishedAt);
      pay(bytes);
    },
    onOdds(o, at, bytes) {
      state.odds++;
      state.bytes += bytes;
      recordLatency(ctx.histograms, oddsKey, at - o.sentAt);
      pay(bytes);
    },
    onError(message) {
      state.errors++;
      state.lastError = message;
    },
  };
}

const newUserState = (plan: UserPlan): UserState => ({
  plan, tracker: createSequenceTracker(), connects: 0, connectFailures: 0, closesByCode: new Map(), errors: 0,
  lastError: undefined, notifications: 0, odds: 0, bytes: 0, stalledAtMs: undefined, notificationsAfterStall: 0,
});

export function startUser(plan: UserPlan, ctx: UserContext): RunningUser {
  const state = newUserState(plan);
  let conn: LeanConnection | undefined;
  let timers: NodeJS.Timeout[] = [];
  // Per connection: whether this client closed it itself. Per connection, not per user: a flapping
  // client's old connection may report its close after the new one has opened.
  let intent = { closedOnPurpose: false };
  let connecting = false;
  let quiescing = false;
  const frames = frameHandlers(state, ctx, () => conn);
  const eventsFor = (mine: { closedOnPurpose: boolean }): LeanClientEvents => ({
    ...frames,
    onClose(code) {
      if (mine === intent) conn = undefined;
      if (mine.closedOnPurpose || ctx.stopping()) return;
      state.closesByCode.set(code, (state.closesByCode.get(code) ?? 0) + 1);
      // A stalled client is gone for good; everyone else comes back after what it holds.
      if (plan.cohort !== 'stalled') later(ctx.behaviour.reconnectDelayMs, () => void connect());
    },
  });

  function later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      timers = timers.filter((x) => x !== t);
      fn();
    }, ms);
    timers.push(t);
  }

  async function connect(): Promise<void> {
    // One connection at a time: a reconnect timer and a quiesce may both ask.
    if (ctx.stopping() || connecting || conn !== undefined) return;
    const mine = { closedOnPurpose: false };
    intent = mine;
    connecting = true;
    try {
      conn = await connectLean(plan.url ?? ctx.url, plan.token, eventsFor(mine), { livenessMs: ctx.behaviour.livenessMs });
    } catch (e) {
      connecting = false;
      state.connectFailures++;
      state.lastError = (e as Error).message;
      if (!ctx.stopping() && plan.cohort !== 'stalled') later(ctx.behaviour.reconnectDelayMs * 5, () => void connect());
      return;
    }
    connecting = false;
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
        if (quiescing) return;
        mine.closedOnPurpose = true;
        c.close(1000, 'flap');
        later(ctx.behaviour.reconnectDelayMs, () => void connect());
      });
    }
  }

  return {
    state,
    ready: connect(),
    quiesce() {
      quiescing = true;
      if (plan.cohort !== 'stalled') void connect();
    },
    stop() {
      intent.closedOnPurpose = true;
      for (const t of timers) clearTimeout(t);
      timers = [];
      conn?.resume();
      conn?.close(1000, 'swarm stopped');
    },
  };
}

/**
 * A token bucket on received bytes: after a frame of `bytes`, the client may read again only
 * when the bucket has paid for it; until then the socket is paused. The bucket holds a quarter of
 * a second's worth (READ_BURST_S), so a slow reader is slow from its second frame on, not after
 * seconds of credit.
 */
const READ_BURST_S = 0.25;

function createReadThrottle(bytesPerSecond: number): (bytes: number, conn: LeanConnection) => void {
  const burstBytes = bytesPerSecond * READ_BURST_S;
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
