// Poison messages (not JSON, wrong schema, unknown race) go to the topic's dead-letter topic with
// the reason as an attribute and are then acked: a message that can never succeed must not loop.
import type { Delivery, MessageBus } from '../core/ports.ts';
import { deadLetterTopicOf } from '../core/topology.ts';

/** Longest reason kept in the attribute (Pub/Sub attribute values are capped at 1,024 bytes). */
const REASON_CHARS_MAX = 512;

/** Dead-letters one user of a (batched) message whose settlement the pure core refused; the delivery is not acked here. */
export async function deadLetterUser(bus: MessageBus, topic: string, data: string, userId: string, reason: string, originalMessageId?: string, deliveryAttempt?: number): Promise<void> {
  const attributes: Record<string, string> = { reason: reason.slice(0, REASON_CHARS_MAX), userId };
  if (deliveryAttempt !== undefined) attributes['deliveryAttempt'] = String(deliveryAttempt);
  if (originalMessageId !== undefined) attributes['originalMessageId'] = originalMessageId;
  await bus.publish(deadLetterTopicOf(topic), [{ data, attributes }]);
}

export async function deadLetter(bus: MessageBus, topic: string, delivery: Delivery, reason: string): Promise<void> {
  await bus.publish(deadLetterTopicOf(topic), [
    {
      data: delivery.data,
      attributes: { ...delivery.attributes, reason: reason.slice(0, REASON_CHARS_MAX), originalMessageId: delivery.messageId, deliveryAttempt: String(delivery.deliveryAttempt) },
    },
  ]);
  delivery.ack();
}
