// Wires the handlers to bus subscriptions: worker counts (one subscriber each), flow control
// (maxInFlight per worker) and ack deadlines, with the variants selected by name. A handler that
// hits an injected crash is treated like a dead process: its delivery is neither acked nor nacked
// and comes back after the ack deadline. Any other exception is a bug: it is counted, kept for
// the report, and the delivery is nacked (the bus redelivers it, then dead-letters it).
// The dead-letter intake is a stage like the others, with one subscription per dead-letter topic
// it reads (dead-letter-intake.ts).
import type { Clock, Delivery, DeliveryHandler, MessageBus, Store, SubscriptionHandle } from '../core/ports.ts';
import { DEAD_LETTER_INTAKE, SUBSCRIPTIONS, TOPICS, type SubscriptionSpec } from '../core/topology.ts';
import { createCounters, type HandlerDeps, type PipelineCounters } from './context.ts';
import { createDeadLetterIntakeHandler } from './dead-letter-intake.ts';
import { createFanoutHandler } from './fanout.ts';
import { createIngest, type IngestOutcome, type OfficialResult } from './ingest.ts';
import { createOutboxRelay, type OutboxRelay } from './outbox-relay.ts';
import { createNotifyHandler } from './notify.ts';
import { createPostSettleHandler } from './post-settle.ts';
import { isInjectedCrash, noProbe, type Probe } from './probe.ts';
import { RankingPending } from './ranking.ts';
import { createRaceCache } from './race-cache.ts';
import type { Result } from '../core/result.ts';
import { createSettleHandler, createUserSettler } from './settle.ts';
import { DEFAULT_VARIANTS, type PipelineVariants } from './settings.ts';

export type Stage = 'fanout' | 'settle' | 'postSettle' | 'notify' | 'deadLetters';
export const STAGES: readonly Stage[] = ['fanout', 'settle', 'postSettle', 'notify', 'deadLetters'];

export interface StageOptions {
  readonly workers: number;
  readonly maxInFlight: number;
  readonly ackDeadlineMs: number;
}

export interface PipelineOptions {
  readonly store: Store;
  readonly bus: MessageBus;
  readonly clock: Clock;
  readonly variants?: PipelineVariants;
  readonly probe?: Probe;
  readonly stages?: Partial<Record<Stage, Partial<StageOptions>>>;
  /**
   * The stages whose subscribers this process starts (default every stage): a worker process of
   * one role (`raceday worker`) runs one stage, an ingest process none.
   */
  readonly only?: readonly Stage[];
}

/** Errors kept for the report; the count is unbounded, the kept texts are not. */
const KEPT_ERRORS_MAX = 20;

export interface RunningPipeline {
  readonly counters: PipelineCounters;
  /** Handler exceptions other than injected crashes (bugs), first few. */
  readonly errors: readonly string[];
  readonly ingest: (input: OfficialResult) => Promise<Result<IngestOutcome>>;
  readonly relay: OutboxRelay | undefined;
  /** Closes a stage's subscribers and starts new ones (a rolling restart; in-flight work is lost). */
  restart(stage: Stage): Promise<void>;
  stop(): Promise<void>;
}

/** The subscriptions a stage's workers read; every stage but the dead-letter intake has one. */
const SUBSCRIPTIONS_OF: Readonly<Record<Stage, readonly SubscriptionSpec[]>> = {
  fanout: [SUBSCRIPTIONS.fanOut],
  settle: [SUBSCRIPTIONS.settle],
  postSettle: [SUBSCRIPTIONS.postSettle],
  notify: [SUBSCRIPTIONS.notify],
  deadLetters: [DEAD_LETTER_INTAKE.settleRequests, DEAD_LETTER_INTAKE.settled],
};

/**
 * Pub/Sub's longest ack deadline. A fan-out over a million users runs for minutes; the Pub/Sub bus
 * renews its lease meanwhile (up to its maximum lease), but the memory bus does not renew leases,
 * so the fan-out stage holds its lease this long instead of being redelivered mid-walk.
 */
const FANOUT_ACK_DEADLINE_MS = 600_000;

function defaultsOf(stage: Stage): StageOptions {
  if (stage === 'fanout') return { workers: 1, maxInFlight: 1, ackDeadlineMs: FANOUT_ACK_DEADLINE_MS };
  const ackDeadlineMs = (SUBSCRIPTIONS_OF[stage][0] as SubscriptionSpec).ackDeadlineSeconds * 1000;
  // Dead letters are few: one worker per dead-letter topic is plenty.
  if (stage === 'deadLetters') return { workers: 1, maxInFlight: 16, ackDeadlineMs };
  return { workers: 4, maxInFlight: 16, ackDeadlineMs };
}

export function startPipeline(options: PipelineOptions): RunningPipeline {
  const counters = createCounters();
  const errors: string[] = [];
  const variants = options.variants ?? DEFAULT_VARIANTS;
  const probe = options.probe ?? noProbe;
  const deps: HandlerDeps = { store: options.store, bus: options.bus, clock: options.clock, variants, probe, races: createRaceCache(options.store), counters };
  const relay = variants.notify === 'outbox' ? createOutboxRelay({ store: options.store, bus: options.bus, clock: options.clock, probe, counters }) : undefined;
  const settler = createUserSettler(deps, relay);
  const handlers: Record<Stage, readonly DeliveryHandler[]> = {
    fanout: [createFanoutHandler(deps, settler)],
    settle: [createSettleHandler(deps, settler)],
    postSettle: [createPostSettleHandler(deps)],
    notify: [createNotifyHandler(deps)],
    deadLetters: [createDeadLetterIntakeHandler(deps, TOPICS.settleRequests), createDeadLetterIntakeHandler(deps, TOPICS.settled)],
  };
  // A worker killed by a restart may still be inside a handler; its acks and nacks no longer reach
  // the bus (the process is gone), so its deliveries come back after their deadline.
  const guard =
    (handler: DeliveryHandler, worker: { alive: boolean }): DeliveryHandler =>
    async (d) => {
      const own: Delivery = {
        messageId: d.messageId,
        data: d.data,
        attributes: d.attributes,
        deliveryAttempt: d.deliveryAttempt,
        publishTimeMs: d.publishTimeMs,
        ack: () => {
          if (worker.alive) d.ack();
        },
        nack: () => {
          if (worker.alive) d.nack();
        },
      };
      try {
        await handler(own);
      } catch (e) {
        if (isInjectedCrash(e)) {
          counters.injectedCrashes++;
          return; // the process "died": no ack, no nack
        }
        if (e instanceof RankingPending) {
          counters.rankingPending++;
          throw e; // not an error: the message comes back (pipeline/ranking.ts)
        }
        counters.handlerErrors++;
        if (errors.length < KEPT_ERRORS_MAX) errors.push(e instanceof Error ? (e.stack ?? e.message) : String(e));
        throw e;
      }
    };
  const handles: Record<Stage, { handle: SubscriptionHandle; worker: { alive: boolean } }[]> = { fanout: [], settle: [], postSettle: [], notify: [], deadLetters: [] };
  const startStage = (stage: Stage): void => {
    const o = { ...defaultsOf(stage), ...options.stages?.[stage] };
    // single-worker settles inside the fan-out; one settle worker still drains stray requests.
    const workers = stage === 'settle' && variants.fanout.kind === 'single-worker' ? 1 : o.workers;
    SUBSCRIPTIONS_OF[stage].forEach((spec, s) => {
      const handler = handlers[stage][s] as DeliveryHandler;
      for (let i = 0; i < workers; i++) {
        const worker = { alive: true };
        const handle = options.bus.subscribe(spec.name, guard(handler, worker), { maxInFlight: o.maxInFlight, ackDeadlineMs: o.ackDeadlineMs });
        handles[stage].push({ handle, worker });
      }
    });
  };
  for (const stage of options.only ?? STAGES) startStage(stage);
  return {
    counters,
    errors,
    ingest: createIngest({ store: options.store, bus: options.bus, clock: options.clock }),
    relay,
    async restart(stage) {
      const old = handles[stage].splice(0);
      for (const h of old) {
        h.worker.alive = false;
        await h.handle.close();
      }
      startStage(stage);
    },
    async stop() {
      relay?.stop();
      for (const stage of STAGES) {
        for (const h of handles[stage].splice(0)) {
          h.worker.alive = false;
          await h.handle.close();
        }
      }
    },
  };
}
