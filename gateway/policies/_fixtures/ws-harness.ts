// A minimal WebSocket server for testing delivery policies on real sockets, without the GraphQL
// layer: each connection is one subscription (`/?user=U` for notifications, `&race=R` for a race's
// odds), registered with a dispatcher, and written by a loop that behaves like graphql-ws's: it
// takes one frame from the policy's queue, sends it, and takes the next only when `ws` reports the
// send done (the data reached the kernel). A stalled client is a raw TCP socket that completes the
// WebSocket handshake and then never reads again, so the kernel buffers fill for real.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { Outbound, SocketPort } from '../../contracts.ts';
import { createDispatcher, type Dispatcher } from '../../dispatcher.ts';

/** How often `whenBelow` looks at the socket buffer again when no drain event comes. */
const BUFFER_POLL_MS = 5;
/** After a policy's close, a socket that cannot even take the close frame is cut this much later. */
const CLOSE_GRACE_MS = 200;

export interface ServerSideSubscription {
  readonly id: string;
  readonly userId: string;
  /** Frames the writer took from the queue and finished sending. */
  readonly written: Outbound[];
  /** The policy's close, if it closed this subscriber. */
  closedWith?: { readonly code: number; readonly reason: string; readonly atMs: number };
  socketBufferedBytes(): number;
}

export interface Harness {
  readonly url: string;
  readonly dispatcher: Dispatcher;
  /** Subscriptions by id in arrival order (`s1`, `s2`, ...). */
  readonly subscriptions: Map<string, ServerSideSubscription>;
  close(): Promise<void>;
}

function socketPortOf(ws: WebSocket, onPolicyClose: (code: number, reason: string) => void): SocketPort {
  return {
    bufferedBytes: () => ws.bufferedAmount,
    whenBelow: (lowWaterBytes) =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (ws.readyState !== WebSocket.OPEN || ws.bufferedAmount <= lowWaterBytes) {
            clearInterval(timer);
            resolve();
          }
        };
        const timer = setInterval(check, BUFFER_POLL_MS);
        check();
      }),
    close(code, reason) {
      onPolicyClose(code, reason);
      ws.close(code, reason);
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
    },
    get isOpen() {
      return ws.readyState === WebSocket.OPEN;
    },
  };
}

/** Sends like graphql-ws's `ws` adapter: resolves when `ws` calls back, rejects on a send error. */
const sendFrame = (ws: WebSocket, text: string): Promise<void> =>
  new Promise((resolve, reject) => {
    if (ws.readyState !== WebSocket.OPEN) return resolve();
    ws.send(text, (e) => (e ? reject(e) : resolve()));
  });

async function writeLoop(ws: WebSocket, frames: AsyncIterable<Outbound>, written: Outbound[]): Promise<void> {
  try {
    for await (const out of frames) {
      await sendFrame(ws, out.payload as string);
      written.push(out);
    }
  } catch {
    // The socket went away mid-send: the subscription ends, as graphql-ws ends it.
  }
}

export async function startHarness(policyDispatcher: Dispatcher | Parameters<typeof createDispatcher>[0]): Promise<Harness> {
  const dispatcher = 'deliver' in policyDispatcher ? policyDispatcher : createDispatcher(policyDispatcher);
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const subscriptions = new Map<string, ServerSideSubscription>();
  let next = 0;
  wss.on('connection', (ws, req) => {
    const params = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams;
    const id = `s${(next += 1)}`;
    const userId = params.get('user') ?? 'anonymous';
    const race = params.get('race') ?? undefined;
    const record: ServerSideSubscription = { id, userId, written: [], socketBufferedBytes: () => ws.bufferedAmount };
    subscriptions.set(id, record);
    const socket = socketPortOf(ws, (code, reason) => {
      record.closedWith = { code, reason, atMs: Date.now() };
    });
    const queue = dispatcher.add({ id, userId, socket }, race);
    ws.on('close', () => dispatcher.remove(id));
    void writeLoop(ws, queue, record.written);
  });
  const address = wss.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  return {
    url: `ws://127.0.0.1:${address.port}`,
    dispatcher,
    subscriptions,
    async close() {
      dispatcher.close();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** A client that reads every frame; `seqs` lists what arrived, `closed` how the server closed it. */
export interface HealthyClient {
  readonly seqs: number[];
  closed?: { readonly code: number; readonly reason: string };
  close(): void;
}

/** The seq of a harness frame, read from its first bytes (`{"seq":N,...`) rather than parsing 64 KiB. */
function seqOf(frame: Buffer): number {
  const m = /^\{"seq":(\d+)/.exec(frame.subarray(0, 32).toString('latin1'));
  if (m === null) throw new Error(`not a harness frame: ${frame.subarray(0, 32).toString('latin1')}`);
  return Number(m[1]);
}

export async function healthyClient(url: string, user: string, race?: string): Promise<HealthyClient> {
  const ws = new WebSocket(`${url}/?user=${encodeURIComponent(user)}${race === undefined ? '' : `&race=${encodeURIComponent(race)}`}`);
  const client: HealthyClient = { seqs: [], close: () => ws.terminate() };
  ws.on('message', (data) => client.seqs.push(seqOf(data as Buffer)));
  ws.on('close', (code, reason) => {
    client.closed = { code, reason: String(reason) };
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return client;
}

/** A client that never reads after the handshake, until `resume()`; then it parses what arrives. */
export interface StalledClient {
  /** Seqs of the text frames read after `resume()` (what the kernel had absorbed comes first). */
  readonly seqs: number[];
  /** The close frame's code, if one arrived after `resume()`. */
  closeCode?: number;
  resume(): void;
  close(): void;
}

/** Parses the server's unmasked frames out of `buffer`; returns the bytes not yet parsed. */
function parseFrames(buffer: Buffer, onFrame: (opcode: number, payload: Buffer) => void): Buffer {
  let at = 0;
  for (;;) {
    if (buffer.length - at < 2) break;
    const opcode = (buffer[at] as number) & 0x0f;
    let length = (buffer[at + 1] as number) & 0x7f;
    let header = 2;
    if (length === 126) {
      if (buffer.length - at < 4) break;
      length = buffer.readUInt16BE(at + 2);
      header = 4;
    } else if (length === 127) {
      if (buffer.length - at < 10) break;
      length = Number(buffer.readBigUInt64BE(at + 2));
      header = 10;
    }
    if (buffer.length - at < header + length) break;
    onFrame(opcode, buffer.subarray(at + header, at + header + length));
    at += header + length;
  }
  return buffer.subarray(at);
}

/** A client that completes the WebSocket handshake and then never reads: its socket is paused. */
export async function stalledClient(url: string, user: string, race?: string): Promise<StalledClient> {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const path = `/?user=${encodeURIComponent(user)}${race === undefined ? '' : `&race=${encodeURIComponent(race)}`}`;
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  let rest = await new Promise<Buffer>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      if (head.subarray(0, 12).toString('latin1') === 'HTTP/1.1 101') resolve(head.subarray(end + 4));
      else reject(new Error(`handshake refused: ${head.toString('latin1').split('\r\n')[0] ?? ''}`));
    };
    socket.on('data', onData);
  });
  socket.on('error', () => {}); // the server may cut it; nobody is reading
  const client: StalledClient = {
    seqs: [],
    resume() {
      const onFrame = (opcode: number, payload: Buffer): void => {
        if (opcode === 1) client.seqs.push(seqOf(payload));
        if (opcode === 8 && payload.length >= 2) client.closeCode = payload.readUInt16BE(0);
      };
      rest = parseFrames(rest, onFrame);
      socket.on('data', (chunk: Buffer) => {
        rest = parseFrames(Buffer.concat([rest, chunk]), onFrame);
      });
      socket.resume();
    },
    close: () => socket.destroy(),
  };
  return client;
}

/** An odds frame for race `raceId` of about `size` bytes; its payload is the text the harness sends. */
export function oddsFrame(raceId: string, seq: number, size: number, nowMs = Date.now()): Outbound {
  const text = JSON.stringify({ seq, pad: 'x'.repeat(Math.max(0, size - 32)) });
  return { kind: 'odds', raceId, payload: text, bytes: Buffer.byteLength(text), enteredAtMs: nowMs, originAtMs: nowMs };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every few ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(5);
  }
  return true;
}
