// What every handler is built from: the ports, the selected variants and the fault probe.
import type { Clock, MessageBus, Store } from '../core/ports.ts';
import type { Probe } from './probe.ts';
import type { RaceCache } from './race-cache.ts';
import type { PipelineVariants } from './settings.ts';

export interface HandlerDeps {
  readonly store: Store;
  readonly bus: MessageBus;
  readonly clock: Clock;
  readonly variants: PipelineVariants;
  readonly probe: Probe;
  readonly races: RaceCache;
  /** Counters the runner reports (dead-lettered, stale, crashes); handlers only add to them. */
  readonly counters: PipelineCounters;
}

export interface PipelineCounters {
  deadLettered: number;
  settlementsApplied: number;
  settlementsDuplicate: number;
  settledRepublished: number;
  notificationsPublished: number;
  rankingsPublished: number;
  /** Deliveries at the barrier refused the claim while the ranking was unpublished: nacked to come back (ranking.ts). */
  rankingPending: number;
  handlerErrors: number;
  injectedCrashes: number;
  /** Failed outbox relay polls (each retried; outbox-relay.ts). */
  outboxRelayErrors: number;
  /** Dead letters whose users the dead-letter intake marked terminal (dead-letter-intake.ts). */
  deadLettersTakenIn: number;
  /** Dead letters naming no user of a recorded race (malformed, unknown race or user, notify's): acked. */
  deadLettersIgnored: number;
  /** Stalled races the reconciler re-drove, by what it re-published (reconcile.ts). */
  redriveFanouts: number;
  redriveRaces: number;
  /** Users named in the settle requests the reconciler re-published. */
  redriveUsers: number;
}

export function createCounters(): PipelineCounters {
  return {
    deadLettered: 0,
    settlementsApplied: 0,
    settlementsDuplicate: 0,
    settledRepublished: 0,
    notificationsPublished: 0,
    rankingsPublished: 0,
    rankingPending: 0,
    handlerErrors: 0,
    injectedCrashes: 0,
    outboxRelayErrors: 0,
    deadLettersTakenIn: 0,
    deadLettersIgnored: 0,
    redriveFanouts: 0,
    redriveRaces: 0,
    redriveUsers: 0,
  };
}

type OptionalStoreMethod =
  | 'cashPools'
  | 'recordFanoutUsers'
  | 'fanoutUsers'
  | 'countUsersWithOpenTickets'
  | 'readOutbox'
  | 'deleteOutbox'
  | 'getSettlementTotals'
  | 'getSettlement'
  | 'pageSettlementTotals'
  | 'settleUserColumns'
  | 'applyDayProgress'
  | 'markDeadLettered'
  | 'markRankingPublished'
  | 'rankingClaim'
  | 'deadLetteredUsers'
  | 'unrankedRaces'
  | 'terminalUserCount'
  | 'pageTerminalUsers'
  | 'notificationsLogged'
  | 'racesRankedSince';

/** An optional Store method bound to its store; a backend without it is a wiring bug and fails loudly. */
export function storeMethod<K extends OptionalStoreMethod>(store: Store, method: K): NonNullable<Store[K]> {
  const fn = store[method];
  if (fn === undefined) throw new Error(`invariant violated: this Store does not implement ${method}(), which the pipeline needs`);
  return (fn as (...args: unknown[]) => unknown).bind(store) as NonNullable<Store[K]>;
}
