// What GET /metrics serves for one gateway instance: the registry read at scrape time from the
// dispatcher's snapshot, the policy's counters and the connection count.
import { Gauge, Registry } from 'prom-client';
import type { DeliveryPolicy } from './contracts.ts';
import type { Dispatcher } from './dispatcher.ts';

export interface GatewayMetricsSource {
  readonly contentType: string;
  text(): Promise<string>;
  close(): void;
}

export interface MetricsInputs {
  readonly dispatcher: Dispatcher;
  readonly policy: DeliveryPolicy;
  readonly connections: () => number;
}

export function createGatewayMetricsSource(inputs: MetricsInputs): GatewayMetricsSource {
  const registry = new Registry();
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  };
  gauge('gateway_connections', 'Open WebSocket connections.', inputs.connections);
  gauge('gateway_subscriptions', 'Live subscriptions.', () => inputs.dispatcher.snapshot().subscriptions);
  gauge('gateway_queue_messages', 'Frames queued for subscribers.', () => inputs.dispatcher.snapshot().queuedMessages);
  gauge('gateway_queue_bytes', 'Bytes queued for subscribers.', () => inputs.dispatcher.snapshot().queuedBytes);
  gauge('gateway_socket_buffered_bytes', 'Bytes the sockets hold that the kernel has not taken.', () => inputs.dispatcher.snapshot().socketBufferedBytes);
  gauge('gateway_policy_drops', 'Frames dropped by the delivery policy.', () => inputs.policy.stats().drops);
  gauge('gateway_policy_evictions', 'Subscribers closed by the delivery policy.', () => inputs.policy.stats().evictions);
  return { contentType: registry.contentType, text: () => registry.metrics(), close: () => registry.clear() };
}
