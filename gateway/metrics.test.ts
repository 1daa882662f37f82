// /metrics reports what the dispatcher and the policy hold at scrape time: queue depths in frames
// and bytes, socket buffers, drops, evictions and time to evict (each counted once however often it
// is scraped), delivery latency per frame kind, connections and the event-loop delay.
import { afterEach, describe, expect, it } from 'vitest';
import type { Outbound, SocketPort, SubscriberInfo } from './contracts.ts';
import { createDispatcher } from './dispatcher.ts';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.ts';
import { healthyClient, oddsFrame, startHarness, waitFor } from './policies/_fixtures/ws-harness.ts';
import { parsePolicy } from './policies/index.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A socket that never drains: it reports `buffered` bytes and records how it was closed. */
function stuckSocket(buffered: number): SocketPort & { closed?: number } {
  const s: SocketPort & { closed?: number } = {
    bufferedBytes: () => buffered,
    whenBelow: () => new Promise(() => {}),
    close(code) {
      s.closed = code;
    },
    get isOpen() {
      return s.closed === undefined;
    },
  };
  return s;
}
const sub = (id: string, socket: SocketPort): SubscriberInfo => ({ id, userId: `u-${id}`, socket });
const odds = (n: number, bytes = 1000, enteredAtMs = Date.now()): Outbound => ({ kind: 'odds', raceId: 'R1', payload: { n }, bytes, enteredAtMs, originAtMs: enteredAtMs });

/** The value of one sample line, e.g. `value(text, 'raceday_gateway_drops_total')`. */
function value(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels === '' ? ' ' : `{${labels}} `}`));
  if (line === undefined) throw new Error(`no sample ${name}{${labels}} in:\n${text}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

let metrics: GatewayMetrics | undefined;
afterEach(() => metrics?.close());

function setUp(spec: string) {
  const p = parsePolicy(spec);
  if (!p.ok) throw new Error(p.error.message);
  const d = createDispatcher(p.value);
  metrics = createGatewayMetrics({ processMetrics: false });
  metrics.attach(d);
  return { d, m: metrics };
}

describe('createGatewayMetrics', () => {
  it('reports queue depth, socket buffers and drops from the dispatcher, counting drops once', async () => {
    const { d, m } = setUp('per-subscriber:4:drop-oldest');
    d.add(sub('a', stuckSocket(700)), 'R1');
    d.add(sub('b', stuckSocket(300)), 'R1');
    for (let n = 1; n <= 10; n += 1) d.deliver(odds(n));
    const text = await m.metricsText();
    expect(value(text, 'raceday_gateway_subscriptions')).toBe(2);
    expect(value(text, 'raceday_gateway_queue_depth_messages', 'stat="total"')).toBe(8);
    expect(value(text, 'raceday_gateway_queue_depth_messages', 'stat="max"')).toBe(4);
    expect(value(text, 'raceday_gateway_queue_depth_bytes', 'stat="total"')).toBe(8000);
    expect(value(text, 'raceday_gateway_queue_depth_bytes', 'stat="max"')).toBe(4000);
    expect(value(text, 'raceday_gateway_socket_buffered_bytes')).toBe(1000);
    expect(value(text, 'raceday_gateway_drops_total')).toBe(12);
    expect(value(text, 'raceday_gateway_evictions_total')).toBe(0);
    expect(value(text, 'raceday_gateway_policy_info', 'policy="per-subscriber:4:drop-oldest"')).toBe(1);
    d.deliver(odds(11));
    expect(value(await m.metricsText(), 'raceday_gateway_drops_total')).toBe(14);
    expect(value(await m.metricsText(), 'raceday_gateway_drops_total')).toBe(14);
  });

  it('counts evictions and their time to evict', async () => {
    const { d, m } = setUp('per-subscriber:2:evict-after:30');
    const socket = stuckSocket(0);
    d.add(sub('a', socket), 'R1');
    for (let n = 1; n <= 3; n += 1) d.deliver(odds(n));
    await sleep(80);
    expect(socket.closed).toBe(4008);
    const text = await m.metricsText();
    expect(value(text, 'raceday_gateway_evictions_total')).toBe(1);
    expect(value(text, 'raceday_gateway_time_to_evict_seconds_count')).toBe(1);
    // 30 ms, less one: the eviction timer counts from the event loop's cached time, which can be
    // a millisecond behind the Date.now() the policy took when the queue began to fill (a CI run
    // read 0.029).
    expect(value(text, 'raceday_gateway_time_to_evict_seconds_sum')).toBeGreaterThanOrEqual(0.029);
    expect(value(text, 'raceday_gateway_time_to_evict_seconds_bucket', 'le="0.01"')).toBe(0);
    expect(value(await m.metricsText(), 'raceday_gateway_time_to_evict_seconds_count')).toBe(1);
  });

  it('records delivery latency by kind, connections and the event-loop delay', async () => {
    const { m } = setUp('unbounded');
    const now = Date.now();
    m.observeDelivery(odds(1, 10, now - 3), now);
    m.observeDelivery({ ...odds(2, 10, now - 150), kind: 'notification', userId: 'u' }, now);
    m.connectionOpened();
    m.connectionOpened();
    m.connectionClosed();
    await sleep(50); // let the sampler take its first samples
    const busyUntil = Date.now() + 200;
    while (Date.now() < busyUntil); // block the loop so the sampler sees a delay
    await sleep(30);
    const text = await m.metricsText();
    expect(value(text, 'raceday_gateway_delivery_latency_seconds_count', 'kind="odds"')).toBe(1);
    expect(value(text, 'raceday_gateway_delivery_latency_seconds_bucket', 'le="0.0025",kind="odds"')).toBe(0);
    expect(value(text, 'raceday_gateway_delivery_latency_seconds_bucket', 'le="0.005",kind="odds"')).toBe(1);
    expect(value(text, 'raceday_gateway_delivery_latency_seconds_bucket', 'le="0.1",kind="notification"')).toBe(0);
    expect(value(text, 'raceday_gateway_delivery_latency_seconds_bucket', 'le="0.2",kind="notification"')).toBe(1);
    expect(value(text, 'raceday_gateway_connections')).toBe(1);
    expect(value(text, 'raceday_gateway_event_loop_delay_seconds', 'quantile="max"')).toBeGreaterThanOrEqual(0.05);
  });

  it('takes the dispatcher and a connection count source as options', async () => {
    const p = parsePolicy('unbounded');
    if (!p.ok) throw new Error(p.error.message);
    const d = createDispatcher(p.value);
    d.add(sub('a', stuckSocket(0)), 'R1');
    let open = 7;
    metrics = createGatewayMetrics({ processMetrics: false, dispatcher: d, connections: () => open });
    expect(value(await metrics.metricsText(), 'raceday_gateway_connections')).toBe(7);
    open = 3;
    const text = await metrics.metricsText();
    expect(value(text, 'raceday_gateway_connections')).toBe(3);
    expect(value(text, 'raceday_gateway_subscriptions')).toBe(1);
    expect(metrics.contentType).toMatch(/^text\/plain/);
  });

  it('times every frame a real writer sends, from entering the gateway to its send finishing', async () => {
    const { d, m } = setUp('unbounded');
    const h = await startHarness(d);
    const client = await healthyClient(h.url, 'u', 'R1');
    try {
      expect(await waitFor(() => d.snapshot().subscriptions === 1, 2_000)).toBe(true);
      for (let n = 1; n <= 20; n += 1) d.deliver(oddsFrame('R1', n, 2_000, Date.now() - 40));
      expect(await waitFor(() => client.seqs.length === 20, 3_000)).toBe(true);
      await sleep(20);
      const text = await m.metricsText();
      expect(value(text, 'raceday_gateway_delivery_latency_seconds_count', 'kind="odds"')).toBe(20);
      // Each frame had been in the gateway 40 ms before it was even offered.
      expect(value(text, 'raceday_gateway_delivery_latency_seconds_bucket', 'le="0.025",kind="odds"')).toBe(0);
    } finally {
      client.close();
      await h.close();
    }
  });

  it('leaves delivery timing to a caller that reports its own, so no frame is counted twice', async () => {
    const { d, m } = setUp('unbounded');
    m.attach(d, { timeDeliveries: false });
    const h = await startHarness(d);
    const client = await healthyClient(h.url, 'u', 'R1');
    try {
      expect(await waitFor(() => d.snapshot().subscriptions === 1, 2_000)).toBe(true);
      for (let n = 1; n <= 5; n += 1) d.deliver(oddsFrame('R1', n, 2_000));
      expect(await waitFor(() => client.seqs.length === 5, 3_000)).toBe(true);
      await sleep(20);
      m.observeDelivery(oddsFrame('R1', 6, 10));
      expect(value(await m.metricsText(), 'raceday_gateway_delivery_latency_seconds_count', 'kind="odds"')).toBe(1);
    } finally {
      client.close();
      await h.close();
    }
  });

  it('includes Node process metrics unless asked not to', async () => {
    const m = createGatewayMetrics();
    try {
      expect(await m.metricsText()).toMatch(/^process_resident_memory_bytes \d+/m);
    } finally {
      m.close();
    }
  });
});
