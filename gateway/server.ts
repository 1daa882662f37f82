// The notification gateway: one HTTP server on 127.0.0.1 serving GraphQL over HTTP (graphql-http,
// POST /graphql), graphql-transport-ws (graphql-ws on ws, same path and port), GET /metrics and
// GET /healthz. Frames reach subscribers through the delivery policy's dispatcher:
//   deliver(body) / publishOdds(frame) -> dispatcher -> the policy's queue per subscription ->
//   graphql-ws (next frame once the previous send finished) -> socket.
// A backend reaches the gateway only as ports (GatewayStore) and an intake the caller opens.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { secretKey } from './auth.ts';
import type { DeliveryPolicy, IntakeMessage, NotificationIntake, Outbound } from './contracts.ts';
import { createDispatcher, type Dispatcher } from './dispatcher.ts';
import { createHttpHandler } from './http.ts';
import { rawJsonReplacer, sendRawJson } from './raw-json.ts';
import { CLOSE, resolveLimits, type GatewayLimits } from './limits.ts';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.ts';
import { DEFAULT_POLICY_SPEC, parsePolicy } from './policies/index.ts';
import { createSchema, notificationValue, type GatewayStore, type OddsFrame, type SequencedBody } from './schema.ts';
import { closeWithGrace, createBufferWatch } from './socket-port.ts';
import { createWsHooks, GRAPHQL_PATH } from './ws.ts';

export interface GatewayOptions {
  /** Balances, tickets, races, bets and the notification log (the CLI opens the backend behind it). */
  readonly store: GatewayStore;
  /** The HS256 key tokens are signed with (at least 32 bytes). */
  readonly secret: Uint8Array | string;
  /** A delivery policy or its spec (default per-subscriber:256:evict-after:1000). */
  readonly policy?: DeliveryPolicy | string;
  /** 0 (default): any free port. The gateway listens on 127.0.0.1 only. */
  readonly port?: number;
  readonly limits?: Partial<GatewayLimits>;
  /** Where notifications come from; started with the gateway, closed with it. Without one, callers use `deliver`. */
  readonly intake?: NotificationIntake;
  readonly nowMs?: () => number;
  /**
   * notifications(afterSeq): when a subscription's live feed has been quiet this long, read the
   * store after its last number anyway (a lossy policy that dropped a user's latest notification
   * leaves no gap for a later frame to show). Off by default: it costs a store read per quiet
   * subscription per period.
   */
  readonly recoveryIdleCheckMs?: number;
  /** One line per event worth a person's attention (policy drops, intake errors). Default stderr. */
  readonly log?: (line: string) => void;
}

export interface GatewayStats {
  readonly connections: number;
  readonly subscriptions: number;
  readonly notificationsIn: number;
  readonly oddsFramesIn: number;
  /** Connections refused at the limit, frames over the size limit, and so on, by close code. */
  readonly closedByCode: Readonly<Record<string, number>>;
}

export interface GatewayHandle {
  readonly port: number;
  /** http://127.0.0.1:PORT/graphql */
  readonly url: string;
  /** ws://127.0.0.1:PORT/graphql */
  readonly wsUrl: string;
  readonly policy: DeliveryPolicy;
  /** A notification entering the gateway (what intakes call); `receivedAtMs` starts the delivery clock. */
  deliver(body: SequencedBody, receivedAtMs: number): void | Promise<void>;
  /** One odds frame of a race, serialised size `bytes`, to every watcher of the race. */
  publishOdds(raceId: string, payload: OddsFrame, bytes: number): void;
  /** Races with at least one odds subscription now (the odds broadcaster computes only those). */
  watchedRaces(): Iterable<string>;
  metricsText(): Promise<string>;
  stats(): GatewayStats;
  close(): Promise<void>;
}

function policyOf(given: DeliveryPolicy | string | undefined): DeliveryPolicy {
  if (given !== undefined && typeof given !== 'string') return given;
  const parsed = parsePolicy(given ?? DEFAULT_POLICY_SPEC);
  if (!parsed.ok) throw new Error(`${parsed.error.code}: ${parsed.error.message}`);
  return parsed.value;
}

interface Counters {
  notificationsIn: number;
  oddsFramesIn: number;
  readonly closedByCode: Record<string, number>;
}

/** Accepts a WebSocket upgrade on /graphql unless the instance is full (then: accepted and closed 4503, so the client sees why). */
function upgradeHandler(wss: WebSocketServer, limits: GatewayLimits, counters: Counters): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    if ((req.url ?? '').split('?')[0] !== GRAPHQL_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      if (wss.clients.size > limits.maxConnections) {
        counters.closedByCode[CLOSE.tooManyConnections] = (counters.closedByCode[CLOSE.tooManyConnections] ?? 0) + 1;
        closeWithGrace(ws, CLOSE.tooManyConnections, 'GATEWAY.TOO_MANY_CONNECTIONS');
        return;
      }
      quietProtocolErrors(ws, counters);
      sendRawJson(ws);
      wss.emit('connection', ws, req);
    });
  };
}

/**
 * A client's protocol error (a frame over maxPayload, bad UTF-8, a reserved opcode) is answered by
 * ws itself with its close code (1009, 1007, 1002) before it emits 'error'; graphql-ws would then
 * log a stack trace per bad frame, which a hostile client could repeat at will. Such errors are
 * counted by close code instead; every other error goes on to graphql-ws as before.
 */
function quietProtocolErrors(ws: WebSocket, counters: Counters): void {
  const emit = ws.emit.bind(ws);
  ws.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'error') {
      const status = statusCodeOf(args[0]);
      if (status !== undefined) {
        counters.closedByCode[status] = (counters.closedByCode[status] ?? 0) + 1;
        return true;
      }
    }
    return emit(event, ...args);
  }) as WebSocket['emit'];
}

/** ws marks the errors it raises for a peer's bad frame with the close code it sent (a symbol property). */
function statusCodeOf(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const key = Object.getOwnPropertySymbols(e).find((sym) => sym.description === 'status-code');
  const v = key === undefined ? undefined : (e as Record<symbol, unknown>)[key];
  return typeof v === 'number' ? v : undefined;
}

const LISTEN_BACKLOG = 4_096;
/** Longest time to receive a whole HTTP request (bodies are at most maxBodyBytes). */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Slowloris: a socket that has not sent a whole request (or upgrade) within `ms` of connecting is
 * destroyed, by a timer of its own. Node's headersTimeout alone is checked every 30 s, so trickled
 * header bytes held each socket (and a file descriptor) half a minute; checking every second
 * instead (connectionsCheckingInterval) stalled a gateway instance on the emulators, so the first
 * request of each connection is timed here, which is where a slowloris client sits.
 */
function closeSlowSockets(http: Server, ms: number): void {
  const pending = new WeakMap<Duplex, ReturnType<typeof setTimeout>>();
  const arrived = (socket: Duplex): void => {
    const timer = pending.get(socket);
    if (timer !== undefined) clearTimeout(timer);
    pending.delete(socket);
  };
  http.on('connection', (socket: Duplex) => {
    const timer = setTimeout(() => socket.destroy(), ms);
    timer.unref();
    pending.set(socket, timer);
    socket.once('close', () => arrived(socket));
  });
  http.on('request', (req: IncomingMessage) => arrived(req.socket));
  http.on('upgrade', (req: IncomingMessage) => arrived(req.socket));
}

/** Listens on 127.0.0.1 and answers the port (0: any free one). */
async function listen(http: Server, port: number): Promise<number> {
  // A swarm connects thousands at once: Node's default backlog (511) resets handshakes the busy
  // event loop has not accepted yet (the kernel caps it at net.core.somaxconn).
  http.listen({ port, host: '127.0.0.1', backlog: LISTEN_BACKLOG });
  await once(http, 'listening');
  const address = http.address();
  if (address === null || typeof address === 'string') throw new Error('the gateway did not get a TCP port');
  return address.port;
}

/** What the intake calls per message: numbered notifications go on to `deliver`, then the message is settled. */
function intakeHandler(deliver: GatewayHandle['deliver'], log: (line: string) => void): (m: IntakeMessage) => Promise<void> {
  return async (m) => {
    if (m.body.seq === undefined) {
      // Recovery needs the number; the pipeline logs a notification before it publishes it.
      log(`gateway: notification ${m.body.notificationId} arrived without a sequence number; dropped`);
      m.done();
      return;
    }
    await deliver({ ...m.body, seq: m.body.seq }, m.receivedAtMs);
    m.done();
  };
}

/** The frame of a notification entering the gateway: its GraphQL value, serialised size and clocks. */
function notificationFrame(body: SequencedBody, receivedAtMs: number): Outbound {
  const payload = notificationValue(body);
  return { kind: 'notification', raceId: body.raceId, userId: body.userId, seq: body.seq, payload, bytes: Buffer.byteLength(JSON.stringify(payload)), enteredAtMs: receivedAtMs, originAtMs: body.publishedAt };
}

/** Starts the gateway on 127.0.0.1; resolves once it listens (and its intake, if any, consumes). */
export async function startGateway(options: GatewayOptions): Promise<GatewayHandle> {
  const limits = resolveLimits(options.limits);
  const secret = secretKey(options.secret);
  const nowMs = options.nowMs ?? Date.now;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const policy = policyOf(options.policy);
  const dispatcher: Dispatcher = createDispatcher(policy, { log });
  const schema = createSchema({ store: options.store, limits, nowMs });
  const watch = createBufferWatch();
  const counters: Counters = { notificationsIn: 0, oddsFramesIn: 0, closedByCode: {} };
  const wss = new WebSocketServer({ noServer: true, maxPayload: limits.maxFrameBytes, clientTracking: true, perMessageDeflate: false });
  const metrics: GatewayMetrics = createGatewayMetrics({ dispatcher, connections: () => wss.clients.size });
  // The metrics read delivery latency from the dispatcher (each frame's send finishing).
  const hooks = createWsHooks({ schema, secret, limits, store: options.store, dispatcher, watch, counters, ...(options.recoveryIdleCheckMs === undefined ? {} : { recoveryIdleCheckMs: options.recoveryIdleCheckMs }) });
  const wsServer = useServer({ schema, connectionInitWaitTimeout: limits.connectionInitTimeoutMs, jsonMessageReplacer: rawJsonReplacer, ...hooks.serverOptions }, wss);
  const http: Server = createServer({ requestTimeout: Math.max(REQUEST_TIMEOUT_MS, limits.headersTimeoutMs), headersTimeout: limits.headersTimeoutMs });
  closeSlowSockets(http, limits.headersTimeoutMs);
  const onRequest = createHttpHandler({ schema, secret, limits, metricsText: () => metrics.metricsText(), metricsContentType: metrics.contentType });
  http.on('request', (req, res) => {
    onRequest(req, res).catch((e: unknown) => {
      log(`gateway: request failed: ${(e as Error).message}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  http.on('upgrade', upgradeHandler(wss, limits, counters));

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await options.intake?.close();
      dispatcher.close();
      watch.close();
      // graphql-ws closes every client with 1001 "Going away"; stalled ones are destroyed.
      for (const ws of wss.clients) setTimeout(() => ws.terminate(), 1_000).unref();
      await wsServer.dispose();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      metrics.close();
    })());
  const deliver = (body: SequencedBody, receivedAtMs: number): void | Promise<void> => {
    counters.notificationsIn++;
    return dispatcher.deliver(notificationFrame(body, receivedAtMs));
  };
  let port: number;
  try {
    port = await listen(http, options.port ?? 0);
    await options.intake?.start(intakeHandler(deliver, log));
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
  return {
    port,
    url: `http://127.0.0.1:${port}${GRAPHQL_PATH}`,
    wsUrl: `ws://127.0.0.1:${port}${GRAPHQL_PATH}`,
    policy,
    deliver,
    publishOdds(raceId, payload, bytes) {
      counters.oddsFramesIn++;
      const pending = dispatcher.deliver({ kind: 'odds', raceId, payload, bytes, enteredAtMs: nowMs(), originAtMs: payload.sentAt });
      pending?.catch((e: unknown) => log(`gateway: odds frame of ${raceId} failed: ${(e as Error).message}`));
    },
    watchedRaces: () => hooks.watchedRaces(),
    metricsText: () => metrics.metricsText(),
    stats: () => ({ connections: wss.clients.size, subscriptions: dispatcher.snapshot().subscriptions, notificationsIn: counters.notificationsIn, oddsFramesIn: counters.oddsFramesIn, closedByCode: { ...counters.closedByCode } }),
    close,
  };
}
