// A notification subscriber that survives its network: a graphql-transport-ws client (on `ws`)
// that subscribes to the user's notifications after the last sequence it holds without a gap,
// reconnects with backoff whenever its connection closes, and checks the connection's liveness
// itself: a WebSocket ping every pingEveryMs, and a connection that answered nothing for
// deadAfterMs is taken for dead and terminated. Without that check a client on a half-open
// connection (the peer vanished, no FIN, no RST: docs/network-faults.md) waits forever, since TCP
// sees nothing wrong while a middlebox still acknowledges its bytes.
import WebSocket from 'ws';
import { GRAPHQL_TRANSPORT_WS, NOTIFICATIONS_QUERY } from '../loadtests/swarm/client.ts';
import { createSequenceTracker, type SequenceTracker } from '../loadtests/swarm/sequence.ts';

export interface SubscriberOptions {
  readonly url: string;
  readonly userId: string;
  readonly token: string;
  /** Resume after the last contiguous sequence held (default true); false: resubscribe live-only. */
  readonly resumeAfterSeq?: boolean;
  /** Liveness: ping every pingEveryMs (default 1,000); dead after deadAfterMs without any frame or pong (default 3,000; 0: never). */
  readonly pingEveryMs?: number;
  readonly deadAfterMs?: number;
  /** Reconnect backoff: first delay, doubling up to the max (default 100 .. 2,000 ms). */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
}

export interface Subscriber {
  readonly userId: string;
  readonly tracker: SequenceTracker;
  /** Acknowledged connections so far (1 = never reconnected). */
  readonly connects: number;
  /** Connections this client declared dead by its liveness check. */
  readonly deadDetected: number;
  readonly connected: boolean;
  readonly lastError: string | undefined;
  stop(): void;
}

/** A subscriber's mutable state, shared by its connections (one at a time). */
interface State {
  readonly o: SubscriberOptions;
  readonly tracker: SequenceTracker;
  readonly resume: boolean;
  readonly pingEveryMs: number;
  readonly deadAfterMs: number;
  stopped: boolean;
  connects: number;
  deadDetected: number;
  connected: boolean;
  lastError: string | undefined;
  backoff: number;
  ws: WebSocket | undefined;
  retry: NodeJS.Timeout | undefined;
}

type Frame = { type?: string; payload?: { data?: { notifications?: { seq?: unknown } }; errors?: unknown } };

function scheduleReconnect(st: State): void {
  if (st.stopped || st.retry !== undefined) return;
  st.retry = setTimeout(() => {
    st.retry = undefined;
    connect(st);
  }, st.backoff);
  st.backoff = Math.min(st.o.reconnectMaxMs ?? 2_000, st.backoff * 2);
}

/** One frame from the gateway; answers true once the connection is acknowledged. */
function onFrame(st: State, socket: WebSocket, msg: Frame): boolean {
  if (msg.type === 'connection_ack') {
    st.connected = true;
    st.connects++;
    st.backoff = st.o.reconnectMinMs ?? 100;
    // The first subscription always starts at 0; a resubscription starts after what is held
    // (or, when resume is off, live only: whatever was published meanwhile is never asked for).
    const variables = st.resume || st.connects === 1 ? { afterSeq: st.tracker.counts().contiguous } : {};
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: NOTIFICATIONS_QUERY, variables } }));
    return true;
  }
  if (msg.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
  else if (msg.type === 'next') {
    const seq = msg.payload?.data?.notifications?.seq;
    if (typeof seq === 'number') st.tracker.accept(seq);
    else if (msg.payload?.errors !== undefined) st.lastError = JSON.stringify(msg.payload.errors).slice(0, 200);
  } else if (msg.type === 'error') st.lastError = JSON.stringify(msg.payload).slice(0, 200);
  else if (msg.type === 'complete') socket.close(1000, 'subscription completed');
  return false;
}

function connect(st: State): void {
  if (st.stopped) return;
  const socket = new WebSocket(st.o.url, GRAPHQL_TRANSPORT_WS, { perMessageDeflate: false, handshakeTimeout: 5_000 });
  st.ws = socket;
  let lastHeardMs = Date.now();
  let acked = false;
  const heard = (): void => void (lastHeardMs = Date.now());
  const liveness = setInterval(() => {
    if (st.deadAfterMs > 0 && Date.now() - lastHeardMs > st.deadAfterMs) {
      st.deadDetected++;
      socket.terminate();
      return;
    }
    if (socket.readyState === WebSocket.OPEN) socket.ping();
  }, st.pingEveryMs);
  socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { token: st.o.token } })));
  socket.on('pong', heard);
  socket.on('message', (data: Buffer) => {
    heard();
    let msg: Frame;
    try {
      msg = JSON.parse(data.toString('utf8')) as Frame;
    } catch {
      st.lastError = 'unparseable frame';
      return;
    }
    if (onFrame(st, socket, msg)) acked = true;
  });
  socket.on('error', (e) => void (st.lastError = e.message));
  socket.on('close', () => {
    clearInterval(liveness);
    if (st.ws === socket) {
      st.ws = undefined;
      st.connected = false;
    }
    if (!acked && st.lastError === undefined) st.lastError = 'closed before connection_ack';
    scheduleReconnect(st);
  });
}

export function startSubscriber(o: SubscriberOptions): Subscriber {
  const st: State = {
    o, tracker: createSequenceTracker(), resume: o.resumeAfterSeq ?? true, pingEveryMs: o.pingEveryMs ?? 1_000, deadAfterMs: o.deadAfterMs ?? 3_000,
    stopped: false, connects: 0, deadDetected: 0, connected: false, lastError: undefined, backoff: o.reconnectMinMs ?? 100, ws: undefined, retry: undefined,
  };
  connect(st);
  return {
    userId: o.userId,
    tracker: st.tracker,
    get connects() {
      return st.connects;
    },
    get deadDetected() {
      return st.deadDetected;
    },
    get connected() {
      return st.connected;
    },
    get lastError() {
      return st.lastError;
    },
    stop() {
      st.stopped = true;
      if (st.retry !== undefined) clearTimeout(st.retry);
      st.ws?.terminate();
    },
  };
}
