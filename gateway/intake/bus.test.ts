// The `bus` intake on the memory bus: every valid notification reaches the gateway as its body
// (seq included) and is acked when done; an invalid one is counted, dead-lettered with its reason,
// acked and never handed on.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createRealClock } from '../../backends/memory/index.ts';
import { deadLetterTopicOf, TOPICS } from '../../core/topology.ts';
import { createBusIntake } from './bus.ts';
import { collecting, eventually, notificationMessages } from './_fixtures/messages.ts';

describe('bus intake', () => {
  it('hands every notification on with its seq, acks it when done, and counts invalid ones', async () => {
    const bus = createMemoryBus({ clock: createRealClock() });
    const intake = createBusIntake(bus);
    const got = await collecting(intake);
    const messages = notificationMessages(20);
    await bus.publish(TOPICS.notifications, [...messages, { data: '{"schemaVersion":1,"userId":"u1"}' }, { data: 'not json' }]);
    await eventually('every notification', () => got.ids.length === 20 && intake.stats().received === 22);
    expect(got.ids.sort()).toEqual(messages.map((m) => JSON.parse(m.data).notificationId).sort());
    expect(got.messages.find((m) => m.body.userId === 'u3' && m.body.raceId === 'r8')?.body.seq).toBe(2);
    expect(intake.stats()).toMatchObject({ received: 22, invalid: 2 });
    expect(intake.stats().invalidReasons[1]).toMatch(/not JSON/);
    // Refused as every consumer refuses a malformed message: a dead letter with the reason.
    const letters = bus.deadLetters(deadLetterTopicOf(TOPICS.notifications));
    expect(letters.map((l) => [l.data, l.attributes['reason']?.split(':')[0], l.attributes['originalMessageId'] !== undefined])).toEqual([
      ['{"schemaVersion":1,"userId":"u1"}', 'MESSAGE.INVALID', true],
      ['not json', 'MESSAGE.INVALID', true],
    ]);
    const gateway = () => bus.stats().subscriptions.find((s) => s.topic === TOPICS.notifications);
    await eventually('all acked', () => gateway()?.backlog === 0);
    expect(gateway()?.acked).toBe(22);
    await intake.close();
    await bus.close();
  });
});
