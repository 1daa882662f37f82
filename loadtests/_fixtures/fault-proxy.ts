// A graphql-transport-ws proxy that sits between the swarm and the real gateway and tampers with
// the notification frames going to the clients: a rule per user may duplicate, drop or hold back
// (and release after the next one) the frame carrying a given sequence. It proves the swarm's
// counts fail when delivery does, with the real gateway behind (which itself never sends such a
// stream: its recovery sequencer drops duplicates and fills gaps).
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';

export type FrameFault = 'duplicate' | 'drop' | 'hold';

export interface FaultRule {
  readonly userId: string;
  readonly seq: number;
  readonly fault: FrameFault;
}

/** The `sub` of a JWT, read without verifying it (the gateway verifies; the proxy only routes rules). */
function subjectOf(token: unknown): string | undefined {
  if (typeof token !== 'string') return undefined;
  try {
    return (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: string }).sub;
  } catch {
    return undefined;
  }
}

const seqOf = (text: string): number | undefined => {
  const m = JSON.parse(text) as { type?: string; payload?: { data?: { notifications?: { seq?: number } } } };
  return m.type === 'next' ? m.payload?.data?.notifications?.seq : undefined;
};

export async function startFaultProxy(upstreamUrl: string, rules: readonly FaultRule[]): Promise<{ wsUrl: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => (p.has('graphql-transport-ws') ? 'graphql-transport-ws' : false) });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (client) => {
    const upstream = new WebSocket(upstreamUrl, 'graphql-transport-ws');
    const pending: string[] = [];
    let userId: string | undefined;
    let held: string | undefined;
    client.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      const m = JSON.parse(text) as { type?: string; payload?: { token?: unknown } };
      if (m.type === 'connection_init') userId = subjectOf(m.payload?.token);
      if (upstream.readyState === WebSocket.OPEN) upstream.send(text);
      else pending.push(text);
    });
    upstream.on('open', () => pending.splice(0).forEach((t) => upstream.send(t)));
    upstream.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      const seq = seqOf(text);
      const rule = rules.find((r) => r.userId === userId && r.seq === seq);
      if (rule?.fault === 'drop') return;
      if (rule?.fault === 'hold') {
        held = text;
        return;
      }
      client.send(text);
      if (rule?.fault === 'duplicate') client.send(text);
      if (held !== undefined && seq !== undefined) {
        client.send(held);
        held = undefined;
      }
    });
    client.on('close', () => upstream.close());
    upstream.on('close', () => client.close());
    upstream.on('error', () => client.terminate());
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    close: () => {
      for (const c of wss.clients) c.terminate();
      return new Promise((r) => wss.close(() => r()));
    },
  };
}
