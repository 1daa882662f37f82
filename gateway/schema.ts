// The gateway's GraphQL schema (graphql-js): the caller's balances, tickets and missed
// notifications, a race, the placeBet mutation, and the two subscriptions. Every resolver reads the
// caller from the context (a verified token), never from arguments: no field takes a user id.
// Subscriptions are served by the gateway's own fast path (subscribe.ts); their resolvers here only
// describe the types, so graphql-js validates subscription documents like any other.
import {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLError,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
  Kind,
  type GraphQLNullableType,
  type ValueNode,
} from 'graphql';
import type { NotificationBody } from '../core/notification.ts';
import type { RaceInfo, Store, StoredTicket, UserAccount } from '../core/ports.ts';
import type { Ticket } from '../core/ticket.ts';
import { graphqlError } from './errors.ts';
import type { GatewayLimits } from './limits.ts';
import { placeBetFor, type BetInput } from './place-bet.ts';

/** A notification with its per-user sequence number (as the store logs it and subscriptions yield it). */
export type SequencedBody = NotificationBody & { readonly seq: number };

/** What the schema reads and writes: the Store's ports (the CLI opens the backend behind them). */
export type GatewayStore = Pick<Store, 'getRace' | 'getOutcome' | 'placeBet' | 'notificationsAfter'> & {
  readonly readback?: Pick<NonNullable<Store['readback']>, 'balances' | 'ticketsOfUser'>;
};

export interface GatewayContext extends Record<PropertyKey, unknown> {
  /** From the verified token only. */
  readonly userId: string;
}

export interface SchemaDeps {
  readonly store: GatewayStore;
  readonly limits: GatewayLimits;
  readonly nowMs: () => number;
}

/** The value a Notification field resolves from: what `notifications` yields and `missedNotifications` lists. */
export interface NotificationValue {
  readonly seq: number;
  readonly raceId: string;
  readonly kind: string;
  readonly publishedAt: number;
  readonly notificationId: string;
  readonly payload: unknown;
}

export function notificationValue(b: SequencedBody): NotificationValue {
  return { seq: b.seq, raceId: b.raceId, kind: b.kind, publishedAt: b.publishedAt, notificationId: b.notificationId, payload: b.payload };
}

const safeInt = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new GraphQLError(`${what} must be a safe integer, got ${JSON.stringify(v)}`);
  return v;
};

/** Money and epoch milliseconds: integers beyond GraphQL Int's 32 bits, never floating point. */
const SafeInt = new GraphQLScalarType<number, number>({
  name: 'SafeInt',
  description: 'An integer up to 2^53 - 1 (yen, medals, milliseconds since the epoch).',
  serialize: (v) => safeInt(v, 'SafeInt'),
  parseValue: (v) => safeInt(v, 'SafeInt'),
  parseLiteral: (node: ValueNode) => {
    if (node.kind !== Kind.INT) throw new GraphQLError('SafeInt must be an integer literal');
    return safeInt(Number(node.value), 'SafeInt');
  },
});

/** Output-only JSON (notification payloads, odds): the value is already plain JSON the gateway made. */
const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'A JSON value (output only).',
  serialize: (v) => v,
  parseValue: () => {
    throw new GraphQLError('JSON is an output type');
  },
  parseLiteral: () => {
    throw new GraphQLError('JSON is an output type');
  },
});

const nn = <T extends GraphQLNullableType>(t: T): GraphQLNonNull<T> => new GraphQLNonNull(t);

const Balances = new GraphQLObjectType<UserAccount>({
  name: 'Balances',
  fields: { userId: { type: nn(GraphQLID) }, cash: { type: nn(SafeInt) }, medals: { type: nn(SafeInt) } },
});

const TicketType = new GraphQLObjectType<Ticket & Partial<Pick<StoredTicket, 'status' | 'payout'>>>({
  name: 'Ticket',
  fields: {
    ticketId: { type: nn(GraphQLID) },
    raceId: { type: nn(GraphQLID) },
    betType: { type: nn(GraphQLString) },
    combination: { type: nn(GraphQLString) },
    stake: { type: nn(SafeInt) },
    currency: { type: nn(GraphQLString) },
    status: { type: nn(GraphQLString), resolve: (t) => t.status ?? 'open' },
    payout: { type: nn(SafeInt), resolve: (t) => t.payout ?? 0 },
  },
});

const RaceType = new GraphQLObjectType<RaceInfo & { open: boolean }>({
  name: 'Race',
  fields: {
    raceId: { type: nn(GraphQLID) },
    sport: { type: nn(GraphQLString) },
    riders: { type: nn(GraphQLInt) },
    closeAt: { type: nn(SafeInt), resolve: (r) => r.closeAtMs },
    postAt: { type: nn(SafeInt), resolve: (r) => r.postAtMs },
    open: { type: nn(GraphQLBoolean), description: 'Betting is open (before the close, no result yet).' },
  },
});

export const NotificationType = new GraphQLObjectType<NotificationValue>({
  name: 'Notification',
  fields: {
    seq: { type: nn(GraphQLInt), description: 'Per-user sequence number: 1, 2, ... for each user.' },
    raceId: { type: nn(GraphQLID) },
    kind: { type: nn(GraphQLString), description: 'settled or ranking.' },
    publishedAt: { type: nn(SafeInt), description: 'When the race result was published (ms since the epoch).' },
    notificationId: { type: nn(GraphQLID), description: 'The dedupe id.' },
    payload: { type: nn(JSONScalar) },
  },
});

/** What the `odds` subscription yields: one frame of a race's live odds. */
export interface OddsFrame {
  readonly raceId: string;
  /** When the frame was sent (ms since the epoch): an odds frame's latency is measured from it. */
  readonly sentAt: number;
  readonly odds: unknown;
}

export const OddsType = new GraphQLObjectType<OddsFrame>({
  name: 'Odds',
  fields: {
    raceId: { type: nn(GraphQLID) },
    sentAt: { type: nn(SafeInt), description: 'When the gateway sent the frame (ms since the epoch).' },
    odds: { type: nn(JSONScalar), description: 'Bet type -> combination -> odds text.' },
  },
});

const Currency = new GraphQLEnumType({ name: 'Currency', values: { cash: { value: 'cash' }, medal: { value: 'medal' } } });

const BetInputType = new GraphQLInputObjectType({
  name: 'BetInput',
  fields: {
    raceId: { type: nn(GraphQLID) },
    betType: { type: nn(GraphQLString) },
    combination: { type: nn(GraphQLString) },
    stake: { type: nn(SafeInt) },
    currency: { type: Currency, defaultValue: 'cash' },
  },
});

const PlaceBetResult = new GraphQLObjectType<{ ticket: Ticket; balances: UserAccount | null }>({
  name: 'PlaceBetResult',
  fields: { ticket: { type: nn(TicketType) }, balances: { type: Balances, description: 'After the bet (null where the store cannot read balances back).' } },
});

function readback(store: GatewayStore): NonNullable<GatewayStore['readback']> {
  if (store.readback === undefined) throw graphqlError('GATEWAY.NOT_SUPPORTED', 'this backend cannot read balances and tickets back');
  return store.readback;
}

async function ticketsOf(store: GatewayStore, userId: string, raceId: string): Promise<readonly StoredTicket[]> {
  return readback(store).ticketsOfUser(userId, raceId);
}

export function createSchema(deps: SchemaDeps): GraphQLSchema {
  const { store, limits } = deps;
  const query = new GraphQLObjectType<unknown, GatewayContext>({
    name: 'Query',
    fields: {
      balances: { type: nn(Balances), resolve: async (_r, _a, ctx) => (await readback(store).balances(ctx.userId)) ?? { userId: ctx.userId, cash: 0, medals: 0 } },
      tickets: {
        type: nn(new GraphQLList(nn(TicketType))),
        description: "The caller's tickets in a race.",
        args: { raceId: { type: nn(GraphQLID) } },
        resolve: (_r, a: { raceId: string }, ctx) => ticketsOf(store, ctx.userId, a.raceId),
      },
      ticket: {
        type: TicketType,
        description: "One of the caller's tickets (null when the caller has no such ticket).",
        args: { raceId: { type: nn(GraphQLID) }, ticketId: { type: nn(GraphQLID) } },
        resolve: async (_r, a: { raceId: string; ticketId: string }, ctx) => (await ticketsOf(store, ctx.userId, a.raceId)).find((t) => t.ticketId === a.ticketId) ?? null,
      },
      race: {
        type: RaceType,
        args: { raceId: { type: nn(GraphQLID) } },
        resolve: async (_r, a: { raceId: string }) => {
          const race = await store.getRace(a.raceId);
          if (race === undefined) return null;
          const open = deps.nowMs() < race.closeAtMs && (await store.getOutcome(a.raceId)) === undefined;
          return { ...race, open };
        },
      },
      missedNotifications: {
        type: nn(new GraphQLList(nn(NotificationType))),
        description: "The caller's notifications after a sequence number, in order.",
        args: { afterSeq: { type: nn(GraphQLInt) }, limit: { type: GraphQLInt, defaultValue: 100 } },
        resolve: async (_r, a: { afterSeq: number; limit: number }, ctx) => {
          if (a.afterSeq < 0) throw graphqlError('GATEWAY.LIMIT_INVALID', `afterSeq must be 0 or more, got ${a.afterSeq}`, 'afterSeq');
          if (a.limit < 1 || a.limit > limits.maxMissedPage) throw graphqlError('GATEWAY.LIMIT_INVALID', `limit must be 1..${limits.maxMissedPage}, got ${a.limit}`, 'limit');
          return (await store.notificationsAfter(ctx.userId, a.afterSeq, a.limit)).map(notificationValue);
        },
      },
    },
  });
  const mutation = new GraphQLObjectType<unknown, GatewayContext>({
    name: 'Mutation',
    fields: {
      placeBet: {
        type: nn(PlaceBetResult),
        description: 'Places a bet; the same idempotency key returns the same ticket, and nothing is debited on any error.',
        args: { input: { type: nn(BetInputType) }, idempotencyKey: { type: nn(GraphQLString) } },
        resolve: async (_r, a: { input: BetInput; idempotencyKey: string }, ctx) => {
          const r = await placeBetFor(deps, ctx.userId, a.input, a.idempotencyKey);
          if (!r.ok) throw graphqlError(r.error.code, r.error.message, r.error.path);
          const balances = store.readback === undefined ? null : ((await store.readback.balances(ctx.userId)) ?? null);
          return { ticket: r.value, balances };
        },
      },
    },
  });
  const overWs = (): never => {
    throw graphqlError('GATEWAY.NOT_SUPPORTED', 'subscriptions are served over graphql-transport-ws');
  };
  const subscription = new GraphQLObjectType<unknown, GatewayContext>({
    name: 'Subscription',
    fields: {
      notifications: {
        type: nn(NotificationType),
        description: "The caller's notifications: first those after afterSeq from the store, then live ones, in order, once.",
        args: { afterSeq: { type: GraphQLInt } },
        subscribe: overWs,
      },
      odds: { type: nn(OddsType), description: "A race's live odds while betting is open.", args: { raceId: { type: nn(GraphQLID) } }, subscribe: overWs },
    },
  });
  return new GraphQLSchema({ query, mutation, subscription });
}
