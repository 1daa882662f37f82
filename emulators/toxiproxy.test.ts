// Toxiproxy's lifecycle and each toxic's effect on a real loopback socket: an echo server behind a
// proxy, a latency toxic that delays the echo, a reset that closes with RST, a half-open stall that
// passes nothing and closes nothing until cleared, disabling, and a stop that leaves no process.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectNetworkFault } from '../chaos/network.ts';
import { isAlive } from './processes.ts';
import { findToxiproxy, startToxiproxy, type Toxiproxy } from './toxiproxy.ts';

let echo: Server;
let echoPort = 0;
let toxi: Toxiproxy;

beforeAll(async () => {
  echo = createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  echoPort = (echo.address() as { port: number }).port;
  toxi = await startToxiproxy({ seed: 7 });
}, 30_000);

afterAll(async () => {
  await toxi?.stop();
  echo?.close();
});

function open(hostPort: string): Promise<Socket> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve, reject) => {
    const s = connect({ host: host as string, port: Number(port) }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Sends one line and resolves with the round trip in ms, or 'closed:<why>' / 'silent' after waitMs. */
function roundTrip(s: Socket, waitMs: number): Promise<number | string> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const done = (v: number | string): void => {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('close', onClose);
      s.off('error', onError);
      resolve(v);
    };
    const onData = () => done(performance.now() - t0);
    const onError = (e: NodeJS.ErrnoException) => done(`closed:${e.code ?? e.message}`);
    const onClose = () => done('closed:close');
    const timer = setTimeout(() => done('silent'), waitMs);
    s.on('data', onData);
    s.on('error', onError);
    s.on('close', onClose);
    s.write('ping\n');
  });
}

describe('Toxiproxy', () => {
  it('proxies a loopback echo, and a latency toxic delays it measurably', async () => {
    const p = await toxi.createProxy('echo-latency', `127.0.0.1:${echoPort}`);
    expect(p.listen).toMatch(/^127\.0\.0\.1:\d+$/);
    const s = await open(p.listen);
    const before = await roundTrip(s, 2_000);
    expect(typeof before).toBe('number');
    const fault = await injectNetworkFault(toxi, p.name, 'latency', { durationMs: 10_000, latencyMs: 200, jitterMs: 0 });
    expect(fault.toxics).toEqual(['chaos-latency-upstream', 'chaos-latency-downstream']);
    const slow = await roundTrip(s, 5_000);
    // 200 ms each way: the echo comes back after at least 400 ms.
    expect(slow).toBeGreaterThanOrEqual(400);
    await fault.clear();
    expect((await toxi.proxy(p.name)).toxics).toEqual([]);
    s.destroy();
    await toxi.deleteProxy(p.name);
  });

  it('reset closes an open connection at its next byte, and resets a new one with RST', async () => {
    const p = await toxi.createProxy('echo-reset', `127.0.0.1:${echoPort}`);
    const s = await open(p.listen);
    expect(typeof (await roundTrip(s, 2_000))).toBe('number');
    const fault = await injectNetworkFault(toxi, p.name, 'reset', { durationMs: 5_000 });
    // Toxiproxy sets SO_LINGER 0 only on connections that start under the toxic: an open one is
    // closed with FIN, a new one with RST.
    expect(await roundTrip(s, 3_000)).toBe('closed:close');
    const fresh = await open(p.listen);
    expect(await roundTrip(fresh, 3_000)).toBe('closed:ECONNRESET');
    // Both connections show in the server's log, so a client's reconnection can be seen from outside.
    expect(toxi.acceptedConnections(p.name)).toHaveLength(2);
    expect(toxi.acceptedConnections('no-such-proxy')).toEqual([]);
    await fault.clear();
    const again = await open(p.listen);
    expect(typeof (await roundTrip(again, 2_000))).toBe('number');
    again.destroy();
    await toxi.deleteProxy(p.name);
  });

  it('half-open passes no byte and closes nothing until cleared, then closes the held connection', async () => {
    const p = await toxi.createProxy('echo-half-open', `127.0.0.1:${echoPort}`);
    const s = await open(p.listen);
    expect(typeof (await roundTrip(s, 2_000))).toBe('number');
    const fault = await injectNetworkFault(toxi, p.name, 'half-open', { durationMs: 5_000 });
    expect(await roundTrip(s, 1_500)).toBe('silent');
    expect(s.destroyed).toBe(false);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    await fault.clear();
    await closed;
    await toxi.deleteProxy(p.name);
  });

  it('a timeout fault closes each stalled connection after its timeout', async () => {
    const p = await toxi.createProxy('echo-timeout', `127.0.0.1:${echoPort}`);
    const s = await open(p.listen);
    const fault = await injectNetworkFault(toxi, p.name, 'timeout', { durationMs: 5_000, timeoutMs: 300 });
    expect(await roundTrip(s, 3_000)).toMatch(/^closed:/);
    await fault.clear();
    await toxi.deleteProxy(p.name);
  });

  it('disabling closes connections and refuses new ones; enabling listens again on the same port', async () => {
    const p = await toxi.createProxy('echo-toggle', `127.0.0.1:${echoPort}`);
    const s = await open(p.listen);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    await toxi.setEnabled(p.name, false);
    await closed;
    await expect(open(p.listen)).rejects.toThrow(/ECONNREFUSED/);
    await toxi.setEnabled(p.name, true);
    const again = await open(p.listen);
    expect(typeof (await roundTrip(again, 2_000))).toBe('number');
    again.destroy();
    await toxi.reset();
    await toxi.deleteProxy(p.name);
  });

  it('refuses an unknown fault kind and a toxic on a missing proxy with clear codes', async () => {
    await expect(injectNetworkFault(toxi, 'nope', 'latency', { durationMs: 1_000 })).rejects.toThrow(/^TOXIPROXY\.NOT_FOUND/);
    await expect(injectNetworkFault(toxi, 'nope', 'flood' as never, { durationMs: 1_000 })).rejects.toThrow(/^CHAOS\.UNKNOWN_FAULT/);
  });

  it('stop leaves no process behind', async () => {
    const other = await startToxiproxy();
    expect(isAlive(other.pid)).toBe(true);
    await other.stop();
    expect(isAlive(other.pid)).toBe(false);
  });

  it('a missing binary is a clear error naming the fix', async () => {
    expect(() => findToxiproxy('/nonexistent/toxiproxy')).toThrow(/^TOXIPROXY\.NOT_INSTALLED: .*run \.ci\/install-tools/);
    await expect(startToxiproxy({ binary: '/nonexistent/toxiproxy' })).rejects.toThrow(/TOXIPROXY\.NOT_INSTALLED/);
  });
});
