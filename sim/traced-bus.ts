// A MessageBus wrapper that writes every publish, delivery, ack and nack to the trace, stamped
// with virtual time. The trace is what a seed must reproduce byte for byte.
import type { Clock, Delivery, MessageBus } from '../core/ports.ts';
import type { Trace } from './trace.ts';

export function traceBus(bus: MessageBus, trace: Trace, clock: Clock): MessageBus {
  return {
    async publish(topic, messages) {
      for (const m of messages) trace.add(`${clock.nowMs()} pub ${topic} ${m.data}${m.attributes?.['reason'] !== undefined ? ` reason=${m.attributes['reason']}` : ''}`);
      await bus.publish(topic, messages);
    },
    subscribe(subscription, handler, options) {
      return bus.subscribe(
        subscription,
        (d) => {
          trace.add(`${clock.nowMs()} dlv ${subscription} ${d.messageId} a${d.deliveryAttempt}`);
          const traced: Delivery = {
            messageId: d.messageId,
            data: d.data,
            attributes: d.attributes,
            deliveryAttempt: d.deliveryAttempt,
            publishTimeMs: d.publishTimeMs,
            ack() {
              trace.add(`${clock.nowMs()} ack ${subscription} ${d.messageId}`);
              d.ack();
            },
            nack() {
              trace.add(`${clock.nowMs()} nack ${subscription} ${d.messageId}`);
              d.nack();
            },
          };
          return handler(traced);
        },
        options,
      );
    },
    close: () => bus.close(),
  };
}
