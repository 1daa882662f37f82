// Per-race measurements of a replay: tickets and users loaded, when betting closed and the result
// went out on the wall clock, and every settlement commit's latency from that publish (HDR
// histogram), so the report shows which race of the day hurt.
import type * as hdr from 'hdr-histogram-js';
import { createLatencyHistogram, percentilesOf, type Percentiles } from '../reports/latency.ts';
import type { Store } from '../core/ports.ts';
import type { RacePlan } from './model.ts';

export type { Percentiles };

export interface RaceMetrics {
  readonly raceId: string;
  readonly sport: string;
  readonly riders: number;
  readonly closeAtMs: number;
  readonly resultAtMs: number;
  tickets: number;
  cashTickets: number;
  medalTickets: number;
  /** Distinct users with tickets in the race (the settlements to expect). */
  users: number;
  /** Wall ms since the replay started, when the result was handed to the pipeline. */
  publishedAtWallMs: number | null;
  /** How late the publish was against the scaled schedule (0 when fast-as-possible). */
  publishLagMs: number | null;
  settledUsers: number;
  /** Publish -> last settlement commit of the race. */
  makespanMs: number | null;
  settleLatencyMs: Percentiles | null;
  complete: boolean;
}

export interface RaceTracker {
  readonly metrics: RaceMetrics;
  userSeen: Set<string> | undefined;
  histogram: hdr.Histogram | undefined;
  publishedAtPerfMs: number;
}

export function createTracker(race: RacePlan): RaceTracker {
  return {
    metrics: {
      raceId: race.raceId,
      sport: race.sport,
      riders: race.riders,
      closeAtMs: race.closeAtMs,
      resultAtMs: race.resultAtMs,
      tickets: 0,
      cashTickets: 0,
      medalTickets: 0,
      users: 0,
      publishedAtWallMs: null,
      publishLagMs: null,
      settledUsers: 0,
      makespanMs: null,
      settleLatencyMs: null,
      complete: false,
    },
    userSeen: new Set(),
    histogram: undefined,
    publishedAtPerfMs: 0,
  };
}

/** Starts the race's latency clock at publish. */
export function markPublished(t: RaceTracker, wallMs: number, lagMs: number): void {
  t.publishedAtPerfMs = performance.now();
  t.metrics.publishedAtWallMs = Math.round(wallMs);
  t.metrics.publishLagMs = Math.round(lagMs);
  t.histogram = createLatencyHistogram();
  t.userSeen = undefined; // loading is over for this race; free the set
}

function recordCommit(t: RaceTracker | undefined, onSettled?: (latencyMs: number) => void): void {
  if (t === undefined || t.histogram === undefined) return;
  const at = performance.now() - t.publishedAtPerfMs;
  t.histogram.recordValue(Math.max(1, Math.round(at * 1000)));
  onSettled?.(at);
  t.metrics.settledUsers++;
  t.metrics.makespanMs = Math.round(at * 1000) / 1000;
  if (t.metrics.settledUsers >= t.metrics.users) t.metrics.complete = true;
}

/** The store with settlement commits timed per race (raceId is the first argument of both settle methods); each latency also goes to `onSettled` (a run record). */
export function timedStore(store: Store, trackers: ReadonlyMap<string, RaceTracker>, onSettled?: (latencyMs: number) => void): Store {
  const timed = Object.create(store) as Store;
  const overrides: Partial<Store> = {
    settleUser: async (...args) => {
      const r = await store.settleUser(...args);
      if (r.kind === 'applied') recordCommit(trackers.get(args[0]), onSettled);
      return r;
    },
  };
  const columns = store.settleUserColumns;
  if (columns !== undefined) {
    overrides.settleUserColumns = async (...args) => {
      const r = await columns.apply(store, args);
      if (r.kind === 'applied') recordCommit(trackers.get(args[0]), onSettled);
      return r;
    };
  }
  return Object.assign(timed, overrides);
}

export function finishMetrics(t: RaceTracker): RaceMetrics {
  if (t.histogram !== undefined) t.metrics.settleLatencyMs = percentilesOf(t.histogram);
  if (t.metrics.users === 0) t.metrics.complete = t.metrics.publishedAtWallMs !== null;
  return t.metrics;
}
