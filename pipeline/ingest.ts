// Ingest: validates an official result for a known race, computes the payout table from the
// race's cash pools, records the outcome (idempotent per result version) and publishes the race
// id to `race-results`. Calling it again with the same version publishes again without writing,
// so a crash between record and publish is recovered by a retry.
import { canonicalJson, payoutTableToJson } from '../core/payout-json.ts';
import { computePayoutTable } from '../core/payout.ts';
import type { CashPools, Clock, MessageBus, Store } from '../core/ports.ts';
import type { Rational } from '../core/rational.ts';
import { err, ok, type Result } from '../core/result.ts';
import { parseRaceResult, validateScratched } from '../core/results.ts';
import type { BetType } from '../core/sports.ts';
import { TOPICS } from '../core/topology.ts';
import { encodeRaceResultsMessage } from './wire.ts';

export interface OfficialResult {
  readonly raceId: string;
  readonly resultVersion: number;
  /** The result as received (validated here): {"status":"official","order":[[3],[1,5]]} or void. */
  readonly result: unknown;
  readonly scratched: readonly number[];
  readonly returnRates?: Readonly<Partial<Record<BetType, Rational>>>;
  /** Cash sold through other channels, added to the service's own pools (combination code -> yen). */
  readonly outsidePools?: CashPools;
}

export interface IngestOutcome {
  /** False when this result version was already recorded (a retry). */
  readonly recorded: boolean;
  readonly publishedAtMs: number;
}

export interface IngestDeps {
  readonly store: Store;
  readonly bus: MessageBus;
  readonly clock: Clock;
}

function mergePools(a: CashPools, b: CashPools | undefined): CashPools {
  if (b === undefined) return a;
  const out: Partial<Record<BetType, Map<number, number>>> = {};
  for (const source of [a, b]) {
    for (const [betType, pool] of Object.entries(source) as [BetType, ReadonlyMap<number, number>][]) {
      const target = (out[betType] ??= new Map());
      for (const [code, yen] of pool) target.set(code, (target.get(code) ?? 0) + yen);
    }
  }
  return out;
}

export function createIngest(deps: IngestDeps): (input: OfficialResult) => Promise<Result<IngestOutcome>> {
  const { store, bus, clock } = deps;
  return async (input) => {
    const race = await store.getRace(input.raceId);
    if (race === undefined) return err('RACE.UNKNOWN', `race "${input.raceId}" is unknown`, 'raceId');
    if (!Number.isSafeInteger(input.resultVersion) || input.resultVersion < 1) {
      return err('INPUT.INVALID', `resultVersion must be a positive integer, got ${input.resultVersion}`, 'resultVersion');
    }
    const field = { sport: race.sport, riders: race.riders };
    const scratched = validateScratched(input.scratched, field);
    if (!scratched.ok) return scratched;
    const result = parseRaceResult(input.result, field, scratched.value);
    if (!result.ok) return result;

    let existing = await store.getOutcome(input.raceId);
    let recorded = false;
    if (existing === undefined || existing.resultVersion < input.resultVersion) {
      if (store.cashPools === undefined) throw new Error('invariant violated: this Store does not implement cashPools(raceId), which ingest needs');
      const pools = mergePools(await store.cashPools(input.raceId), input.outsidePools);
      const table = computePayoutTable({ field, scratched: scratched.value, result: result.value, pools, ...(input.returnRates ? { returnRates: input.returnRates } : {}) });
      const outcome = {
        raceId: input.raceId,
        resultVersion: input.resultVersion,
        resultJson: canonicalJson({ result: result.value, scratched: scratched.value }),
        payoutTableJson: payoutTableToJson(table),
        publishedAtMs: clock.nowMs(),
      };
      recorded = await store.recordOutcome(outcome);
      existing = await store.getOutcome(input.raceId);
    }
    if (existing === undefined) throw new Error(`invariant violated: outcome of ${input.raceId} missing right after recording it`);
    if (existing.resultVersion !== input.resultVersion) {
      return err('INPUT.INVALID', `race ${input.raceId} already has result version ${existing.resultVersion}; version ${input.resultVersion} is stale`, 'resultVersion');
    }
    // publishedAt is the recorded one, so a retried publish measures latency from the same origin.
    await bus.publish(TOPICS.raceResults, [
      { data: encodeRaceResultsMessage({ raceId: input.raceId, resultVersion: existing.resultVersion, publishedAtMs: existing.publishedAtMs }) },
    ]);
    return ok({ recorded, publishedAtMs: existing.publishedAtMs });
  };
}
