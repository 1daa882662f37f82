// graphql-transport-ws for the gateway (graphql-ws's `useServer` on ws): the token in
// `connection_init`, the per-connection subscription limit, depth and cost before execution, and
// the subscriptions themselves, each a policy queue from the dispatcher (subscribe.ts projects
// its frames). Refusals close with the protocol's codes or the gateway's own (limits.ts CLOSE).
import type { ExecutionArgs, GraphQLSchema } from 'graphql';
import type { ServerOptions } from 'graphql-ws';
import type { Extra } from 'graphql-ws/use/ws';
import { GraphQLError } from 'graphql';
import type { WebSocket } from 'ws';
import { createTokenVerifier } from './auth.ts';
import type { SocketPort } from './contracts.ts';
import type { Dispatcher } from './dispatcher.ts';
import { graphqlError } from './errors.ts';
import { checkedDocument, isErrors } from './operations.ts';
import { CLOSE, type GatewayLimits } from './limits.ts';
import type { GatewayStore } from './schema.ts';
import { closeWithGrace, socketPortOf, type BufferWatch } from './socket-port.ts';
import { sequenceNotifications, storedNotificationFrame } from './recovery.ts';
import { createFastSubscribe, queueSource, type OpenedSource } from './subscribe.ts';

export const GRAPHQL_PATH = '/graphql';

export interface WsDeps {
  readonly schema: GraphQLSchema;
  readonly secret: Uint8Array;
  readonly limits: GatewayLimits;
  readonly store: GatewayStore;
  readonly dispatcher: Dispatcher;
  readonly watch: BufferWatch;
  readonly counters: { readonly closedByCode: Record<string, number> };
  /** GatewayOptions.recoveryIdleCheckMs. */
  readonly recoveryIdleCheckMs?: number;
}

/** One authenticated connection. */
interface Connection {
  readonly id: number;
  readonly userId: string;
  readonly port: SocketPort;
}

/** The execution context of an operation over WebSocket: the caller and, for subscriptions, its socket. */
export interface WsContext extends Record<PropertyKey, unknown> {
  readonly userId: string;
  /** `<connection id>:<subscription id>`: unique per subscription. */
  readonly subscriptionKey: string;
  readonly port: SocketPort;
}

type Hooks = Pick<ServerOptions<Record<string, unknown> | undefined, Extra>, 'onConnect' | 'onSubscribe' | 'subscribe' | 'onClose'>;

/** Races remembered as existing (races are never deleted), so 10,000 odds subscriptions read each race once. */
const KNOWN_RACES_MAX = 4_096;

export function createWsHooks(deps: WsDeps): { serverOptions: Hooks; watchedRaces(): Iterable<string> } {
  const { schema, limits, dispatcher } = deps;
  const verify = createTokenVerifier(deps.secret);
  const connections = new WeakMap<WebSocket, Connection>();
  const watched = new Map<string, number>();
  const knownRaces = new Set<string>();
  let nextConnection = 1;

  const refuse = (ws: WebSocket, code: number, reason: string): void => {
    deps.counters.closedByCode[code] = (deps.counters.closedByCode[code] ?? 0) + 1;
    closeWithGrace(ws, code, reason);
  };

  const raceExists = async (raceId: string): Promise<boolean> => {
    if (knownRaces.has(raceId)) return true;
    if ((await deps.store.getRace(raceId)) === undefined) return false;
    if (knownRaces.size >= KNOWN_RACES_MAX) knownRaces.clear();
    knownRaces.add(raceId);
    return true;
  };

  const open = async (field: 'notifications' | 'odds', args: Readonly<Record<string, unknown>>, context: unknown): Promise<OpenedSource | GraphQLError> => {
    const ctx = context as WsContext;
    const info = { id: ctx.subscriptionKey, userId: ctx.userId, socket: ctx.port };
    if (field === 'notifications') {
      const afterSeq = args['afterSeq'];
      if (typeof afterSeq === 'number' && afterSeq < 0) return graphqlError('GATEWAY.LIMIT_INVALID', `afterSeq must be 0 or more, got ${afterSeq}`, 'afterSeq');
      // Registered before the Store is read, so nothing published meanwhile falls between the two;
      // the sequencer drops what both hold and fills gaps the policy's drops leave.
      const queue = dispatcher.add(info);
      const feed = sequenceNotifications(queue, {
        userId: ctx.userId,
        afterSeq: typeof afterSeq === 'number' ? afterSeq : undefined,
        store: deps.store,
        frameOf: storedNotificationFrame,
        ...(deps.recoveryIdleCheckMs === undefined ? {} : { idleCheckMs: deps.recoveryIdleCheckMs }),
      });
      return queueSource(queue, () => dispatcher.remove(info.id), feed);
    }
    const raceId = args['raceId'] as string;
    if (!(await raceExists(raceId))) return graphqlError('RACE.UNKNOWN', `race ${raceId} is not known`, 'raceId');
    const queue = dispatcher.add(info, raceId);
    watched.set(raceId, (watched.get(raceId) ?? 0) + 1);
    return queueSource(queue, () => {
      dispatcher.remove(info.id);
      const n = (watched.get(raceId) ?? 1) - 1;
      if (n <= 0) watched.delete(raceId);
      else watched.set(raceId, n);
    });
  };

  const serverOptions: Hooks = {
    async onConnect(ctx) {
      const ws = ctx.extra.socket;
      const token = (ctx.connectionParams as { token?: unknown } | undefined)?.token;
      const auth = await verify(token);
      if (!auth.ok) {
        refuse(ws, CLOSE.unauthorized, auth.error.code);
        return false;
      }
      connections.set(ws, { id: nextConnection++, userId: auth.value.userId, port: socketPortOf(ws, deps.watch) });
      return true;
    },
    onSubscribe(ctx, id, payload) {
      const ws = ctx.extra.socket;
      const conn = connections.get(ws);
      if (conn === undefined) return [graphqlError('GATEWAY.UNAUTHENTICATED', 'the connection is not authenticated')];
      // graphql-ws has already reserved this id in ctx.subscriptions.
      if (Object.keys(ctx.subscriptions).length > limits.maxSubscriptionsPerConnection) {
        refuse(ws, CLOSE.tooManySubscriptions, 'GATEWAY.TOO_MANY_SUBSCRIPTIONS');
        return [graphqlError('GATEWAY.TOO_MANY_SUBSCRIPTIONS', `a connection may hold ${limits.maxSubscriptionsPerConnection} subscriptions`)];
      }
      const document = checkedDocument(schema, payload.query, payload.operationName, payload.variables ?? {}, limits);
      if (isErrors(document)) return [...document];
      const contextValue: WsContext = { userId: conn.userId, subscriptionKey: `${conn.id}:${id}`, port: conn.port };
      const args: ExecutionArgs = { schema, document, operationName: payload.operationName ?? null, variableValues: payload.variables ?? null, contextValue };
      return args;
    },
    subscribe: createFastSubscribe(open),
  };
  return { serverOptions, watchedRaces: () => watched.keys() };
}
