// Settle: one user's settlement transaction per user named in a settle request, exactly once
// however often the request is delivered (the Store's settlement marker), then `settled` is
// published. A redelivery finds the marker and publishes `settled` again from the stored
// settlement, so a crash between commit and publish is recovered; post-settle is idempotent.
// Notify `outbox`: the `settled` message is written inside the settlement transaction and a relay
// publishes it, so no crash window exists at all.
import type { BusMessage, Delivery, DeliveryHandler, OutboxMessage, UserRaceTickets } from '../core/ports.ts';
import type { DomainError } from '../core/result.ts';
import type { Settlement } from '../core/settlement-record.ts';
import { hitsOfType, settleUserTickets } from '../core/settlement.ts';
import { TOPICS } from '../core/topology.ts';
import { storeMethod, type HandlerDeps } from './context.ts';
import { deadLetter } from './dead-letter.ts';
import type { OutboxRelay } from './outbox-relay.ts';
import type { RaceContext } from './race-cache.ts';
import { encodeSettled, parseSettleRequest } from './wire.ts';

/** The pure settlement refused the user's tickets: poison data, not a transient failure. */
export class SettlementRejected extends Error {
  override readonly name = 'SettlementRejected';
  readonly error: DomainError;
  constructor(error: DomainError) {
    super(`${error.code}: ${error.message}`);
    this.error = error;
  }
}

export function settledMessage(s: Settlement, publishedAtMs: number): BusMessage {
  return {
    data: encodeSettled({
      raceId: s.raceId,
      userId: s.userId,
      settlementId: s.settlementId,
      resultVersion: s.resultVersion,
      cash: s.cashDelta,
      medals: s.medalDelta,
      hits: s.hits,
      trifectaHits: hitsOfType(s, 'trifecta'),
      publishedAtMs,
    }),
  };
}

export interface UserSettler {
  /** Settles one user; returns the `settled` message to publish (after-commit), if any. */
  settle(race: RaceContext, userId: string, item: string): Promise<BusMessage | undefined>;
}

export function createUserSettler(deps: HandlerDeps, relay: OutboxRelay | undefined): UserSettler {
  const { store, variants, probe, counters } = deps;
  const getSettlement = variants.notify === 'after-commit' ? storeMethod(store, 'getSettlement') : undefined;
  return {
    async settle(race, userId, item) {
      const { outcome, table, field } = race;
      const publishedAtMs = outcome.publishedAtMs;
      const compute = (input: UserRaceTickets): Settlement => {
        const r = settleUserTickets({ raceId: input.raceId, userId: input.userId, resultVersion: outcome.resultVersion, tickets: input.tickets, table, field });
        if (!r.ok) throw new SettlementRejected(r.error);
        return r.value;
      };
      const outbox =
        variants.notify === 'outbox'
          ? (s: Settlement): readonly OutboxMessage[] => [{ outboxId: `outbox:${s.settlementId}`, topic: TOPICS.settled, data: settledMessage(s, publishedAtMs).data }]
          : undefined;
      probe('settle.beforeCommit', item);
      const result = await store.settleUser(outcome.raceId, userId, outcome.resultVersion, compute, outbox);
      probe('settle.afterCommit', item);
      if (result.kind === 'applied') counters.settlementsApplied++;
      if (result.kind === 'duplicate') counters.settlementsDuplicate++;
      if (relay !== undefined) {
        // Kicked on duplicates too: the delivery that committed may have crashed before kicking.
        relay.kick();
        return undefined;
      }
      if (result.kind === 'applied') return settledMessage(result.settlement, publishedAtMs);
      if (result.kind === 'duplicate' && getSettlement !== undefined) {
        const stored = await getSettlement(outcome.raceId, userId);
        if (stored === undefined) throw new Error(`invariant violated: settlement marker of ${userId} in ${outcome.raceId} exists but the settlement does not`);
        counters.settledRepublished++;
        return settledMessage(stored, publishedAtMs);
      }
      return undefined;
    },
  };
}

async function handleSettleRequest(deps: HandlerDeps, settler: UserSettler, d: Delivery): Promise<void> {
  const { bus, probe, races, counters, variants } = deps;
  const parsed = parseSettleRequest(d.data);
  if (!parsed.ok) {
    counters.deadLettered++;
    return deadLetter(bus, TOPICS.settleRequests, d, `${parsed.error.code}: ${parsed.error.message}`);
  }
  const m = parsed.value;
  const lookup = await races.lookup(m.raceId, m.resultVersion);
  if (lookup.kind === 'unknown') {
    counters.deadLettered++;
    return deadLetter(bus, TOPICS.settleRequests, d, `RACE.UNKNOWN: ${lookup.reason}`);
  }
  if (lookup.kind === 'stale') {
    counters.staleMessages++;
    d.ack(); // a newer result version has its own fan-out
    return;
  }
  // Broken on purpose (checker self-test): the ack leaves before the work is durable.
  if (variants.broken === 'ack-before-commit') d.ack();
  const out: BusMessage[] = [];
  for (const userId of m.userIds) {
    const item = `${m.raceId}/${userId}#${d.deliveryAttempt}`;
    try {
      const msg = await settler.settle(lookup.context, userId, item);
      if (msg !== undefined) out.push(msg);
    } catch (e) {
      if (!(e instanceof SettlementRejected)) throw e;
      counters.deadLettered++;
      // One bad user must not block the others of a batch: its own request goes to the dead letters.
      await bus.publish(`${TOPICS.settleRequests}-dead-letter`, [
        { data: d.data, attributes: { reason: `${e.error.code}: ${e.error.message}`.slice(0, 512), userId, originalMessageId: d.messageId } },
      ]);
    }
  }
  if (out.length > 0) await bus.publish(TOPICS.settled, out);
  probe('settle.afterPublish', `${m.raceId}/${m.userIds[0] ?? ''}#${d.deliveryAttempt}`);
  d.ack();
}

export function createSettleHandler(deps: HandlerDeps, settler: UserSettler): DeliveryHandler {
  return (d) => handleSettleRequest(deps, settler, d);
}
