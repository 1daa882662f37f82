// A minimal graphql-ws server for the load drivers' own tests: the notifications and odds
// subscriptions of the gateway's schema, token auth in connection_init, per-user sequence numbers
// with replay after `afterSeq`, and hooks the real gateway must never have: a frame pushed with any
// sequence (a duplicate, a gap) so the swarm's counting is shown to fail when delivery does.
// Unbounded per-subscription queues: it is a test double for the drivers, not a delivery policy.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLFloat, GraphQLID, GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, GraphQLScalarType } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { jwtVerify, SignJWT } from 'jose';
import { WebSocketServer } from 'ws';

const SECRET = new TextEncoder().encode('mini-gateway-test-secret');

export async function miniToken(userId: string): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setExpirationTime('1h').sign(SECRET);
}

export interface MiniNotification {
  readonly seq: number;
  readonly raceId: string;
  readonly kind: string;
  readonly publishedAt: number;
  readonly payload: unknown;
}

interface Sub {
  readonly push: (v: unknown) => void;
}

export interface MiniGateway {
  readonly wsUrl: string;
  /** Appends a notification to the user's log (next sequence) and sends it to the user's subscriptions. */
  deliver(userId: string, raceId: string, publishedAt: number): MiniNotification;
  /** Sends a frame with this exact sequence without logging it: a duplicate or a jump. */
  pushRaw(userId: string, n: MiniNotification): void;
  /** Sends one odds frame of about `bytes` to every watcher of the race. */
  publishOdds(raceId: string, bytes: number): void;
  /** Open WebSocket connections, and the bytes the server has queued on them (ws bufferedAmount). */
  sockets(): { open: number; bufferedBytes: number[] };
  lastSeq(userId: string): number;
  close(): Promise<void>;
}

const JSONScalar = new GraphQLScalarType({ name: 'JSON', serialize: (v) => v });

function queueIterator<T>(subs: Set<Sub>, initial: readonly T[]): AsyncIterableIterator<T> {
  const items: T[] = [...initial];
  let wake: (() => void) | undefined;
  let done = false;
  const sub: Sub = { push: (v) => { items.push(v as T); wake?.(); } };
  subs.add(sub);
  return {
    [Symbol.asyncIterator]() { return this; },
    async next() {
      while (items.length === 0 && !done) await new Promise<void>((r) => (wake = r));
      if (done) return { done: true, value: undefined };
      return { done: false, value: items.shift() as T };
    },
    async return() {
      done = true;
      subs.delete(sub);
      wake?.();
      return { done: true, value: undefined };
    },
  };
}

export async function startMiniGateway(): Promise<MiniGateway> {
  const logs = new Map<string, MiniNotification[]>();
  const userSubs = new Map<string, Set<Sub>>();
  const oddsSubs = new Map<string, Set<Sub>>();
  const subsOf = (m: Map<string, Set<Sub>>, k: string) => m.get(k) ?? m.set(k, new Set()).get(k) as Set<Sub>;
  const Notification = new GraphQLObjectType({
    name: 'Notification',
    fields: { seq: { type: GraphQLInt }, raceId: { type: GraphQLID }, kind: { type: GraphQLString }, publishedAt: { type: GraphQLFloat }, payload: { type: JSONScalar } },
  });
  const Odds = new GraphQLObjectType({ name: 'Odds', fields: { raceId: { type: GraphQLID }, sentAt: { type: GraphQLFloat }, odds: { type: JSONScalar } } });
  const schema = new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString, resolve: () => 'ok' } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        notifications: {
          type: Notification,
          args: { afterSeq: { type: GraphQLInt } },
          subscribe: (_s, args: { afterSeq?: number | null }, ctx: { userId: string }) =>
            queueIterator(subsOf(userSubs, ctx.userId), (logs.get(ctx.userId) ?? []).filter((n) => n.seq > (args.afterSeq ?? 0)).map((n) => ({ notifications: n }))),
        },
        odds: { type: Odds, args: { raceId: { type: new GraphQLNonNull(GraphQLID) } }, subscribe: (_s, args: { raceId: string }) => queueIterator(subsOf(oddsSubs, args.raceId), []) },
      },
    }),
  });
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const disposable = useServer<{ token?: string }, { userId?: string }>({
    schema,
    onConnect: async (ctx) => {
      try {
        const { payload } = await jwtVerify(String(ctx.connectionParams?.token ?? ''), SECRET);
        ctx.extra.userId = payload.sub;
        return true;
      } catch {
        return false;
      }
    },
    context: (ctx) => ({ userId: ctx.extra.userId }),
  }, wss);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    deliver(userId, raceId, publishedAt) {
      const log = logs.get(userId) ?? logs.set(userId, []).get(userId) as MiniNotification[];
      const n: MiniNotification = { seq: log.length + 1, raceId, kind: 'settled', publishedAt, payload: { kind: 'settled', raceId } };
      log.push(n);
      for (const s of subsOf(userSubs, userId)) s.push({ notifications: n });
      return n;
    },
    pushRaw(userId, n) {
      for (const s of subsOf(userSubs, userId)) s.push({ notifications: n });
    },
    publishOdds(raceId, bytes) {
      const frame = { odds: { raceId, sentAt: Date.now(), odds: { pad: 'x'.repeat(Math.max(0, bytes - 80)) } } };
      for (const s of subsOf(oddsSubs, raceId)) s.push(frame);
    },
    sockets: () => ({ open: wss.clients.size, bufferedBytes: [...wss.clients].map((c) => c.bufferedAmount) }),
    lastSeq: (userId) => logs.get(userId)?.length ?? 0,
    async close() {
      await disposable.dispose();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
