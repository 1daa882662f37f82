// The pipeline's view of the wire messages (core/messages.ts): encode before publish, parse
// (validate) on consume, with times named in ms and settle requests always as a user list.
import {
  encodeRaceResults,
  encodeSettled as encodeSettledMessage,
  encodeSettleRequest as encodeOne,
  encodeSettleRequestBatch,
  parseMessage,
  type SettledMessage,
} from '../core/messages.ts';
import { ok, type Result } from '../core/result.ts';
import { TOPICS } from '../core/topology.ts';

export interface RaceResultsMsg {
  readonly raceId: string;
  readonly resultVersion: number;
  readonly publishedAtMs: number;
}

export interface SettleRequestMsg extends RaceResultsMsg {
  /** One user (per-user fan-out) or several (user-batch:N). */
  readonly userIds: readonly string[];
}

export interface SettledMsg extends RaceResultsMsg {
  readonly userId: string;
  readonly settlementId: string;
  readonly cash: number;
  readonly medals: number;
  readonly hits: number;
  readonly trifectaHits: number;
}

export function encodeRaceResultsMessage(m: RaceResultsMsg): string {
  return encodeRaceResults({ raceId: m.raceId, resultVersion: m.resultVersion, publishedAt: m.publishedAtMs });
}

export function parseRaceResultsMessage(data: string): Result<RaceResultsMsg> {
  const r = parseMessage(TOPICS.raceResults, data);
  if (!r.ok) return r;
  if (r.value.topic !== TOPICS.raceResults) throw new Error('invariant violated: parseMessage answered another topic');
  const m = r.value.message;
  return ok({ raceId: m.raceId, resultVersion: m.resultVersion, publishedAtMs: m.publishedAt });
}

export function encodeSettleRequest(m: SettleRequestMsg): string {
  const base = { raceId: m.raceId, resultVersion: m.resultVersion, publishedAt: m.publishedAtMs };
  const only = m.userIds.length === 1 ? m.userIds[0] : undefined;
  return only !== undefined ? encodeOne({ ...base, userId: only }) : encodeSettleRequestBatch({ ...base, userIds: m.userIds });
}

export function parseSettleRequest(data: string): Result<SettleRequestMsg> {
  const r = parseMessage(TOPICS.settleRequests, data);
  if (!r.ok) return r;
  if (r.value.topic !== TOPICS.settleRequests) throw new Error('invariant violated: parseMessage answered another topic');
  const m = r.value.message;
  const userIds = 'userIds' in m ? m.userIds : [m.userId];
  return ok({ raceId: m.raceId, resultVersion: m.resultVersion, publishedAtMs: m.publishedAt, userIds });
}

export function encodeSettled(m: SettledMsg): string {
  const x: Omit<SettledMessage, 'schemaVersion'> = {
    raceId: m.raceId,
    userId: m.userId,
    settlementId: m.settlementId,
    cash: m.cash,
    medals: m.medals,
    hits: m.hits,
    trifectaHits: m.trifectaHits,
    resultVersion: m.resultVersion,
    publishedAt: m.publishedAtMs,
  };
  return encodeSettledMessage(x);
}

export function parseSettled(data: string): Result<SettledMsg> {
  const r = parseMessage(TOPICS.settled, data);
  if (!r.ok) return r;
  if (r.value.topic !== TOPICS.settled) throw new Error('invariant violated: parseMessage answered another topic');
  const m = r.value.message;
  return ok({
    raceId: m.raceId,
    userId: m.userId,
    settlementId: m.settlementId,
    cash: m.cash,
    medals: m.medals,
    hits: m.hits,
    trifectaHits: m.trifectaHits ?? 0,
    resultVersion: m.resultVersion,
    publishedAtMs: m.publishedAt,
  });
}
