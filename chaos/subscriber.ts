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

export function startSubscriber(o: SubscriberOptions): Subscriber {
  const tracker = createSequenceTracker();
  const resume = o.resumeAfterSeq ?? true;
  const pingEveryMs = o.pingEveryMs ?? 1_000;
  const deadAfterMs = o.deadAfterMs ?? 3_000;
  const minMs = o.reconnectMinMs ?? 100;
  const maxMs = o.reconnectMaxMs ?? 2_000;
  let stopped = false;
  let connects = 0;
  let deadDetected = 0;
  let connected = false;
  let lastError: string | undefined;
  let backoff = minMs;
  let ws: WebSocket | undefined;
  let retry: NodeJS.Timeout | undefined;

  const scheduleReconnect = (): void => {
    if (stopped || retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect();
    }, backoff);
    backoff = Math.min(maxMs, backoff * 2);
  };

  function connect(): void {
    if (stopped) return;
    const socket = new WebSocket(o.url, GRAPHQL_TRANSPORT_WS, { perMessageDeflate: false, handshakeTimeout: 5_000 });
    ws = socket;
    let lastHeardMs = Date.now();
    let acked = false;
    const heard = (): void => void (lastHeardMs = Date.now());
    const liveness = setInterval(() => {
      if (deadAfterMs > 0 && Date.now() - lastHeardMs > deadAfterMs) {
        deadDetected++;
        socket.terminate();
        return;
      }
      if (socket.readyState === WebSocket.OPEN) socket.ping();
    }, pingEveryMs);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { token: o.token } })));
    socket.on('pong', heard);
    socket.on('message', (data: Buffer) => {
      heard();
      let msg: { type?: string; payload?: { data?: { notifications?: { seq?: unknown } }; errors?: unknown } };
      try {
        msg = JSON.parse(data.toString('utf8'));
      } catch {
        lastError = 'unparseable frame';
        return;
      }
      if (msg.type === 'connection_ack') {
        acked = true;
        connected = true;
        connects++;
        backoff = minMs;
        // The first subscription always starts at 0; a resubscription starts after what is held
        // (or, when resume is off, live only: whatever was published meanwhile is never asked for).
        const variables = resume || connects === 1 ? { afterSeq: tracker.counts().contiguous } : {};
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: NOTIFICATIONS_QUERY, variables } }));
      } else if (msg.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
      else if (msg.type === 'next') {
        const seq = msg.payload?.data?.notifications?.seq;
        if (typeof seq === 'number') tracker.accept(seq);
        else if (msg.payload?.errors !== undefined) lastError = JSON.stringify(msg.payload.errors).slice(0, 200);
      } else if (msg.type === 'error') lastError = JSON.stringify(msg.payload).slice(0, 200);
      else if (msg.type === 'complete') socket.close(1000, 'subscription completed');
    });
    socket.on('error', (e) => void (lastError = e.message));
    socket.on('close', () => {
      clearInterval(liveness);
      if (ws === socket) {
        ws = undefined;
        connected = false;
      }
      if (!acked && lastError === undefined) lastError = 'closed before connection_ack';
      scheduleReconnect();
    });
  }

  connect();
  return {
    userId: o.userId,
    tracker,
    get connects() {
      return connects;
    },
    get deadDetected() {
      return deadDetected;
    },
    get connected() {
      return connected;
    },
    get lastError() {
      return lastError;
    },
    stop() {
      stopped = true;
      if (retry !== undefined) clearTimeout(retry);
      ws?.terminate();
    },
  };
}
