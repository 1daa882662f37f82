// Slowloris: clients that open HTTP connections and trickle header bytes without ever finishing
// them are closed at the headers timeout (checked every second), while /healthz keeps answering.
// Before, Node's 30 s check let each such socket live half a minute whatever the timeout said.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type World } from './_fixtures/world.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld({ limits: { headersTimeoutMs: 600 } });
});
afterAll(() => world.close());

describe('slowloris', () => {
  it('partial-header connections are closed at the headers timeout; /healthz answers meanwhile', async () => {
    const started = Date.now();
    const closedAfter: number[] = [];
    const sockets = Array.from({ length: 60 }, (_, i) => {
      const s = net.connect(world.gateway.port, '127.0.0.1', () => s.write(i % 2 === 0 ? 'POST /graphql HTTP/1.1\r\nHost: x\r\n' : 'GET /graphql HTTP/1.1\r\nUpgrade: websocket\r\n'));
      const trickle = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 100);
      s.on('close', () => {
        clearInterval(trickle);
        closedAfter.push(Date.now() - started);
      });
      s.on('error', () => undefined);
      return s;
    });
    const health = await fetch(`http://127.0.0.1:${world.gateway.port}/healthz`);
    expect(health.status).toBe(200);
    for (let i = 0; i < 50 && closedAfter.length < sockets.length; i++) await new Promise((r) => setTimeout(r, 100));
    for (const s of sockets) s.destroy();
    expect(closedAfter).toHaveLength(sockets.length);
    // The timeout plus one check interval, and some slack for a busy machine.
    expect(Math.max(...closedAfter)).toBeLessThan(600 + 1_000 + 1_500);
  });
});
