// The machine's limit for the gateway bench: a bare `ws` server on 127.0.0.1 that speaks just
// enough graphql-transport-ws for the swarm's clients (connection_init -> connection_ack,
// subscribe, ping -> pong) and then sends every subscriber its frames in a plain loop: no schema,
// no auth, no queues, no policy, each frame a string built by concatenation. The same swarm
// clients connect to it as to the gateway, receive frames of the same size and record the same
// latency (receipt - the frame's publishedAt, which is the loop's start), so the gateway's
// messages per second divided by this loop's is the share of the machine's limit the gateway
// reaches. Sending is paced only by ws itself: frames a socket cannot take yet wait in its buffer.
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Percentiles } from '../reports/latency.ts';
import { startSwarm, type SwarmUser } from '../loadtests/swarm.ts';

export interface WsBaselineOptions {
  readonly users: readonly SwarmUser[];
  /** Frames each subscriber is sent (sequence 1..framesPerUser). */
  readonly framesPerUser: number;
  /** Bytes of the notification payload inside each frame (pad to the gateway's frame size). */
  readonly payloadBytes: number;
  readonly workers?: number;
  /** How long the run waits for the last frames after every socket's buffer emptied. */
  readonly drainGraceMs?: number;
  readonly log?: (line: string) => void;
}

export interface WsBaselineResult {
  readonly users: number;
  readonly connected: number;
  readonly framesSent: number;
  readonly framesReceived: number;
  readonly lost: number;
  /** Frames received per second, from the loop's start to the last receipt (the latency max). */
  readonly messagesPerSecond: number;
  readonly latencyMs: Percentiles | null;
  readonly frameBytes: number;
}

const GRAPHQL_TRANSPORT_WS = 'graphql-transport-ws';
/** Waiting for every subscriber to subscribe, and for the buffers to drain, is bounded. */
const SUBSCRIBE_WAIT_MS_MAX = 120_000;
const DRAIN_WAIT_MS_MAX = 300_000;
const POLL_MS = 20;

interface Subscriber {
  readonly ws: WebSocket;
  readonly id: string;
}

function startBareServer(): Promise<{ wss: WebSocketServer; url: string; subscribers: Subscriber[] }> {
  const subscribers: Subscriber[] = [];
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, backlog: 4_096, perMessageDeflate: false, handleProtocols: (p) => (p.has(GRAPHQL_TRANSPORT_WS) ? GRAPHQL_TRANSPORT_WS : false) });
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => {
      let msg: { type?: unknown; id?: unknown; payload?: { query?: unknown } };
      try {
        msg = JSON.parse(data.toString('utf8')) as typeof msg;
      } catch {
        return ws.close(4400, 'invalid message');
      }
      if (msg.type === 'connection_init') ws.send('{"type":"connection_ack"}');
      else if (msg.type === 'ping') ws.send('{"type":"pong"}');
      // Only notification subscriptions get frames; an odds subscription is accepted and left idle.
      else if (msg.type === 'subscribe' && typeof msg.id === 'string' && String(msg.payload?.query).includes('notifications')) subscribers.push({ ws, id: msg.id });
    });
  });
  return new Promise((resolve) => wss.on('listening', () => resolve({ wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/graphql`, subscribers })));
}

async function waitFor(what: string, done: () => boolean, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`BENCH.TIMEOUT: ${what} within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Runs the bare loop against a fresh swarm of `users` and reports what they received. */
export async function runWsBaseline(options: WsBaselineOptions): Promise<WsBaselineResult> {
  const log = options.log ?? (() => undefined);
  const { wss, url, subscribers } = await startBareServer();
  const swarm = startSwarm({ wsUrl: url, users: options.users, cohorts: { healthy: options.users.length, slow: 0, stalled: 0, flapping: 0 }, isolation: 'process', ...(options.workers === undefined ? {} : { workers: options.workers }) });
  let stopped = false;
  try {
    const ready = await swarm.ready;
    await waitFor(`${ready.connected} subscribers subscribing to the bare server`, () => subscribers.length >= ready.connected, SUBSCRIBE_WAIT_MS_MAX);
    log(`ws baseline: ${subscribers.length} subscribers; sending ${options.framesPerUser} frames each`);
    const pad = 'x'.repeat(options.payloadBytes);
    const publishedAt = performance.timeOrigin + performance.now();
    let framesSent = 0;
    let frameBytes = 0;
    for (let seq = 1; seq <= options.framesPerUser; seq++) {
      for (const s of subscribers) {
        const frame = `{"id":"${s.id}","type":"next","payload":{"data":{"notifications":{"seq":${seq},"raceId":"baseline","kind":"settled","publishedAt":${publishedAt},"payload":{"pad":"${pad}"}}}}}`;
        s.ws.send(frame);
        frameBytes = frame.length;
        framesSent++;
      }
    }
    await waitFor('the bare server draining its sockets', () => subscribers.every((s) => s.ws.bufferedAmount === 0), DRAIN_WAIT_MS_MAX);
    await new Promise((r) => setTimeout(r, options.drainGraceMs ?? 500));
    stopped = true;
    const { report } = await swarm.stop({ default: options.framesPerUser });
    const healthy = report.cohorts.healthy;
    const latencyMs = healthy?.notificationLatencyMs ?? null;
    const framesReceived = report.delivery.received;
    const elapsedMs = latencyMs === null ? 0 : latencyMs.max;
    return {
      users: options.users.length,
      connected: ready.connected,
      framesSent,
      framesReceived,
      lost: report.delivery.lost,
      messagesPerSecond: elapsedMs > 0 ? Math.round((framesReceived * 1000) / elapsedMs) : 0,
      latencyMs,
      frameBytes,
    };
  } finally {
    // A run that failed half-way still stops its client processes.
    if (!stopped) await swarm.stop({ default: 0 }).catch(() => undefined);
    for (const c of wss.clients) c.terminate();
    await new Promise<void>((r) => wss.close(() => r()));
  }
}
