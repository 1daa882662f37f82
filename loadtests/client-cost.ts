// What one subscriber connection costs the driver: N connections, each subscribed to its user's
// notifications, opened with the swarm's lean client or with graphql-ws's createClient (over `ws`),
// against an embedded gateway; reports heap and RSS growth per connection and the time to connect
// them all. Each kind runs in its own child process so one does not inherit the other's heap.
// This is the measurement behind the swarm's choice of client (docs/load.md).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { createMemoryStore } from '../backends/memory/index.ts';
import { signToken } from '../gateway/auth.ts';
import { startGateway } from '../gateway/server.ts';
import { connectLean, NOTIFICATIONS_QUERY } from './swarm/client.ts';

export type ClientKind = 'lean' | 'graphql-ws';

export interface ClientCost {
  readonly kind: ClientKind;
  readonly clients: number;
  readonly connectMs: number;
  /** Heap and RSS growth per connected, subscribed client, after a GC (bytes; the gateway's share included in RSS). */
  readonly heapBytesPerClient: number;
  readonly rssBytesPerClient: number;
}

const SECRET = 'client-cost-secret-of-at-least-32-bytes';
const BATCH = 200;

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

async function openLean(url: string, token: string): Promise<() => void> {
  const c = await connectLean(url, token, { onNotification: () => {}, onOdds: () => {}, onError: () => {}, onClose: () => {} });
  c.subscribeNotifications(0);
  return () => c.close();
}

async function openGraphqlWs(url: string, token: string): Promise<() => void> {
  const client = createClient({ url, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, connectionParams: { token } });
  await new Promise<void>((resolve, reject) => {
    client.on('connected', () => resolve());
    client.on('error', reject);
  });
  client.subscribe({ query: NOTIFICATIONS_QUERY, variables: { afterSeq: 0 } }, { next: () => {}, error: () => {}, complete: () => {} });
  return () => void client.dispose();
}

/** Measures in this process (run it in a fresh one: see measureClientCost). */
export async function measureHere(kind: ClientKind, clients: number): Promise<ClientCost> {
  const store = createMemoryStore();
  const ids = Array.from({ length: clients }, (_, i) => `cc${i}`);
  await store.putUsers(ids.map((userId) => ({ userId, cash: 0, medals: 0 })));
  const tokens = await Promise.all(ids.map((id) => signToken(id, SECRET, 600)));
  const gw = await startGateway({ store, secret: SECRET, log: () => {} });
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const rss0 = process.memoryUsage().rss;
  const started = performance.now();
  const closers: (() => void)[] = [];
  const open = kind === 'lean' ? openLean : openGraphqlWs;
  for (let i = 0; i < clients; i += BATCH) closers.push(...(await Promise.all(tokens.slice(i, i + BATCH).map((t) => open(gw.wsUrl, t)))));
  const connectMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, 500));
  gc();
  const mem = process.memoryUsage();
  for (const close of closers) close();
  await gw.close();
  return { kind, clients, connectMs: Math.round(connectMs), heapBytesPerClient: Math.round((mem.heapUsed - heap0) / clients), rssBytesPerClient: Math.round((mem.rss - rss0) / clients) };
}

/** Each kind in a fresh Node process with --expose-gc. */
export function measureClientCost(kind: ClientKind, clients: number): ClientCost {
  const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), kind, String(clients)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out) as ClientCost;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await measureHere(process.argv[2] as ClientKind, Number(process.argv[3]));
  process.stdout.write(`${JSON.stringify(r)}\n`);
  process.exit(0);
}
