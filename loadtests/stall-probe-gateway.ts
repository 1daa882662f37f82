// The stall probe against the real gateway: one client that never reads and one that reads
// everything watch the same race; odds frames go out one at a time, and after each one (once the
// reader has it, so the gateway has handed it to both sockets) the gateway's own metrics are read.
// The bytes a stalled client absorbs are the wire bytes of the frames sent before the gateway first
// sees backpressure on it: ws bufferedAmount > 0 (raceday_gateway_socket_buffered_bytes) or a frame
// left waiting in its queue (raceday_gateway_queue_depth_messages). The `unbounded` policy is used so
// nothing is dropped or evicted while measuring.
import { createMemoryStore } from '../backends/memory/index.ts';
import { signToken } from '../gateway/auth.ts';
import { startGateway } from '../gateway/server.ts';
import { connectLean, type LeanClientEvents } from './swarm/client.ts';
import { tcpSysctl } from './stall-probe.ts';

export interface GatewayStallProbeOptions {
  /** Size of the odds payload per frame (default 4,096 bytes). */
  readonly frameBytes?: number;
  /** Stop after this much without backpressure (default 64 MiB). */
  readonly limitBytes?: number;
}

export interface GatewayStallProbeResult {
  /** WebSocket payload bytes (graphql-ws `next` frames) sent to the stalled client before the gateway saw backpressure. */
  readonly bytesAbsorbed: number;
  readonly frames: number;
  readonly frameWireBytes: number;
  readonly backpressure: boolean;
  /** What the gateway showed first: bytes in ws bufferedAmount, or frames waiting in the subscriber's queue. */
  readonly seenAs: 'socket-buffered' | 'queued' | 'none';
  readonly tcpRmem: string;
  readonly tcpWmem: string;
  readonly netns: boolean;
}

const SECRET = 'gateway-stall-probe-secret-of-32-bytes!';
const RACE_ID = 'probe-race';
const FRAME_WAIT_MS = 5_000;

const gauge = (text: string, name: string): number => {
  const m = new RegExp(`^${name}(?:\\{stat="total"\\})? (\\S+)$`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
};

export async function probeGatewayStall(options: GatewayStallProbeOptions = {}): Promise<GatewayStallProbeResult> {
  const frameBytes = options.frameBytes ?? 4_096;
  const limitBytes = options.limitBytes ?? 64 * 1024 * 1024;
  const store = createMemoryStore();
  await store.putUsers([{ userId: 'stalled', cash: 0, medals: 0 }, { userId: 'reader', cash: 0, medals: 0 }]);
  await store.putRace({ raceId: RACE_ID, sport: 'keirin', riders: 9, closeAtMs: Date.now() + 3_600_000, postAtMs: Date.now() + 3_900_000 });
  const gw = await startGateway({ store, secret: SECRET, policy: 'unbounded', log: () => {} });
  let received = 0;
  let lastWireBytes = 0;
  let wake: (() => void) | undefined;
  const quiet: LeanClientEvents = { onNotification: () => {}, onOdds: () => {}, onError: () => {}, onClose: () => {} };
  const readerEvents: LeanClientEvents = { ...quiet, onOdds: (_o, _at, bytes) => { received++; lastWireBytes = bytes; wake?.(); } };
  const reader = await connectLean(gw.wsUrl, await signToken('reader', SECRET, 600), readerEvents);
  const stalled = await connectLean(gw.wsUrl, await signToken('stalled', SECRET, 600), quiet);
  try {
    reader.subscribeOdds(RACE_ID);
    stalled.subscribeOdds(RACE_ID);
    for (let i = 0; i < 200 && gw.stats().subscriptions < 2; i++) await new Promise((r) => setTimeout(r, 10));
    stalled.pause();
    const odds = { pad: 'x'.repeat(frameBytes) };
    let frames = 0;
    let bytes = 0;
    let seenAs: GatewayStallProbeResult['seenAs'] = 'none';
    while (bytes < limitBytes) {
      const frame = { raceId: RACE_ID, sentAt: Date.now(), odds };
      const arrived = new Promise<void>((resolve, reject) => {
        wake = resolve;
        setTimeout(() => reject(new Error(`STALL_PROBE.NO_FRAME: the reading client got no frame within ${FRAME_WAIT_MS} ms`)), FRAME_WAIT_MS).unref();
      });
      gw.publishOdds(RACE_ID, frame, JSON.stringify(frame).length);
      await arrived;
      const text = await gw.metricsText();
      if (gauge(text, 'raceday_gateway_socket_buffered_bytes') > 0) seenAs = 'socket-buffered';
      else if (gauge(text, 'raceday_gateway_queue_depth_messages') > 0) seenAs = 'queued';
      if (seenAs !== 'none') break;
      frames++;
      bytes += lastWireBytes;
    }
    const t = tcpSysctl();
    return { bytesAbsorbed: bytes, frames, frameWireBytes: lastWireBytes, backpressure: seenAs !== 'none', seenAs, tcpRmem: t.rmem, tcpWmem: t.wmem, netns: process.env.RACEDAY_NETNS === '1' };
  } finally {
    stalled.resume();
    stalled.close();
    reader.close();
    await gw.close();
  }
}
