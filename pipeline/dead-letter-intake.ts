// The dead-letter intake: a stage with its own subscription on the dead-letter topics of
// `settle-requests` and `settled` (core/topology.ts DEAD_LETTER_INTAKE). A message gets there two
// ways: a handler refused it or gave up on it, with a `reason` attribute (settle.ts,
// post-settle.ts), or the bus forwarded it itself after its last delivery attempt crashed or its
// lease expired, with no reason of ours. Either way, every user the message names is marked
// dead-lettered (terminal for the ranking barrier) with the reason, or
// `DELIVERY.ATTEMPTS_EXHAUSTED: <n> deliveries` when the bus forwarded it, and the shared ranking
// trigger runs, so the race is ranked when this completes the barrier. This is the one place that
// marks users dead-lettered: handlers only publish the dead letter.
// Marking is idempotent (the first reason is kept) and a user also settled or post-settled is
// counted terminal once (Store.markDeadLettered), so duplicates and redeliveries change nothing.
// Dead letters that name no user of a recorded race (malformed, unknown race, a version never
// recorded, a forged user) are counted and acked, never retried in a loop; those forwarded from
// the notify subscription are acked too: a lost notification does not hold the ranking back.
import type { Delivery, DeliveryHandler } from '../core/ports.ts';
import type { Result } from '../core/result.ts';
import { DEAD_LETTER_ATTRIBUTES, SUBSCRIPTIONS, TOPICS } from '../core/topology.ts';
import { storeMethod, type HandlerDeps } from './context.ts';
import { createRankingTrigger, type RankingTrigger } from './ranking.ts';
import { SETTLED_REFUSALS } from './settled-check.ts';
import { parseSettled, parseSettleRequest } from './wire.ts';

/** What the intake needs of a dead-lettered message: its race, result version and users. */
interface Named {
  readonly raceId: string;
  readonly resultVersion: number;
  readonly userIds: readonly string[];
}

const PARSERS: Readonly<Record<string, (data: string) => Result<Named>>> = {
  [TOPICS.settleRequests]: (data) => parseSettleRequest(data),
  [TOPICS.settled]: (data) => {
    const m = parseSettled(data);
    return m.ok ? { ok: true, value: { raceId: m.value.raceId, resultVersion: m.value.resultVersion, userIds: [m.value.userId] } } : m;
  },
};

/** The subscription whose messages hold a `settled` user back from the barrier (not notify's). */
const BARRIER_SOURCE: Readonly<Record<string, string>> = {
  [TOPICS.settleRequests]: SUBSCRIPTIONS.settle.name,
  [TOPICS.settled]: SUBSCRIPTIONS.postSettle.name,
};

/** `projects/p/subscriptions/name` (Pub/Sub) or `name` (memory bus) -> `name`. */
function shortName(subscription: string): string {
  return subscription.slice(subscription.lastIndexOf('/') + 1);
}

/** The pipeline's reason, or the bus's own forwarding told as an exhausted delivery budget. */
export function reasonOf(attributes: Readonly<Record<string, string>>): string {
  const ours = attributes['reason'];
  if (ours !== undefined && ours.trim() !== '') return ours;
  const count = attributes[DEAD_LETTER_ATTRIBUTES.deliveryCount];
  const from = attributes[DEAD_LETTER_ATTRIBUTES.sourceSubscription];
  return `DELIVERY.ATTEMPTS_EXHAUSTED: ${count ?? 'all'} deliveries${from === undefined ? '' : ` on ${shortName(from)}`} without an ack (crashed or lease expired every time)`;
}

/** A dead letter the intake takes nothing from: counted and acked (the audit subscription still lists it). */
function ignore(deps: HandlerDeps, d: Delivery): void {
  deps.counters.deadLettersIgnored++;
  d.ack();
}

function isUnknownUser(e: unknown): boolean {
  return e instanceof Error && e.message.includes('[USER.UNKNOWN]');
}

async function takeIn(deps: HandlerDeps, rankIfComplete: RankingTrigger, topic: string, d: Delivery): Promise<void> {
  const parse = PARSERS[topic];
  if (parse === undefined) throw new Error(`invariant violated: no dead-letter intake for ${topic}`);
  const parsed = parse(d.data);
  if (!parsed.ok) return ignore(deps, d); // malformed: it names nobody
  const source = d.attributes[DEAD_LETTER_ATTRIBUTES.sourceSubscription];
  // Forwarded from a subscription the barrier does not wait for (notify's).
  if (source !== undefined && shortName(source) !== BARRIER_SOURCE[topic]) return ignore(deps, d);
  const m = parsed.value;
  const lookup = await deps.races.lookup(m.raceId, m.resultVersion);
  // Poison about no race of ours (unknown, or a version never recorded): the race's own requests are apart.
  if (lookup.kind !== 'ok') return ignore(deps, d);
  // Broken on purpose (checker self-test): the barrier never hears of the dead-lettered users.
  if (deps.variants.broken === 'dead-letters-not-terminal') return void d.ack();
  const reason = reasonOf(d.attributes);
  // A `settled` message the store contradicted says nothing about its user's own settlement.
  if (SETTLED_REFUSALS.some((code) => reason.startsWith(`${code}:`))) return ignore(deps, d);
  const mark = storeMethod(deps.store, 'markDeadLettered');
  let terminal = 0;
  for (const userId of m.userIds) {
    try {
      terminal = Math.max(terminal, await mark(m.raceId, userId, reason));
    } catch (e) {
      if (!isUnknownUser(e)) throw e;
      deps.counters.deadLettersIgnored++;
    }
  }
  deps.counters.deadLettersTakenIn++;
  if (terminal > 0) {
    const item = `${m.raceId}/dead-letter:${d.messageId}#${d.deliveryAttempt}`;
    await rankIfComplete(lookup.context, terminal, { id: `${m.raceId}/dead-letter:${d.messageId}`, attempt: d.deliveryAttempt }, item, false);
  }
  d.ack();
}

/** The intake handler of one source topic's dead letters (`settle-requests` or `settled`). */
export function createDeadLetterIntakeHandler(deps: HandlerDeps, topic: typeof TOPICS.settleRequests | typeof TOPICS.settled): DeliveryHandler {
  const rankIfComplete = createRankingTrigger(deps);
  return (d) => takeIn(deps, rankIfComplete, topic, d);
}
