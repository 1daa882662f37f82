// The one place where the replay driver meets the pipeline (pipeline/runner.ts, startPipeline):
// start the handlers over the given store, bus and clock, and publish a race's official result
// through the pipeline's ingest (which computes the payout table from the store's cash pools plus
// the race's outside sales). Adapt this file, not the driver, when the pipeline's API moves.
import { encodeCombination, parseCombination } from '../core/combination.ts';
import type { CashPools, Clock, MessageBus, Store } from '../core/ports.ts';
import { parseRate, type Rational } from '../core/rational.ts';
import type { BetType } from '../core/sports.ts';
import { SUBSCRIPTIONS } from '../core/topology.ts';
import { startPipeline, type PipelineOptions, type RunningPipeline } from '../pipeline/runner.ts';
import type { RacePlan } from './model.ts';

/** What the replay driver needs from a running pipeline. */
export interface ResultPublisher {
  /** Publishes the race's official result (version 1); rejects when the pipeline refuses it. */
  publish(race: RacePlan): Promise<void>;
  stop(): Promise<void>;
  /** True when nothing is in flight any more (all stages drained); absent when the bus cannot tell. */
  idle?(): boolean;
  /** Counters and bugs for the report. */
  summary(): { readonly counters: object; readonly errors: readonly string[] };
}

/** Builds a publisher over the store the driver hands in (the driver wraps it to time settlements). */
export type PipelineConnector = (store: Store) => ResultPublisher;

/** RacePlan's outside sales (combination text -> yen) as ingest's pools (combination code -> yen). */
export function outsidePoolsOf(race: RacePlan): CashPools | undefined {
  if (race.outsidePools === undefined) return undefined;
  const out: Partial<Record<BetType, Map<number, number>>> = {};
  const field = { sport: race.sport, riders: race.riders };
  for (const [betType, pool] of Object.entries(race.outsidePools) as [BetType, Record<string, number>][]) {
    const target = new Map<number, number>();
    for (const [text, yen] of Object.entries(pool)) {
      const c = parseCombination(betType, text, field);
      if (!c.ok) throw new Error(`invariant violated: race ${race.raceId} outside pool ${betType} ${text}: ${c.error.message}`);
      const code = encodeCombination(c.value);
      target.set(code, (target.get(code) ?? 0) + yen);
    }
    out[betType] = target;
  }
  return out;
}

/** RacePlan's return-rate overrides (decimal strings) as ingest's rationals. */
export function returnRatesOf(race: RacePlan): Partial<Record<BetType, Rational>> | undefined {
  if (race.returnRates === undefined) return undefined;
  const out: Partial<Record<BetType, Rational>> = {};
  for (const [betType, text] of Object.entries(race.returnRates) as [BetType, string][]) {
    const r = parseRate(text);
    if (!r.ok) throw new Error(`invariant violated: race ${race.raceId} return rate ${betType}: ${r.error.message}`);
    out[betType] = r.value;
  }
  return out;
}

type BacklogBus = MessageBus & { subscriptionStats(subscription: string): { readonly backlog: number } };

function hasBacklog(bus: MessageBus): bus is BacklogBus {
  return typeof (bus as { subscriptionStats?: unknown }).subscriptionStats === 'function';
}

/**
 * The pipeline's own stages have nothing outstanding. The gateway subscription is left out: the
 * replay runs no notification client, so notifications stay queued there by design.
 */
const PIPELINE_SUBSCRIPTIONS = [SUBSCRIPTIONS.fanOut.name, SUBSCRIPTIONS.settle.name, SUBSCRIPTIONS.postSettle.name, SUBSCRIPTIONS.notify.name];

export function pipelineConnector(bus: MessageBus, clock: Clock, options: Omit<PipelineOptions, 'store' | 'bus' | 'clock'> = {}): PipelineConnector {
  return (store) => {
    const pipeline: RunningPipeline = startPipeline({ ...options, store, bus, clock });
    return {
      async publish(race) {
        const outsidePools = outsidePoolsOf(race);
        const returnRates = returnRatesOf(race);
        const r = await pipeline.ingest({
          raceId: race.raceId,
          resultVersion: 1,
          result: race.result,
          scratched: race.scratched,
          ...(outsidePools ? { outsidePools } : {}),
          ...(returnRates ? { returnRates } : {}),
        });
        if (!r.ok) throw new Error(`ingest refused the result of ${race.raceId}: ${r.error.code}: ${r.error.message}`);
      },
      stop: () => pipeline.stop(),
      ...(hasBacklog(bus) ? { idle: () => PIPELINE_SUBSCRIPTIONS.every((name) => bus.subscriptionStats(name).backlog === 0) } : {}),
      summary: () => ({ counters: { ...pipeline.counters }, errors: pipeline.errors }),
    };
  };
}
