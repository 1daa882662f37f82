// A lean graphql-transport-ws client on `ws`, one per simulated user. The swarm needs thousands of
// them in one worker thread, and it needs the socket itself: a slow reader pauses and resumes the
// socket (so the kernel's receive window closes and the gateway feels it), a stalled reader pauses
// it for good. graphql-ws's own `createClient` hides the socket behind its retry and lazy logic
// and costs more per connection (see docs/load.md for the measurement), so the swarm speaks the
// protocol itself: connection_init -> connection_ack, subscribe/next/error/complete, ping/pong.
import WebSocket from 'ws';

export const GRAPHQL_TRANSPORT_WS = 'graphql-transport-ws';

export const NOTIFICATIONS_QUERY = 'subscription Notifications($afterSeq: Int) { notifications(afterSeq: $afterSeq) { seq raceId kind publishedAt payload } }';
export const ODDS_QUERY = 'subscription Odds($raceId: ID!) { odds(raceId: $raceId) { raceId sentAt odds } }';

/** Frames larger than this are refused by the client (a gateway bug, not a load). */
const CLIENT_PAYLOAD_MAX_BYTES = 16 * 1024 * 1024;
/** How long the gateway has to acknowledge connection_init. */
export const CONNECTION_ACK_TIMEOUT_MS = 10_000;

export interface NotificationFrame {
  readonly seq: number;
  readonly raceId: string;
  readonly kind: string;
  readonly publishedAt: number;
}

export interface OddsFrame {
  readonly raceId: string;
  readonly sentAt: number;
}

export interface LeanClientEvents {
  onNotification(n: NotificationFrame, receivedAtMs: number, bytes: number): void;
  onOdds(o: OddsFrame, receivedAtMs: number, bytes: number): void;
  /** A GraphQL `error` frame or a `next` carrying errors. */
  onError(message: string): void;
  onClose(code: number, reason: string): void;
}

export interface LeanConnection {
  subscribeNotifications(afterSeq: number): void;
  subscribeOdds(raceId: string): void;
  /** Stops reading the socket (the kernel buffers fill, then the sender's). */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  close(code?: number, reason?: string): void;
  readonly isOpen: boolean;
  /** Payload bytes of every frame received. */
  readonly bytesReceived: number;
}

/** Epoch milliseconds with sub-millisecond precision (performance's clock, anchored to the epoch). */
export const nowEpochMs = (): number => performance.timeOrigin + performance.now();

/** The close code a client reports when the gateway went silent (no pong, no frame) for its liveness time. */
export const SILENT_PEER_CLOSE_CODE = 4408;

export interface LeanOptions {
  /**
   * Liveness: the client pings (WebSocket ping) every third of this, and a gateway it has heard
   * nothing from (no pong, no frame) for this long is taken for gone: the socket is dropped and
   * onClose gets SILENT_PEER_CLOSE_CODE, so the user reconnects instead of waiting on a half-open
   * connection for ever. Not while the client has paused its own reading (slow and stalled
   * readers). 0 turns it off.
   */
  readonly livenessMs?: number;
}

/** Opens a connection and resolves once the gateway acknowledged connection_init. */
export function connectLean(url: string, token: string, events: LeanClientEvents, options: LeanOptions = {}): Promise<LeanConnection> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, GRAPHQL_TRANSPORT_WS, { perMessageDeflate: false, maxPayload: CLIENT_PAYLOAD_MAX_BYTES, skipUTF8Validation: true });
    let acked = false;
    let nextId = 1;
    let bytesReceived = 0;
    const ackTimer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`SWARM.NO_ACK: no connection_ack within ${CONNECTION_ACK_TIMEOUT_MS} ms from ${url}`));
    }, CONNECTION_ACK_TIMEOUT_MS);
    const send = (msg: unknown): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
    };
    const conn: LeanConnection = {
      subscribeNotifications: (afterSeq) => send({ id: String(nextId++), type: 'subscribe', payload: { query: NOTIFICATIONS_QUERY, variables: { afterSeq } } }),
      subscribeOdds: (raceId) => send({ id: String(nextId++), type: 'subscribe', payload: { query: ODDS_QUERY, variables: { raceId } } }),
      pause: () => ws.pause(),
      resume: () => ws.resume(),
      get paused() {
        return ws.isPaused;
      },
      close: (code = 1000, reason = 'done') => {
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
      },
      get isOpen() {
        return ws.readyState === WebSocket.OPEN;
      },
      get bytesReceived() {
        return bytesReceived;
      },
    };
    const livenessMs = options.livenessMs ?? 0;
    let heardAtMs = Date.now();
    let silent = false;
    const liveness =
      livenessMs > 0
        ? setInterval(() => {
            if (!acked || ws.readyState !== WebSocket.OPEN) return;
            // Our own pause is not the gateway's silence: the clock restarts when reading resumes.
            if (ws.isPaused) return void (heardAtMs = Date.now());
            if (Date.now() - heardAtMs <= livenessMs) return void ws.ping();
            silent = true;
            events.onClose(SILENT_PEER_CLOSE_CODE, `SWARM.PEER_SILENT: nothing from the gateway for ${livenessMs} ms`);
            ws.terminate();
          }, Math.max(50, Math.floor(livenessMs / 3)))
        : undefined;
    liveness?.unref();
    ws.on('pong', () => void (heardAtMs = Date.now()));
    ws.on('open', () => send({ type: 'connection_init', payload: { token } }));
    ws.on('message', (data: Buffer) => {
      heardAtMs = Date.now();
      const at = nowEpochMs();
      bytesReceived += data.length;
      const msg = parseFrame(data);
      if (msg === undefined) return events.onError('unparseable frame');
      if (msg.type === 'connection_ack') {
        acked = true;
        clearTimeout(ackTimer);
        resolve(conn);
      } else if (msg.type === 'ping') send({ type: 'pong' });
      else if (msg.type === 'next') onNext(msg.payload, at, data.length, events);
      else if (msg.type === 'error') events.onError(JSON.stringify(msg.payload).slice(0, 200));
    });
    ws.on('error', (e) => {
      if (!acked) {
        clearTimeout(ackTimer);
        reject(e);
      }
    });
    ws.on('close', (code, reason) => {
      clearTimeout(ackTimer);
      clearInterval(liveness);
      if (!acked) reject(new Error(`SWARM.CLOSED_BEFORE_ACK: ${code} ${reason.toString()}`));
      else if (!silent) events.onClose(code, reason.toString()); // a silent peer's close was reported already
    });
  });
}

interface Frame {
  readonly type?: unknown;
  readonly payload?: { readonly data?: Record<string, unknown> | null; readonly errors?: unknown };
}

function parseFrame(data: Buffer): Frame | undefined {
  try {
    const v = JSON.parse(data.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null ? (v as Frame) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Epoch milliseconds from a timestamp field: GraphQL's Int is 32-bit, so a gateway sends epoch
 * milliseconds as a Float, a numeric string or an ISO date; all three are read.
 */
export function epochMsOf(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  if (v.trim() !== '' && Number.isFinite(n)) return n;
  const d = Date.parse(v);
  return Number.isNaN(d) ? undefined : d;
}

function onNext(payload: Frame['payload'], at: number, bytes: number, events: LeanClientEvents): void {
  if (payload?.errors !== undefined) return events.onError(JSON.stringify(payload.errors).slice(0, 200));
  const data = payload?.data ?? {};
  const n = data.notifications as Record<string, unknown> | undefined | null;
  if (n !== undefined && n !== null) {
    const publishedAt = epochMsOf(n.publishedAt);
    if (typeof n.seq !== 'number' || publishedAt === undefined) return events.onError('notification without seq or publishedAt');
    return events.onNotification({ seq: n.seq, raceId: String(n.raceId), kind: String(n.kind), publishedAt }, at, bytes);
  }
  const o = data.odds as Record<string, unknown> | undefined | null;
  if (o !== undefined && o !== null) {
    const sentAt = epochMsOf(o.sentAt);
    if (sentAt === undefined) return events.onError('odds frame without sentAt');
    return events.onOdds({ raceId: String(o.raceId), sentAt }, at, bytes);
  }
  events.onError('next frame with neither notifications nor odds');
}
