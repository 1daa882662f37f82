// Fan-out: for a published race result, page through the users who still hold open tickets and
// publish settle requests in batches (per-user or user-batch:N), or settle them all right here
// (single-worker). Before publishing anything it counts the users and records the count once:
// that count is the ranking barrier, and a redelivered fan-out (which finds fewer open users,
// since some are settled by then) cannot shrink it.
import type { BusMessage, Delivery, DeliveryHandler } from '../core/ports.ts';
import { TOPICS } from '../core/topology.ts';
import { storeMethod, type HandlerDeps } from './context.ts';
import type { RaceContext } from './race-cache.ts';
import { receive } from './receive.ts';
import { allUserPages } from './user-pages.ts';
import { createUserDeadLetterer, SettlementRejected, type UserDeadLetterer, type UserSettler } from './settle.ts';
import { LIMITS } from './settings.ts';
import { encodeSettleRequest, parseRaceResultsMessage } from './wire.ts';

/** Every user with open tickets in the race, page by page (ascending user id). */
async function* openUserPages(deps: HandlerDeps, raceId: string): AsyncGenerator<readonly string[]> {
  let after: string | undefined;
  for (;;) {
    const page = await deps.store.pageUsersWithOpenTickets(raceId, after, LIMITS.fanoutPageUsers);
    if (page.length === 0) return;
    yield page;
    if (page.length < LIMITS.fanoutPageUsers) return;
    after = page[page.length - 1];
  }
}

async function recordBarrier(deps: HandlerDeps, raceId: string): Promise<void> {
  const fanoutUsers = storeMethod(deps.store, 'fanoutUsers');
  if ((await fanoutUsers(raceId)) !== undefined) return;
  let users = 0;
  if (deps.store.countUsersWithOpenTickets !== undefined) users = await storeMethod(deps.store, 'countUsersWithOpenTickets')(raceId);
  else for await (const page of openUserPages(deps, raceId)) users += page.length;
  await storeMethod(deps.store, 'recordFanoutUsers')(raceId, users);
}

function requestsOf(race: RaceContext, users: readonly string[], usersPerMessage: number): BusMessage[] {
  const { raceId, resultVersion, publishedAtMs } = race.outcome;
  const out: BusMessage[] = [];
  for (let i = 0; i < users.length; i += usersPerMessage) {
    out.push({ data: encodeSettleRequest({ raceId, resultVersion, publishedAtMs, userIds: users.slice(i, i + usersPerMessage) }) });
  }
  return out;
}

/** Publishes in calls of at most LIMITS.publishBatchMessages, all under way at once (order across calls is not kept, and no reader needs it). */
async function publishBatched(deps: HandlerDeps, topic: string, messages: readonly BusMessage[]): Promise<void> {
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < messages.length; i += LIMITS.publishBatchMessages) calls.push(deps.bus.publish(topic, messages.slice(i, i + LIMITS.publishBatchMessages)));
  await Promise.all(calls);
}

async function settleAllHere(deps: HandlerDeps, settler: UserSettler, deadLetterSettle: UserDeadLetterer, race: RaceContext, users: readonly string[], attempt: number): Promise<void> {
  const out: BusMessage[] = [];
  for (const userId of users) {
    try {
      const msg = await settler.settle(race, userId, `${race.outcome.raceId}/${userId}#${attempt}`);
      if (msg !== undefined) out.push(msg);
    } catch (e) {
      if (!(e instanceof SettlementRejected)) throw e;
      // A real settle request of this user goes to the dead letters: re-driven, the settle stage settles it.
      await deadLetterSettle(race, userId, `${e.error.code}: ${e.error.message}`, attempt);
    }
  }
  await publishBatched(deps, TOPICS.settled, out);
}

async function handleRaceResult(deps: HandlerDeps, settler: UserSettler, deadLetterSettle: UserDeadLetterer, d: Delivery): Promise<void> {
  const { variants, probe } = deps;
  const received = await receive(deps, d, TOPICS.raceResults, parseRaceResultsMessage);
  if (received === undefined) return;
  const { race } = received;
  const raceId = race.outcome.raceId;
  const fanout = variants.fanout;
  const pages = fanout.kind === 'single-worker' ? allUserPages(deps.store, raceId) : openUserPages(deps, raceId);
  // The first page is read while the users are counted: both reads see the race before this
  // delivery publishes anything, so they agree, and the first settle request leaves one read
  // earlier (on the emulator each is a few hundred milliseconds at 10,000 users).
  const first = pages.next();
  first.catch(() => undefined); // awaited below; a failed count must not leave it unhandled
  await recordBarrier(deps, raceId);
  probe('fanout.afterCount', `${raceId}#${d.deliveryAttempt}`);
  for (let next = await first; next.done !== true; next = await pages.next()) {
    const page = next.value;
    if (fanout.kind === 'single-worker') await settleAllHere(deps, settler, deadLetterSettle, race, page, d.deliveryAttempt);
    else await publishBatched(deps, TOPICS.settleRequests, requestsOf(race, page, fanout.kind === 'per-user' ? 1 : fanout.usersPerMessage));
    probe('fanout.afterPage', `${raceId}/${page[0] ?? ''}#${d.deliveryAttempt}`);
    // Yield between pages so settle workers run alongside: the backlog (and the heap) stays a
    // few pages deep instead of holding every user's request at once.
    await deps.clock.sleep(0);
  }
  d.ack();
}

export function createFanoutHandler(deps: HandlerDeps, settler: UserSettler): DeliveryHandler {
  const deadLetterSettle = createUserDeadLetterer(deps);
  return (d) => handleRaceResult(deps, settler, deadLetterSettle, d);
}
