// Design variants and limits of the pipeline, in one place: the runner, the simulator and the CLI
// select variants by name (`per-user`, `user-batch:50`, `single-worker`; `after-commit`, `outbox`).
import { RANKING_CLAIM_LEASE_MS } from '../core/ranking.ts';
import { err, ok, type Result } from '../core/result.ts';

export type FanoutVariant =
  /** One settle request per user (the reference design). */
  | { readonly kind: 'per-user' }
  /** One settle request per `usersPerMessage` users. */
  | { readonly kind: 'user-batch'; readonly usersPerMessage: number }
  /** The fan-out worker settles every user itself; no settle requests at all. */
  | { readonly kind: 'single-worker' };

export type NotifyVariant = 'after-commit' | 'outbox';

/**
 * Deliberately broken behaviours, only for proving that the simulator's checkers can fail:
 * - `no-exactly-once`: settle pays again on every redelivery (ignores the settlement marker);
 * - `no-barrier`: post-settle publishes the ranking without waiting for every user;
 * - `ack-before-commit`: settle acks the request before its transaction commits;
 * - `bonus-twice`: the store grants a bonus again when post-settle is redelivered (a store fault);
 * - `publish-unclaimed`: every worker at the barrier publishes the ranking, then claims it;
 * - `dead-letters-not-terminal`: a dead-lettered user is not counted by the barrier.
 */
export type BrokenBehaviour = 'no-exactly-once' | 'no-barrier' | 'ack-before-commit' | 'bonus-twice' | 'publish-unclaimed' | 'dead-letters-not-terminal';
export const BROKEN_BEHAVIOURS: readonly BrokenBehaviour[] = ['no-exactly-once', 'no-barrier', 'ack-before-commit', 'bonus-twice', 'publish-unclaimed', 'dead-letters-not-terminal'];

export const LIMITS = {
  /** Users read per page by the fan-out (a Spanner read of the open-ticket index). */
  fanoutPageUsers: 5_000,
  /** Messages per publish call (Pub/Sub caps a publish request at 1,000 messages). */
  publishBatchMessages: 1_000,
  /** Largest `user-batch:N`. */
  usersPerMessageMax: 1_000,
  /** Outbox rows relayed per poll. */
  outboxRelayBatch: 500,
  /** The relay stops polling after this many empty polls in a row; a settlement kicks it again. */
  outboxIdlePolls: 3,
  outboxPollIntervalMs: 50,
  /** Users listed in the day-ranking notification. */
  rankingTop: 10,
  /** A ranking claim not recorded as published may be taken over after this long (core/ranking.ts). */
  rankingClaimLeaseMs: RANKING_CLAIM_LEASE_MS,
} as const;

export function parseFanoutVariant(text: string): Result<FanoutVariant> {
  if (text === 'per-user') return ok({ kind: 'per-user' });
  if (text === 'single-worker') return ok({ kind: 'single-worker' });
  const m = /^user-batch:(\d+)$/.exec(text);
  if (m !== null) {
    const n = Number(m[1]);
    if (n >= 1 && n <= LIMITS.usersPerMessageMax) return ok({ kind: 'user-batch', usersPerMessage: n });
    return err('INPUT.INVALID', `user-batch:N needs 1 <= N <= ${LIMITS.usersPerMessageMax}, got ${n}`, 'fanout');
  }
  return err('INPUT.INVALID', `fan-out variant must be per-user, user-batch:N or single-worker, got "${text}"`, 'fanout');
}

export function formatFanoutVariant(v: FanoutVariant): string {
  return v.kind === 'user-batch' ? `user-batch:${v.usersPerMessage}` : v.kind;
}

export function parseNotifyVariant(text: string): Result<NotifyVariant> {
  if (text === 'after-commit' || text === 'outbox') return ok(text);
  return err('INPUT.INVALID', `notify variant must be after-commit or outbox, got "${text}"`, 'notify');
}

/**
 * How settle computes a settlement: `objects` reads Ticket objects and runs the reference pure
 * settlement (settleUserTickets); `columns` prices the stored columns from the flattened payout
 * table (Store.settleUserColumns), for scale.
 */
export type SettlePath = 'objects' | 'columns';

export interface PipelineVariants {
  readonly fanout: FanoutVariant;
  readonly notify: NotifyVariant;
  readonly settlePath?: SettlePath;
  readonly broken?: BrokenBehaviour;
}

export const DEFAULT_VARIANTS: PipelineVariants = { fanout: { kind: 'per-user' }, notify: 'after-commit' };
