// Ports: what the pipeline needs from the world, as types only. Adapters live in backends/
// (memory: in-process and virtual time; google: Pub/Sub and Spanner, emulated or real).
import type { DayBonusesOf, DayRaceEntry } from './missions.ts';
import type { NotificationBody } from './notification.ts';
import type { Result } from './result.ts';
import type { LedgerReason, Settlement } from './settlement-record.ts';
import type { Currency, Ticket, TicketStatus } from './ticket.ts';
import type { OutcomeLookup } from './settle-columns.ts';
import type { BetType, Sport } from './sports.ts';

// ---------------------------------------------------------------------------------------------
// Time and randomness are passed in, so the memory backend can run from one seed in virtual time.

export interface Clock {
  nowMs(): number;
  sleep(ms: number): Promise<void>;
}

export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  nextU32(): number;
}

// ---------------------------------------------------------------------------------------------
// MessageBus: Pub/Sub semantics (at-least-once, ack deadlines, redelivery, dead-letter topics).

export interface BusMessage {
  /** JSON text of one wire message (messages.ts). */
  readonly data: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface Delivery {
  readonly messageId: string;
  readonly data: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** 1 on first delivery, +1 on every redelivery. */
  readonly deliveryAttempt: number;
  readonly publishTimeMs: number;
  ack(): void;
  nack(): void;
}

export interface SubscribeOptions {
  /** Flow control: deliveries handed out and not yet acked or nacked. */
  readonly maxInFlight: number;
  /**
   * A delivery's lease without renewal: an unsettled delivery of a crashed consumer comes back
   * after it. The Pub/Sub bus renews leases while the handler runs (up to its maximum lease);
   * the memory bus does not, so there a handler must settle within it.
   */
  readonly ackDeadlineMs: number;
}

export type DeliveryHandler = (delivery: Delivery) => Promise<void>;

export interface SubscriptionHandle {
  close(): Promise<void>;
}

export interface MessageBus {
  /** Publishes a batch; resolves once every message is accepted by the bus. */
  publish(topic: string, messages: readonly BusMessage[]): Promise<void>;
  subscribe(subscription: string, handler: DeliveryHandler, options: SubscribeOptions): SubscriptionHandle;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Store: repository style, each method one transaction.

export interface UserAccount {
  readonly userId: string;
  readonly cash: number;
  readonly medals: number;
}

export interface RaceInfo {
  readonly raceId: string;
  readonly sport: Sport;
  readonly riders: number;
  readonly closeAtMs: number;
  /** Post time in ms since the Unix epoch; its date in Japan is the race day of "today" missions (missions.ts raceDayOf). */
  readonly postAtMs: number;
}

/** The official outcome of a race as the store keeps it (payout table in its JSON wire form). */
export interface RaceOutcome {
  readonly raceId: string;
  readonly resultVersion: number;
  /** JSON of the official result (results.ts) and of the payout table (payout-json). */
  readonly resultJson: string;
  readonly payoutTableJson: string;
  readonly publishedAtMs: number;
}

export interface BetRequest {
  readonly ticketId: string;
  readonly userId: string;
  readonly raceId: string;
  readonly betType: Ticket['betType'];
  readonly combination: string;
  readonly stake: number;
  readonly currency: Currency;
}

export interface UserRaceTickets {
  readonly raceId: string;
  readonly userId: string;
  /** Open tickets of the user in the race, read inside the settlement transaction. */
  readonly tickets: readonly Ticket[];
}

export type SettleResult =
  /** The settlement was written now. */
  | { readonly kind: 'applied'; readonly settlement: Settlement }
  /** A settlement marker already existed: a redelivery; nothing was written. */
  | { readonly kind: 'duplicate'; readonly settlementId: string }
  /** The user has no open tickets in the race (and no marker). */
  | { readonly kind: 'nothing_open' };

export interface Bonus {
  /** Deterministic id, e.g. `bonus:hit:<settlementId>`; granting the same id twice is a no-op. */
  readonly bonusId: string;
  readonly userId: string;
  readonly medals: number;
  readonly reason: string;
}

/** A bonus as read back: how many times its grant was applied; exactly-once means 1 (optional where a backend cannot count). */
export interface GrantedBonus extends Bonus {
  readonly applications?: number;
}

/** Cash staked per bet type: combination code -> yen, over the race's cash tickets (payout.ts PayoutInput.pools). */
export type CashPools = Readonly<Partial<Record<BetType, ReadonlyMap<number, number>>>>;

/**
 * A message written inside a settlement transaction (transactional outbox) and relayed to the bus
 * by a poller afterwards, so a crash between commit and publish cannot lose it.
 */
export interface OutboxMessage {
  /** Deterministic id (e.g. `outbox:<settlementId>`); writing the same id twice keeps one row. */
  readonly outboxId: string;
  readonly topic: string;
  readonly data: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

/** A ticket as stored, with its settlement state (read-backs for checkers). */
export interface StoredTicket extends Ticket {
  readonly status: TicketStatus;
  /** 0 while open or lost. */
  readonly per100: number;
  /** stake / 100 * per100. */
  readonly payout: number;
}

export interface SettlementMarker {
  readonly userId: string;
  readonly settlementId: string;
  readonly resultVersion: number;
  /** How many times a settlement was applied for (race, user); exactly-once means 1 (optional where a backend cannot count). */
  readonly applications?: number;
}

/** Per-user ledger sums by currency and reason, plus the opening balances (conservation checks). */
export interface LedgerTotals {
  readonly userId: string;
  readonly initialCash: number;
  readonly initialMedals: number;
  readonly cash: Readonly<Record<LedgerReason, number>>;
  readonly medal: Readonly<Record<LedgerReason, number>>;
}

export interface RankingClaim {
  readonly raceId: string;
  readonly claimedAtMs: number;
  /** Users of the race terminal (post-settled or dead-lettered) when the ranking was claimed (barrier check). */
  readonly postSettledUsers: number;
  /** When the claimant recorded the ranking as published (Store.markRankingPublished); absent until then. */
  readonly publishedAtMs?: number;
}

/** Who claims a ranking: the message that completed the barrier (e.g. `race/user`) and its delivery attempt. */
export interface RankingClaimant {
  readonly id: string;
  readonly attempt: number;
}

/** A race's ranking claim as a refused worker at the barrier reads it (Store.rankingClaim). */
export interface RankingClaimState {
  readonly claimant: RankingClaimant | undefined;
  readonly published: boolean;
}

/** A user whose settlement of a race went to the dead letters, and why. */
export interface DeadLetteredUser {
  readonly userId: string;
  /** `CODE: message`, e.g. `RESULT.COMBINATION_INVALID: ticket t1 ...`. */
  readonly reason: string;
}

/** Read-backs for invariant checkers; cheap enough for smoke-sized worlds, not for hot paths. */
export interface StoreReadback {
  balances(userId: string): Promise<UserAccount | undefined>;
  users(): AsyncIterable<UserAccount>;
  ticketsOfRace(raceId: string): AsyncIterable<StoredTicket>;
  /**
   * One user's tickets in one race: a key-prefix read, never a walk of the race (a client asking
   * for its own tickets must not cost a scan of millions; a soak's day checks read per user).
   */
  ticketsOfUser(userId: string, raceId: string): Promise<readonly StoredTicket[]>;
  settlementMarkers(raceId: string): Promise<readonly SettlementMarker[]>;
  ledgerTotals(userId: string): Promise<LedgerTotals | undefined>;
  bonuses(): Promise<readonly GrantedBonus[]>;
  rankingClaims(): Promise<readonly RankingClaim[]>;
  /**
   * The race's tickets as columns, a chunk at a time: checkers read millions without an object
   * each. A chunk's arrays may be reused for the next chunk: read one before asking for the next.
   */
  ticketChunksOfRace?(raceId: string): AsyncIterable<StoredTicketChunk>;
  /**
   * Every user's balance with its ledger totals, streamed in bulk (a remote store reads whole key
   * ranges instead of two round trips per user). Same values as balances + ledgerTotals per user.
   */
  ledgers?(): AsyncIterable<UserLedger>;
}

/** A user's balance and ledger totals, read together. */
export interface UserLedger {
  readonly account: UserAccount;
  readonly totals: LedgerTotals;
}

/** Tickets of one race in columns (a store's read-back at scale). */
export interface StoredTicketChunk {
  readonly count: number;
  /** Per ticket: its user, an index into `userIds`. */
  readonly user: Uint32Array;
  readonly userIds: readonly string[];
  /** Index into BET_TYPES. */
  readonly betType: Uint8Array;
  /** The combination's numbers as decimal digits (encodeCombination). */
  readonly comboCode: Uint16Array;
  /** stake / 100. */
  readonly stakeUnits: Uint32Array;
  /** 0 cash, 1 medal. */
  readonly currency: Uint8Array;
  /** Per ticket: an index into `statusNames`. */
  readonly status: Uint8Array;
  readonly statusNames: readonly TicketStatus[];
  readonly per100: Uint32Array;
}

/** The totals of one applied settlement (cashDelta, medalDelta, hits of the Settlement). */
/** One notification of one user's log, by its id (Store.notificationsLogged). */
export interface NotificationKey {
  readonly userId: string;
  readonly notificationId: string;
}

export interface SettlementTotals {
  readonly userId: string;
  readonly settlementId: string;
  readonly cash: number;
  readonly medals: number;
  readonly hits: number;
  /** Trifecta hits (missions); absent where a backend does not keep them. */
  readonly trifectaHits?: number;
}

/** What a columnar settlement applied: the Settlement's totals without per-ticket outcomes. */
export interface SettlementSummary {
  readonly settlementId: string;
  readonly raceId: string;
  readonly userId: string;
  readonly resultVersion: number;
  readonly cashDelta: number;
  readonly medalDelta: number;
  readonly hits: number;
  readonly tickets: number;
  /** Trifecta hits (missions); absent where a backend does not count them. */
  readonly trifectaHits?: number;
}

export type SummarySettleResult =
  | { readonly kind: 'applied'; readonly settlement: SettlementSummary }
  | { readonly kind: 'duplicate'; readonly settlementId: string }
  | { readonly kind: 'nothing_open' };

/**
 * A notification as the per-user notification log keeps it: its body and its sequence number in
 * the user's log (1, 2, ... with no gaps), which a client gives back to get what it missed.
 */
export interface SequencedNotification extends NotificationBody {
  readonly seq: number;
}

/** The most notifications one notificationsAfter call returns (a page; the caller pages on). */
export const NOTIFICATIONS_PAGE_MAX = 1_000;

export interface StoreStats {
  readonly transactionsCommitted: number;
  readonly transactionsAborted: number;
}

export interface Store {
  putUsers(users: readonly UserAccount[]): Promise<void>;
  putRace(race: RaceInfo): Promise<void>;
  getRace(raceId: string): Promise<RaceInfo | undefined>;
  /** Balance check, debit and ticket in one transaction. */
  placeBet(bet: BetRequest): Promise<Result<Ticket>>;
  /** Bulk load of tickets whose stakes are already debited (scenario loading at scale). */
  loadTickets(tickets: readonly Ticket[]): Promise<void>;
  /**
   * Records the race's official outcome if it has none yet, atomically (first wins: the first
   * result recorded fixes the payouts, see docs/result-finality.md). Returns false, writing
   * nothing, when the race already has an outcome, whatever its version or content; getOutcome
   * then answers the recorded one.
   */
  recordOutcome(outcome: RaceOutcome): Promise<boolean>;
  getOutcome(raceId: string): Promise<RaceOutcome | undefined>;
  /** Users with open tickets in the race, ascending user id, strictly after `afterUserId`. */
  pageUsersWithOpenTickets(raceId: string, afterUserId: string | undefined, limit: number): Promise<readonly string[]>;
  /**
   * One transaction: read the user's open tickets and settlement marker; if no marker, compute the
   * settlement with the pure function and write outcomes, ledger, balances and the marker.
   */
  settleUser(
    raceId: string,
    userId: string,
    resultVersion: number,
    compute: (input: UserRaceTickets) => Settlement,
    /** Outbox variant: messages written in the same transaction as the settlement (only when it is applied). */
    outbox?: (settlement: Settlement) => readonly OutboxMessage[],
  ): Promise<SettleResult>;
  /** Grants bonuses exactly once by id; returns the ids newly granted. */
  grantBonuses(bonuses: readonly Bonus[]): Promise<readonly string[]>;
  /**
   * Marks (race, user) post-processed; returns how many users of the race are terminal (marked
   * post-settled or dead-lettered, markDeadLettered), each counted once: the ranking barrier's count.
   */
  markPostSettled(raceId: string, userId: string): Promise<number>;
  /**
   * Claims the right to publish the race's day ranking: a lease, in one transaction. True when the
   * race has no claim; when the claim is not published and older than RANKING_CLAIM_LEASE_MS (its
   * claimant is presumed dead: the new claimant takes it over, the claim time restarts); or for
   * the same claimant on a later delivery attempt while unpublished (the claiming message,
   * redelivered after a crash before it published). Otherwise false: a duplicate delivery of the
   * same attempt, another message within the lease, anyone once the ranking is published.
   */
  claimRanking(raceId: string, claimant?: RankingClaimant): Promise<boolean>;
  /** Records the race's ranking as published (after the claimant published it); idempotent, one transaction. */
  markRankingPublished?(raceId: string): Promise<void>;
  /** The race's ranking claim as it stands: who holds it and whether it was recorded published (undefined: never claimed). */
  rankingClaim?(raceId: string): Promise<RankingClaimState | undefined>;
  // Optional methods the pipeline (pipeline/runner.ts and its handlers) needs: ingest, the ranking
  // barrier, outbox, settle redelivery. Every backend should implement them; the pipeline fails
  // clearly when one is missing.
  /**
   * Records that the user's settlement of the race was dead-lettered (refused by the pure core, or
   * out of delivery attempts) with the reason; idempotent (the first reason is kept). The user
   * becomes terminal for the ranking barrier; returns the race's terminal count as markPostSettled
   * does, the user counted once even if a re-drive later settles it.
   */
  markDeadLettered?(raceId: string, userId: string, reason: string): Promise<number>;
  /** The dead-lettered users of the race with their reasons, ascending user id. */
  deadLetteredUsers?(raceId: string): Promise<readonly DeadLetteredUser[]>;
  /**
   * The reconciler's reads (pipeline/reconcile.ts), which re-drive a race whose progress stopped:
   * races with an outcome recorded as published at or after `sinceMs` whose ranking is not
   * recorded published, ascending race id (a window, so a round's cost does not grow with every
   * race ever run);
   */
  unrankedRaces?(sinceMs: number): Promise<readonly string[]>;
  /** how many users of the race the barrier counts terminal (post-settled or dead-lettered); */
  terminalUserCount?(raceId: string): Promise<number>;
  /** and those users, ascending, after `afterUserId`, at most `limit`. */
  pageTerminalUsers?(raceId: string, afterUserId: string | undefined, limit: number): Promise<readonly string[]>;
  /**
   * Whether each (user, notification id) is in the user's notification log, in the order asked:
   * the reconciler's audit of a ranked race's notifications reads it.
   */
  notificationsLogged?(keys: readonly NotificationKey[]): Promise<readonly boolean[]>;
  /** Races whose ranking was recorded published at or after `sinceMs`, ascending race id (the audit finds its races by it). */
  racesRankedSince?(sinceMs: number): Promise<readonly string[]>;
  /** Cash pools of the race, from its cash tickets (ingest computes the payout table from them). */
  cashPools?(raceId: string): Promise<CashPools>;
  /**
   * The ranking barrier: records how many users the fan-out found for the race. The first call
   * wins; every call returns the recorded count, so a redelivered fan-out cannot shrink it.
   */
  recordFanoutUsers?(raceId: string, users: number): Promise<number>;
  /** The count recorded by recordFanoutUsers, undefined before the fan-out recorded it. */
  fanoutUsers?(raceId: string): Promise<number | undefined>;
  /**
   * How many users pageUsersWithOpenTickets would list for the race, in one query. The fan-out
   * counts its barrier with it where a backend has it, instead of walking every page first.
   */
  countUsersWithOpenTickets?(raceId: string): Promise<number>;
  /**
   * The totals of the settlement applied for (race, user), if any: a redelivered settle request
   * republishes `settled` from them, so a crash between commit and publish loses nothing.
   */
  getSettlementTotals?(raceId: string, userId: string): Promise<SettlementTotals | undefined>;
  /** The whole settlement applied for (race, user), if any (the pipeline falls back to it without getSettlementTotals). */
  getSettlement?(raceId: string, userId: string): Promise<Settlement | undefined>;
  /**
   * settleUser's columnar twin for scale (same transaction and marker): tickets are priced from the
   * flattened payout table (settle-columns.ts buildOutcomeLookup), no Ticket objects are made.
   */
  settleUserColumns?(
    raceId: string,
    userId: string,
    resultVersion: number,
    lookup: OutcomeLookup,
    outbox?: (settlement: SettlementSummary) => readonly OutboxMessage[],
  ): Promise<SummarySettleResult>;
  /**
   * What each applied settlement of the race credited, ascending user id, strictly after
   * `afterUserId` (the day ranking reads it once the barrier is reached).
   */
  pageSettlementTotals?(raceId: string, afterUserId: string | undefined, limit: number): Promise<readonly SettlementTotals[]>;
  /**
   * Day missions, one transaction: unless the entry's (user, day, race) is already counted, reads
   * the user's entries of the day, asks `bonusesOf` for the bonuses this race earns given the
   * progress they make (missions.ts dayProgressOf), records the entry and grants those bonuses
   * (each id once, like grantBonuses). Returns the bonuses granted now; a redelivery of the same
   * race's `settled` finds the race counted and returns [] without changing anything.
   */
  applyDayProgress?(entry: DayRaceEntry, bonusesOf: DayBonusesOf): Promise<readonly Bonus[]>;
  /** Outbox rows not yet relayed, oldest first, at most `limit`. */
  readOutbox?(limit: number): Promise<readonly OutboxMessage[]>;
  /** Deletes relayed outbox rows; unknown ids are ignored (two relays may race). */
  deleteOutbox?(outboxIds: readonly string[]): Promise<void>;
  /**
   * The per-user notification log (docs/messages.md): appends each body to its user's log and
   * returns its sequence number, in the order given. A user's numbers are dense from 1; a body
   * whose notificationId the user's log already holds is not appended again and answers its
   * existing number (a redelivered `settled` gets the seq it got the first time). Atomic against
   * concurrent calls, also from other processes: no number is given twice or skipped.
   */
  appendNotifications(bodies: readonly NotificationBody[]): Promise<readonly number[]>;
  /** The user's logged notifications with seq > afterSeq, ascending, at most `limit` (1..NOTIFICATIONS_PAGE_MAX). */
  notificationsAfter(userId: string, afterSeq: number, limit: number): Promise<readonly SequencedNotification[]>;
  stats(): StoreStats;
  /** Read-backs for checkers (optional: a backend may not offer them). */
  readonly readback?: StoreReadback;
  close(): Promise<void>;
}
