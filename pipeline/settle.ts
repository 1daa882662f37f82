// Settle: one user's settlement transaction per user named in a settle request, exactly once
// however often the request is delivered (the Store's settlement marker), then `settled` is
// published. A redelivery finds the marker and publishes `settled` again from the stored
// settlement, so a crash between commit and publish is recovered; post-settle is idempotent.
// Notify `outbox`: the `settled` message is written inside the settlement transaction and a relay
// publishes it, so no crash window exists at all.
import type { BusMessage, Delivery, DeliveryHandler, OutboxMessage, SettlementSummary, SettlementTotals, Store, UserRaceTickets } from '../core/ports.ts';
import type { DomainError } from '../core/result.ts';
import type { Settlement } from '../core/settlement-record.ts';
import { hitsOfType, settleUserTickets } from '../core/settlement.ts';
import { MAX_DELIVERY_ATTEMPTS, TOPICS } from '../core/topology.ts';
import { storeMethod, type HandlerDeps } from './context.ts';
import { deadLetterUser } from './dead-letter.ts';
import type { OutboxRelay } from './outbox-relay.ts';
import { isInjectedCrash } from './probe.ts';
import type { RaceContext } from './race-cache.ts';
import { receive } from './receive.ts';
import { encodeSettled, encodeSettleRequest, parseSettleRequest } from './wire.ts';

/** The pure settlement refused the user's tickets: poison data, not a transient failure. */
export class SettlementRejected extends Error {
  override readonly name = 'SettlementRejected';
  readonly error: DomainError;
  constructor(error: DomainError) {
    super(`${error.code}: ${error.message}`);
    this.error = error;
  }
}

/** The `settled` message's facts: a Settlement, a columnar summary or stored totals all give them. */
export interface SettledFacts {
  readonly raceId: string;
  readonly userId: string;
  readonly settlementId: string;
  readonly resultVersion: number;
  readonly cash: number;
  readonly medals: number;
  readonly hits: number;
  readonly trifectaHits: number;
}

export function settledMessage(f: SettledFacts, publishedAtMs: number): BusMessage {
  return { data: encodeSettled({ ...f, publishedAtMs }) };
}

function factsOfSettlement(s: Settlement): SettledFacts {
  return { raceId: s.raceId, userId: s.userId, settlementId: s.settlementId, resultVersion: s.resultVersion, cash: s.cashDelta, medals: s.medalDelta, hits: s.hits, trifectaHits: hitsOfType(s, 'trifecta') };
}

function factsOfSummary(s: SettlementSummary): SettledFacts {
  return { raceId: s.raceId, userId: s.userId, settlementId: s.settlementId, resultVersion: s.resultVersion, cash: s.cashDelta, medals: s.medalDelta, hits: s.hits, trifectaHits: s.trifectaHits ?? 0 };
}

export interface UserSettler {
  /** Settles one user; returns the `settled` message to publish (after-commit), if any. */
  settle(race: RaceContext, userId: string, item: string): Promise<BusMessage | undefined>;
}

type Applied = { readonly kind: 'applied'; readonly facts: SettledFacts } | { readonly kind: 'duplicate' } | { readonly kind: 'nothing_open' };

/** One settlement transaction by the selected path; the outbox row (if any) is written inside it. */
async function transact(deps: HandlerDeps, race: RaceContext, userId: string, settleColumns: NonNullable<Store['settleUserColumns']> | undefined): Promise<Applied> {
  const { store, variants } = deps;
  const { outcome, table, field } = race;
  const outboxRow = (f: SettledFacts): readonly OutboxMessage[] =>
    variants.notify === 'outbox' ? [{ outboxId: `outbox:${f.settlementId}`, topic: TOPICS.settled, data: settledMessage(f, outcome.publishedAtMs).data }] : [];
  if (settleColumns !== undefined) {
    try {
      const r = await settleColumns(outcome.raceId, userId, outcome.resultVersion, race.lookup(), (s) => outboxRow(factsOfSummary(s)));
      return r.kind === 'applied' ? { kind: 'applied', facts: factsOfSummary(r.settlement) } : r;
    } catch (e) {
      // The columnar path cannot say why a ticket has no price; the object path (below, same
      // transaction and marker) either settles the user or refuses it with the core's own error.
      if (isInjectedCrash(e)) throw e;
    }
  }
  const compute = (input: UserRaceTickets): Settlement => {
    const r = settleUserTickets({ raceId: input.raceId, userId: input.userId, resultVersion: outcome.resultVersion, tickets: input.tickets, table, field });
    if (!r.ok) throw new SettlementRejected(r.error);
    return r.value;
  };
  const r = await store.settleUser(outcome.raceId, userId, outcome.resultVersion, compute, (s) => outboxRow(factsOfSettlement(s)));
  return r.kind === 'applied' ? { kind: 'applied', facts: factsOfSettlement(r.settlement) } : r;
}

/** Store.getSettlementTotals, or the totals of Store.getSettlement where only that exists. */
function totalsReader(store: Store): (raceId: string, userId: string) => Promise<SettlementTotals | undefined> {
  if (store.getSettlementTotals !== undefined) return storeMethod(store, 'getSettlementTotals');
  const get = storeMethod(store, 'getSettlement');
  return async (raceId, userId) => {
    const s = await get(raceId, userId);
    return s === undefined ? undefined : { userId, settlementId: s.settlementId, cash: s.cashDelta, medals: s.medalDelta, hits: s.hits, trifectaHits: hitsOfType(s, 'trifecta') };
  };
}

export function createUserSettler(deps: HandlerDeps, relay: OutboxRelay | undefined): UserSettler {
  const { store, variants, probe, counters } = deps;
  const getTotals = variants.notify === 'after-commit' ? totalsReader(store) : undefined;
  const settleColumns = variants.settlePath === 'columns' ? storeMethod(store, 'settleUserColumns') : undefined;
  return {
    async settle(race, userId, item) {
      const { outcome } = race;
      probe('settle.beforeCommit', item);
      const result = await transact(deps, race, userId, settleColumns);
      probe('settle.afterCommit', item);
      if (result.kind === 'applied') counters.settlementsApplied++;
      if (result.kind === 'duplicate') counters.settlementsDuplicate++;
      if (relay !== undefined) {
        // Kicked on duplicates too: the delivery that committed may have crashed before kicking.
        relay.kick();
        return undefined;
      }
      if (result.kind === 'applied') return settledMessage(result.facts, outcome.publishedAtMs);
      if (result.kind === 'duplicate' && getTotals !== undefined) {
        const t = await getTotals(outcome.raceId, userId);
        if (t === undefined) throw new Error(`invariant violated: settlement marker of ${userId} in ${outcome.raceId} exists but its totals do not`);
        counters.settledRepublished++;
        const facts: SettledFacts = { raceId: outcome.raceId, userId, settlementId: t.settlementId, resultVersion: outcome.resultVersion, cash: t.cash, medals: t.medals, hits: t.hits, trifectaHits: t.trifectaHits ?? 0 };
        return settledMessage(facts, outcome.publishedAtMs);
      }
      return undefined;
    },
  };
}

/**
 * Dead-letters one user's settle request with the reason. The dead-letter intake
 * (dead-letter-intake.ts) marks the user terminal and checks the ranking barrier, as it does for
 * every dead letter, so this path and the bus's own forwarding end the same way.
 */
export type UserDeadLetterer = (race: RaceContext, userId: string, reason: string, attempt: number, originalMessageId?: string) => Promise<void>;

export function createUserDeadLetterer(deps: HandlerDeps): UserDeadLetterer {
  return async (race, userId, reason, attempt, originalMessageId) => {
    const { raceId, resultVersion, publishedAtMs } = race.outcome;
    deps.counters.deadLettered++;
    // A request of this one user, whatever message it came in: re-driven, it settles just this user.
    const data = encodeSettleRequest({ raceId, resultVersion, publishedAtMs, userIds: [userId] });
    await deadLetterUser(deps.bus, TOPICS.settleRequests, data, userId, reason, originalMessageId, attempt);
  };
}

/** Why a user's settlement goes to the dead letters now, or undefined when the failure should be retried (rethrown). */
function deadLetterReason(e: unknown, attempt: number): string | undefined {
  if (e instanceof SettlementRejected) return `${e.error.code}: ${e.error.message}`;
  if (isInjectedCrash(e) || attempt < MAX_DELIVERY_ATTEMPTS) return undefined;
  // The last delivery the subscription allows: dead-letter this user here, with the error as the
  // reason, rather than nack into the bus's own dead-lettering, which would say only that the
  // deliveries ran out and would take the batch's other users with it.
  return `DELIVERY.ATTEMPTS_EXHAUSTED: attempt ${attempt} of ${MAX_DELIVERY_ATTEMPTS} failed: ${e instanceof Error ? e.message : String(e)}`;
}

async function handleSettleRequest(deps: HandlerDeps, settler: UserSettler, deadLetterSettle: UserDeadLetterer, d: Delivery): Promise<void> {
  const { bus, probe, variants } = deps;
  const received = await receive(deps, d, TOPICS.settleRequests, parseSettleRequest);
  if (received === undefined) return;
  const { m, race } = received;
  // Before any user of the request is touched (the item names them all): a worker that dies here dies on the whole request.
  probe('settle.received', `${m.raceId}/${m.userIds.join(',')}#${d.deliveryAttempt}`);
  // Broken on purpose (checker self-test): the ack leaves before the work is durable.
  if (variants.broken === 'ack-before-commit') d.ack();
  // The users of a batched request are settled concurrently, each in its own transaction: they
  // reach the store together (a group-committing store commits them together) and the delivery
  // is done when its slowest user is, rather than after one queue wait per user.
  const settled = await Promise.all(
    m.userIds.map(async (userId): Promise<BusMessage | undefined> => {
      const item = `${m.raceId}/${userId}#${d.deliveryAttempt}`;
      try {
        return await settler.settle(race, userId, item);
      } catch (e) {
        const reason = deadLetterReason(e, d.deliveryAttempt);
        if (reason === undefined) throw e;
        // One bad user must not block the others of a batch: its own request goes to the dead letters.
        await deadLetterSettle(race, userId, reason, d.deliveryAttempt, d.messageId);
        return undefined;
      }
    }),
  );
  const out = settled.filter((msg): msg is BusMessage => msg !== undefined);
  if (out.length > 0) await bus.publish(TOPICS.settled, out);
  probe('settle.afterPublish', `${m.raceId}/${m.userIds[0] ?? ''}#${d.deliveryAttempt}`);
  d.ack();
}

export function createSettleHandler(deps: HandlerDeps, settler: UserSettler): DeliveryHandler {
  const deadLetterSettle = createUserDeadLetterer(deps);
  return (d) => handleSettleRequest(deps, settler, deadLetterSettle, d);
}
