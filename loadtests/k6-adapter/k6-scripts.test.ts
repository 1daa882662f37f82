// Keeps the k6 scripts honest without k6: they type-check against @types/k6, and each script's
// default function runs in Node through the TEST ADAPTER (this folder; not a k6 replacement)
// against a real server: the deadline rush places real bets the Store then holds, and the
// subscribers script receives real notifications and odds and records their delivery latency.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../backends/memory/index.ts';
import { signToken } from '../../gateway/auth.ts';
import { startGateway } from '../../gateway/server.ts';
import { publishOddsFrame, publishRound } from '../_fixtures/publish.ts';
import { evaluate } from './thresholds.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'a-test-secret-of-at-least-32-bytes!!';

interface Summary {
  metrics: Record<string, Record<string, number>>;
  checks: Record<string, { passes: number; fails: number }>;
  thresholds: Record<string, { expr: string; ok: boolean }[]>;
  ok: boolean;
}

function runScript(script: string, args: string[], env: Record<string, string>): Promise<Summary> {
  const child = spawn(process.execPath, ['--import', './loadtests/k6-adapter/register.ts', 'loadtests/k6-adapter/run.ts', script, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Summary) : reject(new Error(`adapter exited ${code}: ${err}`))));
  });
}

describe('k6 scripts', () => {
  it('type-check with @types/k6', () => {
    const r = spawnSync(process.execPath, [fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'loadtests/k6/tsconfig.json'], { cwd: root, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the adapter evaluates thresholds and refuses forms it does not know', () => {
    expect(evaluate('p(99)<200', { 'p(99)': 150 })).toBe(true);
    expect(evaluate('p(99)<200', { 'p(99)': 250 })).toBe(false);
    expect(evaluate('count==0', { count: 1 })).toBe(false);
    expect(() => evaluate('p(99.99)<1', {})).toThrow(/THRESHOLD_UNSUPPORTED/);
  });

  it('deadline-rush places real bets through the adapter', async () => {
    const store = createMemoryStore();
    const users = ['k1', 'k2', 'k3'];
    await store.putUsers(users.map((userId) => ({ userId, cash: 100_000, medals: 0 })));
    await store.putRace({ raceId: 'k6race', sport: 'keirin', riders: 7, closeAtMs: Date.now() + 600_000, postAtMs: Date.now() + 900_000 });
    const tokens = await Promise.all(users.map((u) => signToken(u, SECRET, 600)));
    const server = await startGateway({ store, secret: SECRET, log: () => {} });
    try {
      const s = await runScript('loadtests/k6/deadline-rush.ts', ['--vus', '3', '--iterations', '4'], { GRAPHQL_URL: server.url, TOKENS: tokens.join(','), RACE_ID: 'k6race' });
      expect(s.metrics.bets_accepted?.count).toBe(12);
      expect(s.metrics.http_reqs?.count).toBe(12);
      expect(s.checks['answered with a ticket or an error code']).toEqual({ passes: 12, fails: 0 });
      expect(s.ok).toBe(true);
      let stored = 0;
      for await (const t of store.readback?.ticketsOfRace('k6race') ?? []) if (users.includes(t.userId)) stored++;
      expect(stored).toBe(12);
      expect((await store.readback?.balances('k1'))?.cash).toBe(100_000 - 4 * 100);
    } finally {
      await server.close();
    }
  });

  it('subscribers receives notifications and odds and records their delivery latency', async () => {
    const store = createMemoryStore();
    const users = ['s1', 's2', 's3'];
    await store.putUsers(users.map((userId) => ({ userId, cash: 0, medals: 0 })));
    await store.putRace({ raceId: 'k6race', sport: 'keirin', riders: 7, closeAtMs: Date.now() + 600_000, postAtMs: Date.now() + 900_000 });
    const gw = await startGateway({ store, secret: SECRET, log: () => {} });
    try {
      const tokens = await Promise.all(users.map((u) => signToken(u, SECRET, 600)));
      const run = runScript('loadtests/k6/subscribers.ts', ['--vus', '3'], { WS_URL: gw.wsUrl, TOKENS: tokens.join(','), RACE_ID: 'k6race', LISTEN_MS: '2500' });
      // Wait for the six subscriptions (notifications and odds per VU), then publish.
      for (let i = 0; i < 100 && gw.stats().subscriptions < 6; i++) await new Promise((r) => setTimeout(r, 50));
      expect(gw.stats().subscriptions).toBe(6);
      for (let k = 0; k < 2; k++) await publishRound(store, gw, users, 'k6race');
      for (let k = 0; k < 5; k++) publishOddsFrame(gw, 'k6race', 400);
      const s = await run;
      expect(s.metrics.notifications_received?.count).toBe(6);
      expect(s.metrics.notification_delivery_latency?.count).toBe(6);
      expect(s.metrics.odds_delivery_latency?.count).toBe(15);
      expect(s.metrics.notifications_out_of_order?.count).toBe(0);
      expect(s.checks['received notifications']).toEqual({ passes: 3, fails: 0 });
      expect(s.ok).toBe(true);
    } finally {
      await gw.close();
    }
  });
});
