// How many bytes a stalled client absorbs on loopback before the sender sees backpressure: a
// `ws` server sends frames to a client that never reads (its socket paused right after the
// handshake) until the server's `bufferedAmount` turns positive, i.e. until the kernel refused
// more. Everything before that went into the two kernels' buffers (the server's send buffer and
// the client's receive buffer), where no gateway metric can see it: a gateway policy that watches
// bufferedAmount only starts to act after this many bytes. The figure decides how long a stall
// takes to appear: bytes absorbed / (frame bytes x frames a second to that client).
//
// Node has no API for SO_SNDBUF/SO_RCVBUF on TCP sockets, so the buffers are the kernel's
// defaults (net.ipv4.tcp_rmem / tcp_wmem, autotuned). To make a stall appear within seconds at
// modest rates, run inside a network namespace with small buffers (`inNetworkNamespace`), which
// changes those sysctls for the namespace only, never for the machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';

export interface StallProbeOptions {
  /** Payload bytes per frame (default 1,024). */
  readonly frameBytes?: number;
  /** Stop once this much was absorbed without backpressure (default 256 MiB): a safety bound. */
  readonly limitBytes?: number;
  /** Give up after this long (default 10 s). */
  readonly timeoutMs?: number;
}

export interface StallProbeResult {
  /** Bytes written by the server (WebSocket frames, headers included) before bufferedAmount > 0. */
  readonly bytesAbsorbed: number;
  readonly frames: number;
  readonly frameBytes: number;
  readonly elapsedMs: number;
  /** Backpressure seen (false: the limit or the timeout came first). */
  readonly backpressure: boolean;
  /** The kernel's TCP buffer sysctls where the probe ran: "min default max" bytes. */
  readonly tcpRmem: string;
  readonly tcpWmem: string;
  /** Ran inside a network namespace made for it. */
  readonly netns: boolean;
}

const sysctl = (name: string): string => {
  try {
    return readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().replace(/\s+/g, ' ');
  } catch {
    return 'unknown';
  }
};

/** The kernel's TCP buffer sysctls where this process runs. */
export function tcpSysctl(): { rmem: string; wmem: string } {
  return { rmem: sysctl('tcp_rmem'), wmem: sysctl('tcp_wmem') };
}

/** A WebSocket frame's header for a server-to-client frame of `payload` bytes (unmasked). */
const frameHeaderBytes = (payload: number): number => (payload < 126 ? 2 : payload < 65_536 ? 4 : 10);

export async function probeStall(options: StallProbeOptions = {}): Promise<StallProbeResult> {
  const frameBytes = options.frameBytes ?? 1_024;
  const limitBytes = options.limitBytes ?? 256 * 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as AddressInfo).port;
  const serverSide = new Promise<WebSocket>((r) => wss.once('connection', (s) => r(s)));
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    client.once('open', () => resolve());
    client.once('error', reject);
  });
  client.pause();
  const server = await serverSide;
  const frame = Buffer.alloc(frameBytes, 0x61);
  const started = performance.now();
  let frames = 0;
  let bytes = 0;
  let backpressure = false;
  while (bytes < limitBytes && performance.now() - started < timeoutMs) {
    server.send(frame);
    frames++;
    bytes += frameBytes + frameHeaderBytes(frameBytes);
    if (server.bufferedAmount > 0) {
      // The frame that met a full kernel buffer is not absorbed (part of it may be).
      bytes -= frameBytes + frameHeaderBytes(frameBytes);
      frames--;
      backpressure = true;
      break;
    }
    // Let the kernel move bytes from the send buffer into the receiver's window now and then.
    if (frames % 64 === 0) await new Promise((r) => setImmediate(r));
  }
  const elapsedMs = performance.now() - started;
  client.terminate();
  server.terminate();
  await new Promise<void>((r) => wss.close(() => r()));
  return { bytesAbsorbed: bytes, frames, frameBytes, elapsedMs: Math.round(elapsedMs), backpressure, tcpRmem: sysctl('tcp_rmem'), tcpWmem: sysctl('tcp_wmem'), netns: process.env.RACEDAY_NETNS === '1' };
}

/** TCP buffer sizes for a namespace: "min default max" for tcp_rmem and tcp_wmem. */
export interface NamespaceBuffers {
  readonly rmem: string;
  readonly wmem: string;
}

/** Small buffers that make a stalled client show backpressure after tens of KB. */
export const SMALL_TCP_BUFFERS: NamespaceBuffers = { rmem: '4096 8192 16384', wmem: '4096 8192 16384' };

/** Whether this machine lets us make a network namespace (unshare -n as root, ip and sysctl present). */
export function canUseNetworkNamespace(): boolean {
  try {
    execFileSync('unshare', ['-n', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `node argv...` inside a fresh network namespace whose loopback is up and whose TCP buffers
 * are `buffers`; stdout is returned, stderr passes through. Only the namespace sees the sysctls.
 */
export function inNetworkNamespace(argv: readonly string[], buffers: NamespaceBuffers = SMALL_TCP_BUFFERS): { status: number; stdout: string } {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const script = [
    'ip link set lo up',
    `sysctl -qw net.ipv4.tcp_rmem=${q(buffers.rmem)} net.ipv4.tcp_wmem=${q(buffers.wmem)}`,
    `exec ${[process.execPath, ...argv].map(q).join(' ')}`,
  ].join(' && ');
  const r = spawnSync('unshare', ['-n', 'sh', '-c', script], { env: { ...process.env, RACEDAY_NETNS: '1' }, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status ?? 1, stdout: r.stdout ?? '' };
}

/** `node loadtests/stall-probe.ts [frameBytes]`: prints one probe's JSON (how the namespace run is made). */
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const frameBytes = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  process.stdout.write(`${JSON.stringify(await probeStall(frameBytes === undefined ? {} : { frameBytes }))}\n`);
}
