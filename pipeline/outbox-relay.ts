// The transactional-outbox relay: publishes rows that settlement transactions wrote, then deletes
// them. Publish-then-delete means a crash in between publishes a row twice (downstream dedupes)
// and never loses one. The relay polls while there is work and sleeps when the outbox stays
// empty; a settlement kicks it awake, so a simulation can still reach idle.
//
// A failed poll (the outbox read, a publish, the delete) leaves the rows in the outbox, so it is
// retried after a wait that doubles with each failure in a row, up to RELAY_LIMITS.retryBackoffMsMax,
// for as long as the relay runs: rows are never dropped and never left waiting for a kick that may
// not come (the last settlement's kick may be the one whose poll failed). Failures are counted
// (counters.outboxRelayErrors) and passed to `onError`; nothing is rethrown into the relay's own
// promise, which nobody awaits but idle().
import type { Clock, MessageBus, Store } from '../core/ports.ts';
import { storeMethod, type PipelineCounters } from './context.ts';
import { isInjectedCrash, type Probe } from './probe.ts';
import { LIMITS } from './settings.ts';

export const RELAY_LIMITS = {
  /** Wait after the first failed poll; each further failure in a row doubles it. */
  retryBackoffMsMin: 50,
  /** Longest wait between retries (reached after 7 failures in a row). */
  retryBackoffMsMax: 5_000,
} as const;

/** The wait before retrying after `failuresInRow` failed polls (1, 2, ...). */
export function relayBackoffMs(failuresInRow: number): number {
  const { retryBackoffMsMin: min, retryBackoffMsMax: max } = RELAY_LIMITS;
  return Math.min(max, min * 2 ** Math.min(failuresInRow - 1, 30));
}

export interface OutboxRelay {
  /** Wakes the relay (a no-op when it is already polling). */
  kick(): void;
  /** Resolves when the relay is idle. */
  idle(): Promise<void>;
  stop(): void;
}

export interface OutboxRelayDeps {
  readonly store: Store;
  readonly bus: MessageBus;
  readonly clock: Clock;
  readonly probe: Probe;
  readonly counters: PipelineCounters;
  /** Told of each failed poll (it is retried); default: nothing beyond the counter. */
  readonly onError?: (error: unknown) => void;
}

export function createOutboxRelay(deps: OutboxRelayDeps): OutboxRelay {
  const { bus, clock, probe, counters } = deps;
  const readOutbox = storeMethod(deps.store, 'readOutbox');
  const deleteOutbox = storeMethod(deps.store, 'deleteOutbox');
  let running: Promise<void> | undefined;
  let kicked = false;
  let stopped = false;

  const pollOnce = async (): Promise<number> => {
    const rows = await readOutbox(LIMITS.outboxRelayBatch);
    if (rows.length === 0) return 0;
    const byTopic = new Map<string, { data: string; attributes?: Readonly<Record<string, string>> }[]>();
    for (const r of rows) {
      let list = byTopic.get(r.topic);
      if (list === undefined) byTopic.set(r.topic, (list = []));
      list.push(r.attributes === undefined ? { data: r.data } : { data: r.data, attributes: r.attributes });
    }
    for (const [topic, messages] of byTopic) await bus.publish(topic, messages);
    probe('relay.afterPublish', rows[0]?.outboxId ?? '');
    await deleteOutbox(rows.map((r) => r.outboxId));
    return rows.length;
  };

  const failed = (e: unknown): void => {
    counters.outboxRelayErrors++;
    try {
      deps.onError?.(e);
    } catch {
      // a failing reporter must not stop the relay
    }
  };

  const loop = async (): Promise<void> => {
    let emptyPolls = 0;
    let failuresInRow = 0;
    while (!stopped && emptyPolls < LIMITS.outboxIdlePolls) {
      kicked = false;
      let relayed = 0;
      try {
        relayed = await pollOnce();
        failuresInRow = 0;
      } catch (e) {
        if (!isInjectedCrash(e)) {
          // Not an empty poll: the rows are still there. Retry after the backoff (see the header).
          failed(e);
          failuresInRow++;
          await clock.sleep(relayBackoffMs(failuresInRow));
          continue;
        }
        // A crashed relay process is restarted by its supervisor after one poll interval.
        counters.injectedCrashes++;
        relayed = 1;
      }
      emptyPolls = relayed > 0 || kicked ? 0 : emptyPolls + 1;
      if (relayed < LIMITS.outboxRelayBatch) await clock.sleep(LIMITS.outboxPollIntervalMs);
    }
  };

  const kick = (): void => {
    kicked = true;
    if (running !== undefined || stopped) return;
    // loop() handles its own failures; this catch only keeps a fault outside them (the clock's)
    // out of an unawaited promise, where it would be an unhandled rejection.
    running = loop().catch(failed).finally(() => {
      running = undefined;
      // A kick that arrived while the last empty polls ran must not be lost.
      if (kicked && !stopped) kick();
    });
  };

  return {
    kick,
    async idle() {
      while (running !== undefined) await running;
    },
    stop() {
      stopped = true;
    },
  };
}
