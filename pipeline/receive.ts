// The intake every handler starts with: validate the message, then match it to its race's
// recorded result. A malformed message, one of an unknown race, or one naming a result version
// other than the recorded (final) one is dead-lettered with the reason (poison, never a crash
// loop; a race's payouts are decided once, docs/result-finality.md). Only what is left reaches
// the handler's own work.
import type { Delivery } from '../core/ports.ts';
import type { Result } from '../core/result.ts';
import type { HandlerDeps } from './context.ts';
import { deadLetter } from './dead-letter.ts';
import type { RaceContext } from './race-cache.ts';

export interface Received<M> {
  readonly m: M;
  readonly race: RaceContext;
}

export async function receive<M extends { readonly raceId: string; readonly resultVersion: number }>(
  deps: HandlerDeps,
  d: Delivery,
  topic: string,
  parse: (data: string) => Result<M>,
): Promise<Received<M> | undefined> {
  const { bus, races, counters } = deps;
  const parsed = parse(d.data);
  if (!parsed.ok) {
    counters.deadLettered++;
    await deadLetter(bus, topic, d, `${parsed.error.code}: ${parsed.error.message}`);
    return undefined;
  }
  const m = parsed.value;
  const lookup = await races.lookup(m.raceId, m.resultVersion);
  if (lookup.kind === 'unknown') {
    counters.deadLettered++;
    await deadLetter(bus, topic, d, `RACE.UNKNOWN: ${lookup.reason}`);
    return undefined;
  }
  if (lookup.kind === 'not-final') {
    counters.deadLettered++;
    await deadLetter(bus, topic, d, `RESULT.ALREADY_FINAL: ${lookup.reason}`);
    return undefined;
  }
  return { m, race: lookup.context };
}
