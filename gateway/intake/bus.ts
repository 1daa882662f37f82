// The `bus` intake: a gateway instance consumes the `notifications` topic through a MessageBus
// subscription (the memory bus inside a run's process, where the subscription is the gateway's
// in the topology). Each delivery becomes an IntakeMessage whose done() acks it; the handler
// awaits onMessage, so a slow dispatcher holds the bus's flow-control window (backpressure).
import type { MessageBus, SubscriptionHandle } from '../../core/ports.ts';
import { deadLetterTopicOf, SUBSCRIPTIONS, TOPICS } from '../../core/topology.ts';
import type { IntakeMessage, NotificationIntake } from '../contracts.ts';
import { intakeCounter, type IntakeStats } from './parse.ts';

export interface BusIntakeOptions {
  /** The subscription on the `notifications` topic (default: the topology's gateway subscription). */
  readonly subscription?: string;
  /** Deliveries handed to the gateway and not yet done (default 1,024). */
  readonly maxInFlight?: number;
  readonly ackDeadlineMs?: number;
  readonly nowMs?: () => number;
}

export interface StatsIntake extends NotificationIntake {
  stats(): IntakeStats;
}

export const BUS_INTAKE_IN_FLIGHT = 1_024;
/** Longest reason kept in the dead letter's attribute (Pub/Sub caps attribute values at 1,024 bytes). */
const DEAD_LETTER_REASON_CHARS_MAX = 512;

export function createBusIntake(bus: MessageBus, options: BusIntakeOptions = {}): StatsIntake {
  const counter = intakeCounter();
  const now = options.nowMs ?? Date.now;
  let handle: SubscriptionHandle | undefined;
  return {
    async start(onMessage: (m: IntakeMessage) => void | Promise<void>) {
      if (handle !== undefined) throw new Error('this intake is already started');
      handle = bus.subscribe(
        options.subscription ?? SUBSCRIPTIONS.gateway.name,
        async (d) => {
          const body = counter.parse(d.data);
          if (body === undefined) {
            // To the dead letters with the reason, as every consumer of the pipeline refuses a
            // malformed message (docs/messages.md); with one subscription per instance each
            // instance files it once, under the same originalMessageId.
            await bus.publish(deadLetterTopicOf(TOPICS.notifications), [{ data: d.data, attributes: { ...d.attributes, reason: counter.lastReason().slice(0, DEAD_LETTER_REASON_CHARS_MAX), originalMessageId: d.messageId, deliveryAttempt: String(d.deliveryAttempt) } }]);
            d.ack();
            return;
          }
          let settled = false;
          await onMessage({
            body,
            receivedAtMs: now(),
            done: () => {
              if (settled) return;
              settled = true;
              d.ack();
            },
          });
        },
        { maxInFlight: options.maxInFlight ?? BUS_INTAKE_IN_FLIGHT, ackDeadlineMs: options.ackDeadlineMs ?? SUBSCRIPTIONS.gateway.ackDeadlineSeconds * 1000 },
      );
    },
    async close() {
      await handle?.close();
      handle = undefined;
    },
    stats: () => counter.stats(),
  };
}
