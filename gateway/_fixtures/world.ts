// A small world for gateway tests: a memory store with a few users and an open keirin race, a
// gateway on a free port, and real clients (fetch for GraphQL over HTTP, graphql-ws on ws).
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createMemoryStore, createRealClock } from '../../backends/memory/index.ts';
import type { Store } from '../../core/ports.ts';
import { signToken } from '../auth.ts';
import type { NotificationIntake } from '../contracts.ts';
import type { GatewayLimits } from '../limits.ts';
import { startGateway, type GatewayHandle } from '../server.ts';

export const SECRET = 'test-secret-of-at-least-thirty-two-bytes!';
export const USERS = ['alice', 'bob', 'carol'] as const;
export const OPEN_RACE = 'race-open';
export const CLOSED_RACE = 'race-closed';
export const CASH = 10_000;

export interface World {
  readonly store: Store;
  readonly gateway: GatewayHandle;
  close(): Promise<void>;
}

export async function startWorld(options: { limits?: Partial<GatewayLimits>; policy?: string; intake?: NotificationIntake; log?: (line: string) => void } = {}): Promise<World> {
  const store = createMemoryStore({ clock: createRealClock() });
  await store.putUsers(USERS.map((userId) => ({ userId, cash: CASH, medals: 500 })));
  const now = Date.now();
  await store.putRace({ raceId: OPEN_RACE, sport: 'keirin', riders: 9, closeAtMs: now + 3_600_000, postAtMs: now + 3_700_000 });
  await store.putRace({ raceId: CLOSED_RACE, sport: 'keirin', riders: 7, closeAtMs: now - 60_000, postAtMs: now - 1_000 });
  const gateway = await startGateway({ store, secret: SECRET, ...(options.limits === undefined ? {} : { limits: options.limits }), ...(options.policy === undefined ? {} : { policy: options.policy }), ...(options.intake === undefined ? {} : { intake: options.intake }), log: options.log ?? (() => undefined) });
  return {
    store,
    gateway,
    async close() {
      await gateway.close();
      await store.close();
    },
  };
}

export const tokenFor = (userId: string, ttlSeconds = 600): Promise<string> => signToken(userId, SECRET, ttlSeconds);

export interface HttpAnswer {
  readonly status: number;
  readonly body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string; field?: string } }[] };
}

/** POST /graphql with an optional bearer token. */
export async function post(gateway: GatewayHandle, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<HttpAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const res = await fetch(gateway.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as HttpAnswer['body'] };
  } catch {
    throw new Error(`HTTP ${res.status} answered ${JSON.stringify(text)}, not JSON`);
  }
}

/** A graphql-ws client (lazy: it connects with its first subscription) that never retries: a test wants to see the first close. */
export function wsClient(gateway: GatewayHandle, token: unknown, onClose?: (code: number, reason: string) => void): Client {
  return createClient({
    url: gateway.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: token === undefined ? {} : { token },
    on: { closed: (e) => onClose?.((e as { code: number }).code, String((e as { reason: unknown }).reason)) },
  });
}

/** Opens a raw socket speaking graphql-transport-ws and resolves with its close code and reason. */
export function rawSocket(gateway: GatewayHandle): { ws: WebSocket; closed: Promise<{ code: number; reason: string }>; opened: Promise<void>; messages: unknown[] } {
  const ws = new WebSocket(gateway.wsUrl, 'graphql-transport-ws');
  const messages: unknown[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d))));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('error', reject);
  });
  return { ws, closed, opened, messages };
}

/** Collects up to `n` results of a subscription (or until `ms` pass), then disposes it. */
export function take<T>(client: Client, query: string, variables: Record<string, unknown>, n: number, ms = 3_000): Promise<{ results: T[]; errors: unknown[] }> {
  return new Promise((resolve) => {
    const results: T[] = [];
    const errors: unknown[] = [];
    let dispose = (): void => undefined;
    const done = (): void => {
      clearTimeout(timer);
      dispose();
      resolve({ results, errors });
    };
    const timer = setTimeout(done, ms);
    dispose = client.subscribe<T>(
      { query, variables },
      {
        next: (r) => {
          if (r.errors !== undefined) errors.push(...r.errors);
          if (r.data !== undefined && r.data !== null) results.push(r.data as T);
          if (results.length >= n) done();
        },
        error: (e) => {
          errors.push(e);
          done();
        },
        complete: () => done(),
      },
    );
  });
}
