// Ingest: validates an official result for a known race, computes the payout table from the
// race's cash pools, records the outcome and publishes the race id to `race-results`.
// Result finality (docs/result-finality.md): the first result recorded for a race fixes its
// payouts. The same result again (same order, scratches and payout table, whatever its version)
// publishes the recorded message again without writing, so a crash between record and publish is
// recovered by a retry; a different result is refused with RESULT.ALREADY_FINAL, naming both, and
// nothing is written or published.
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
  /** False when the race already had this result (a retry or a duplicate). */
  readonly recorded: boolean;
  /** The recorded result version (a duplicate under another version answers the recorded one). */
  readonly resultVersion: number;
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

/** `official [[3],[1,5],[2]] scratched [4]` or `void`, from the canonical result JSON an outcome keeps. */
export function describeResult(resultJson: string): string {
  const { result, scratched } = JSON.parse(resultJson) as { result: { status: string; order?: unknown }; scratched?: readonly number[] };
  const order = result.order === undefined ? '' : ` ${JSON.stringify(result.order)}`;
  const scratches = scratched !== undefined && scratched.length > 0 ? ` scratched ${JSON.stringify(scratched)}` : '';
  return `${result.status}${order}${scratches}`;
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

    if (store.cashPools === undefined) throw new Error('invariant violated: this Store does not implement cashPools(raceId), which ingest needs');
    // The table is computed even when an outcome exists: a result is "the same" only if it pays the same.
    const pools = mergePools(await store.cashPools(input.raceId), input.outsidePools);
    const table = computePayoutTable({ field, scratched: scratched.value, result: result.value, pools, ...(input.returnRates ? { returnRates: input.returnRates } : {}) });
    const candidate = {
      raceId: input.raceId,
      resultVersion: input.resultVersion,
      resultJson: canonicalJson({ result: result.value, scratched: scratched.value }),
      payoutTableJson: payoutTableToJson(table),
      publishedAtMs: clock.nowMs(),
    };
    let existing = await store.getOutcome(input.raceId);
    let recorded = false;
    if (existing === undefined) {
      recorded = await store.recordOutcome(candidate);
      existing = await store.getOutcome(input.raceId);
    }
    if (existing === undefined) {
      // Another result won the store's first-wins insert and is still being written (a store that
      // replicates the outcome); this one is refused all the same.
      return err('RESULT.ALREADY_FINAL', `race ${input.raceId} already has another result being recorded; refused v${input.resultVersion} ${describeResult(candidate.resultJson)}`, 'result');
    }
    if (existing.resultJson !== candidate.resultJson || existing.payoutTableJson !== candidate.payoutTableJson) {
      const what = existing.resultJson === candidate.resultJson ? ' (same result, different payout table: return rates or outside pools differ)' : '';
      return err(
        'RESULT.ALREADY_FINAL',
        `race ${input.raceId} is final: recorded v${existing.resultVersion} ${describeResult(existing.resultJson)} vs refused v${input.resultVersion} ${describeResult(candidate.resultJson)}${what}; the first official result fixes the payouts`,
        'result',
      );
    }
    // publishedAt is the recorded one, so a retried publish measures latency from the same origin.
    await bus.publish(TOPICS.raceResults, [
      { data: encodeRaceResultsMessage({ raceId: input.raceId, resultVersion: existing.resultVersion, publishedAtMs: existing.publishedAtMs }) },
    ]);
    return ok({ recorded, resultVersion: existing.resultVersion, publishedAtMs: existing.publishedAtMs });
  };
}
