// The lean client's liveness: against a gateway that acknowledges and then goes silent (its socket
// paused: no pong, no frame, nothing closed, a half-open peer), the client reports
// SILENT_PEER_CLOSE_CODE within its liveness time; against one that stays quiet but answers pings,
// and while the client has paused its own reading, it keeps the connection.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { connectLean, GRAPHQL_TRANSPORT_WS, SILENT_PEER_CLOSE_CODE, type LeanClientEvents } from './client.ts';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    for (const c of s.clients) c.terminate();
    s.close();
  }
});

/** A server that acks connection_init, then does what `after` says with the socket. */
async function server(after: (ws: WebSocket) => void): Promise<string> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => GRAPHQL_TRANSPORT_WS });
  servers.push(wss);
  wss.on('connection', (ws) => {
    ws.once('message', () => {
      ws.send(JSON.stringify({ type: 'connection_ack' }));
      after(ws);
    });
  });
  await once(wss, 'listening');
  return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
}

function recorder(): LeanClientEvents & { closes: { code: number; reason: string; atMs: number }[] } {
  const closes: { code: number; reason: string; atMs: number }[] = [];
  return { closes, onNotification: () => undefined, onOdds: () => undefined, onError: () => undefined, onClose: (code, reason) => void closes.push({ code, reason, atMs: Date.now() }) };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('lean client liveness', () => {
  it('drops a connection whose gateway went silent, once, with the silent-peer code', async () => {
    // Pausing the server's socket stops it reading: pings are never answered, nothing is closed.
    const url = await server((ws) => (ws as unknown as { _socket: { pause(): void } })._socket.pause());
    const events = recorder();
    const t0 = Date.now();
    const conn = await connectLean(url, 't', events, { livenessMs: 600 });
    await sleep(1_500);
    expect(events.closes).toHaveLength(1);
    expect(events.closes[0]?.code).toBe(SILENT_PEER_CLOSE_CODE);
    expect(events.closes[0]?.reason).toMatch(/^SWARM\.PEER_SILENT: /);
    expect((events.closes[0]?.atMs ?? 0) - t0).toBeGreaterThanOrEqual(600);
    expect(conn.isOpen).toBe(false);
  });

  it('keeps a quiet gateway that answers pings, and a connection whose own reading is paused', async () => {
    const url = await server(() => undefined);
    const quiet = recorder();
    const a = await connectLean(url, 't', quiet, { livenessMs: 400 });
    const paused = recorder();
    const silentUrl = await server((ws) => (ws as unknown as { _socket: { pause(): void } })._socket.pause());
    const b = await connectLean(silentUrl, 't', paused, { livenessMs: 400 });
    b.pause();
    await sleep(1_400);
    expect(quiet.closes).toEqual([]);
    expect(a.isOpen).toBe(true);
    expect(paused.closes).toEqual([]);
    expect(b.isOpen).toBe(true);
    a.close();
    b.close();
  });

  it('with liveness off, waits on a silent gateway', async () => {
    const url = await server((ws) => (ws as unknown as { _socket: { pause(): void } })._socket.pause());
    const events = recorder();
    const conn = await connectLean(url, 't', events);
    await sleep(800);
    expect(events.closes).toEqual([]);
    expect(conn.isOpen).toBe(true);
    conn.close();
  });
});
