// The transactional-outbox relay: publishes rows that settlement transactions wrote, then deletes
// them. Publish-then-delete means a crash in between publishes a row twice (downstream dedupes)
// and never loses one. The relay polls while there is work and sleeps when the outbox stays
// empty; a settlement kicks it awake, so a simulation can still reach idle.
import type { Clock, MessageBus, Store } from '../core/ports.ts';
import { storeMethod, type PipelineCounters } from './context.ts';
import { isInjectedCrash, type Probe } from './probe.ts';
import { LIMITS } from './settings.ts';

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

  const loop = async (): Promise<void> => {
    let emptyPolls = 0;
    while (!stopped && emptyPolls < LIMITS.outboxIdlePolls) {
      kicked = false;
      let relayed = 0;
      try {
        relayed = await pollOnce();
      } catch (e) {
        // A crashed relay process is restarted by its supervisor after one poll interval.
        if (!isInjectedCrash(e)) throw e;
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
    running = loop().finally(() => {
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
