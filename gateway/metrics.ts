// The gateway's /metrics in Prometheus text (prom-client), one registry per gateway so several
// gateways (or tests) in one process never share counters. Gauges that describe the current state
// (queue depth, socket buffers) are read from the dispatcher at scrape time rather than updated on
// every frame, so the hot path pays nothing for them; the policy's counters are read the same way.
import { monitorEventLoopDelay, type ELDHistogram } from 'node:perf_hooks';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DeliveryPolicy, Outbound } from './contracts.ts';
import type { Dispatcher, DispatcherSnapshot } from './dispatcher.ts';

const PREFIX = 'raceday_gateway_';
/** Delivery latency buckets, seconds: 0.5 ms to 60 s (the incident's send timeout). */
const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Time-to-evict buckets, seconds: 10 ms to 2 minutes. */
const EVICT_BUCKETS_S = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];
/** The event-loop delay sampler's resolution. */
const EVENT_LOOP_RESOLUTION_MS = 10;

export interface GatewayMetricsOptions {
  /** Node's process metrics (RSS, heap, GC) in the same registry; on by default. */
  readonly processMetrics?: boolean;
  /** The dispatcher to read at each scrape (same as calling `attach`). */
  readonly dispatcher?: Dispatcher;
  /**
   * Times deliveries from the dispatcher's own `onWritten` reports (default true). A server that
   * calls `observeDelivery` itself passes false, or every frame is counted twice.
   */
  readonly timeDeliveries?: boolean;
  /** Where the connection count comes from at scrape time (e.g. `() => wss.clients.size`), instead of connectionOpened/Closed. */
  readonly connections?: () => number;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  /** The Content-Type header for `metricsText()`. */
  readonly contentType: string;
  /**
   * From now on each scrape reads queue depths, socket buffers and the policy's counters from this
   * dispatcher, and (unless `timeDeliveries` is false) every frame it reports written feeds the
   * delivery latency histogram.
   */
  attach(dispatcher: Dispatcher, options?: { readonly timeDeliveries?: boolean }): void;
  connectionOpened(): void;
  connectionClosed(): void;
  /** A frame's send finished: its delivery latency is `writtenAtMs - out.enteredAtMs`. */
  observeDelivery(out: Outbound, writtenAtMs?: number): void;
  /** The Prometheus text exposition of every metric. */
  metricsText(): Promise<string>;
  /** Stops the event-loop sampler. */
  close(): void;
}

/** Gauges read from the dispatcher's snapshot at scrape time (nothing while no dispatcher is attached). */
function registerDispatcherGauges(registry: Registry, current: () => Dispatcher | undefined): void {
  const gauge = (name: string, help: string, read: (s: DispatcherSnapshot) => Record<string, number>, label?: string): void => {
    new Gauge({
      name: `${PREFIX}${name}`,
      help,
      labelNames: label === undefined ? [] : [label],
      registers: [registry],
      collect() {
        const d = current();
        if (d === undefined) return;
        for (const [key, value] of Object.entries(read(d.snapshot()))) {
          if (label === undefined) this.set(value);
          else this.set({ [label]: key }, value);
        }
      },
    });
  };
  gauge('subscriptions', 'Live subscriptions (notifications and odds).', (s) => ({ all: s.subscriptions }));
  gauge('queue_depth_messages', 'Frames queued for subscribers: summed over every queue (total) and the deepest queue (max).', (s) => ({ total: s.queuedMessages, max: s.deepestQueueMessages }), 'stat');
  gauge('queue_depth_bytes', 'Bytes queued for subscribers: summed over every queue (total) and the deepest queue (max).', (s) => ({ total: s.queuedBytes, max: s.deepestQueueBytes }), 'stat');
  gauge('socket_buffered_bytes', 'Bytes handed to sockets and not yet taken by the kernel (ws bufferedAmount), summed.', (s) => ({ all: s.socketBufferedBytes }));
  gauge('intake_depth_messages', 'Frames waiting in the shared intake channel (shared-blocking only).', (s) => ({ all: s.intakeDepth }));
}

/** The policy's totals as counters: each scrape adds what happened since the previous one. */
function registerPolicyCounters(registry: Registry): { read(policy: DeliveryPolicy): void; restart(policy: DeliveryPolicy): void } {
  let seen = { drops: 0, evictions: 0, evictSamples: 0 };
  const drops = new Counter({ name: `${PREFIX}drops_total`, help: 'Frames dropped by the delivery policy (drop-oldest, or the shared intake channel being full).', registers: [registry] });
  const evictions = new Counter({ name: `${PREFIX}evictions_total`, help: 'Subscribers closed by the delivery policy as slow consumers.', registers: [registry] });
  const timeToEvict = new Histogram({ name: `${PREFIX}time_to_evict_seconds`, help: 'From a subscriber starting to fall behind (its queue non-empty) to its eviction.', buckets: EVICT_BUCKETS_S, registers: [registry] });
  const policyInfo = new Gauge({ name: `${PREFIX}policy_info`, help: 'The delivery policy in use (value 1).', labelNames: ['policy'], registers: [registry] });
  return {
    read(policy) {
      const stats = policy.stats();
      drops.inc(Math.max(0, stats.drops - seen.drops));
      evictions.inc(Math.max(0, stats.evictions - seen.evictions));
      for (const ms of stats.timeToEvictMs.slice(seen.evictSamples)) timeToEvict.observe(ms / 1000);
      seen = { drops: stats.drops, evictions: stats.evictions, evictSamples: stats.timeToEvictMs.length };
    },
    restart(policy) {
      policyInfo.reset();
      policyInfo.set({ policy: policy.name }, 1);
      seen = { drops: 0, evictions: 0, evictSamples: 0 };
    },
  };
}

/** Event-loop delay by quantile since the previous scrape; returns the sampler's stop. */
function registerEventLoopDelay(registry: Registry): () => void {
  const loop: ELDHistogram = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  loop.enable();
  new Gauge({
    name: `${PREFIX}event_loop_delay_seconds`,
    help: 'Event-loop delay since the previous scrape (perf_hooks monitorEventLoopDelay), by quantile.',
    labelNames: ['quantile'],
    registers: [registry],
    collect() {
      // A sampler that has seen no sample yet reports NaN or huge values; report 0 instead.
      const s = (ns: number): number => (Number.isFinite(ns) && loop.count > 0 ? ns / 1e9 : 0);
      this.set({ quantile: '0.5' }, s(loop.percentile(50)));
      this.set({ quantile: '0.99' }, s(loop.percentile(99)));
      this.set({ quantile: 'max' }, s(loop.max));
      loop.reset();
    },
  });
  return () => loop.disable();
}

export function createGatewayMetrics(options: GatewayMetricsOptions = {}): GatewayMetrics {
  const registry = new Registry();
  let dispatcher: Dispatcher | undefined;
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const readConnections = options.connections;
  const connections = new Gauge({
    name: `${PREFIX}connections`,
    help: 'Open WebSocket connections.',
    registers: [registry],
    collect() {
      if (readConnections !== undefined) this.set(readConnections());
    },
  });
  registerDispatcherGauges(registry, () => dispatcher);
  const policyCounters = registerPolicyCounters(registry);
  const latency = new Histogram({
    name: `${PREFIX}delivery_latency_seconds`,
    help: 'A frame entering the gateway (intake receipt or odds tick) to its send on the socket finishing.',
    labelNames: ['kind'],
    buckets: LATENCY_BUCKETS_S,
    registers: [registry],
  });
  const stopLoopSampler = registerEventLoopDelay(registry);

  let detachWritten: (() => void) | undefined;
  const observeDelivery = (out: Outbound, writtenAtMs: number = Date.now()): void => {
    latency.observe({ kind: out.kind }, Math.max(0, writtenAtMs - out.enteredAtMs) / 1000);
  };
  const attach = (d: Dispatcher, how: { readonly timeDeliveries?: boolean } = {}): void => {
    detachWritten?.();
    detachWritten = how.timeDeliveries === false ? undefined : d.onWritten(observeDelivery);
    dispatcher = d;
    policyCounters.restart(d.policy);
  };
  if (options.dispatcher !== undefined) attach(options.dispatcher, { timeDeliveries: options.timeDeliveries ?? true });

  return {
    registry,
    contentType: registry.contentType,
    attach,
    connectionOpened: () => connections.inc(),
    connectionClosed: () => connections.dec(),
    observeDelivery,
    async metricsText(): Promise<string> {
      if (dispatcher !== undefined) policyCounters.read(dispatcher.policy);
      return registry.metrics();
    },
    close(): void {
      detachWritten?.();
      stopLoopSampler();
    },
  };
}
