// The messages between the swarm's driver and its workers (threads or child processes). Plain
// JSON-able data, so the same worker code runs behind a MessagePort or a child process's IPC.
import type { Cohort, CohortBehaviour } from './cohorts.ts';
import type { EncodedHistograms } from './histograms.ts';
import type { DeliveryTotals } from './sequence.ts';
import type { UserPlan } from './user.ts';

export interface StartMessage {
  readonly type: 'start';
  readonly url: string;
  readonly plans: readonly UserPlan[];
  readonly behaviour: CohortBehaviour;
  /** Connection handshakes in flight at once per worker. */
  readonly connectConcurrency: number;
}

export interface StopMessage {
  readonly type: 'stop';
  /** Notifications each user should have received, by user id; `default` for users not named. */
  readonly expected: Readonly<Record<string, number>>;
  readonly expectedDefault: number;
}

/**
 * The run is ending: flapping stops and disconnected clients reconnect (RunningUser.quiesce); the
 * worker answers `settled` once every client but the stalled ones holds what it is owed, or after
 * `settleMs`, whichever comes first.
 */
export interface QuiesceMessage {
  readonly type: 'quiesce';
  readonly expected: Readonly<Record<string, number>>;
  readonly expectedDefault: number;
  readonly settleMs: number;
}

export type DriverMessage = StartMessage | QuiesceMessage | StopMessage;

export interface ReadyMessage {
  readonly type: 'ready';
  readonly connected: number;
  readonly failed: number;
  readonly firstError?: string;
}

/** Event-loop delay of one worker over the run, from perf_hooks.monitorEventLoopDelay (ms). */
export interface LoopDelay {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface CohortTotals {
  readonly users: number;
  readonly connects: number;
  readonly connectFailures: number;
  /** Closes the clients did not ask for, by close code. */
  readonly closesByCode: Readonly<Record<string, number>>;
  readonly errors: number;
  readonly notificationFrames: number;
  readonly oddsFrames: number;
  /** Payload bytes of every frame received. */
  readonly bytes: number;
  readonly delivery: DeliveryTotals;
  /** Stalled clients only: notification frames handled after the client stopped reading (kernel-buffered leftovers). */
  readonly notificationsAfterStall: number;
}

export interface WorkerReport {
  readonly histograms: EncodedHistograms;
  readonly cohorts: Partial<Record<Cohort, CohortTotals>>;
  readonly loopDelayMs: LoopDelay;
  readonly lastError?: string;
}

export interface SettledMessage {
  readonly type: 'settled';
  /** Clients (not stalled) still missing notifications when the worker stopped waiting. */
  readonly behind: number;
}

export type WorkerMessage = ReadyMessage | SettledMessage | { readonly type: 'report'; readonly report: WorkerReport };
