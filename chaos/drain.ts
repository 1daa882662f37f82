// A graceful stop of a worker process: stop handing out work, let the handlers already running
// finish (their acks reach the bus), then close. Neither the bus nor the pipeline can do this on
// their own: closing a Pub/Sub subscription nacks every message its process holds, those whose
// handlers are still running included, and the pipeline's stop() drops the acks of handlers still
// running (it treats them as a dead process's). So the worker wraps the bus it hands the pipeline:
// once draining, a new delivery is held (never given to the handler, never settled: the
// subscription's close gives it back at once), and drain() resolves when no handler runs.
// Holding instead of nacking matters: a nacked message comes back to the same, still pulling,
// subscriber, and every round trip spends one of its delivery attempts (five, then the bus
// dead-letters it).
import type { DeliveryHandler, MessageBus } from '../core/ports.ts';

export interface DrainableBus extends MessageBus {
  /** Handlers running now. */
  inFlight(): number;
  /** Deliveries held since draining began (given back when the subscriptions close). */
  held(): number;
  /** Stops handing out deliveries and waits until no handler runs, or `timeoutMs`; true when none runs. */
  drain(timeoutMs: number): Promise<boolean>;
}

export function drainableBus(bus: MessageBus): DrainableBus {
  let running = 0;
  let held = 0;
  let draining = false;
  const idleWaiters: (() => void)[] = [];
  const wrap =
    (handler: DeliveryHandler): DeliveryHandler =>
    async (d) => {
      if (draining) {
        held++;
        // Never settled here: the subscription's close nacks what its process still holds.
        return new Promise<void>(() => undefined);
      }
      running++;
      try {
        await handler(d);
      } finally {
        running--;
        if (running === 0) for (const wake of idleWaiters.splice(0)) wake();
      }
    };
  return {
    publish: (topic, messages) => bus.publish(topic, messages),
    subscribe: (subscription, handler, options) => bus.subscribe(subscription, wrap(handler), options),
    close: () => bus.close(),
    inFlight: () => running,
    held: () => held,
    async drain(timeoutMs) {
      draining = true;
      if (running === 0) return true;
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<boolean>((resolve) => idleWaiters.push(() => resolve(true)));
      const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const drained = await Promise.race([idle, late]);
      clearTimeout(timer);
      return drained;
    },
  };
}
