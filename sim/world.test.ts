// The notification clients keep two records: every delivery (the bus delivers at least once, so
// an id may arrive several times) and what each user's app showed after dropping duplicates. A
// redelivery long after a thousand other users' notifications is still one app's duplicate, and
// is shown once.
import { describe, expect, it } from 'vitest';
import { createMemoryBus, createVirtualClock } from '../backends/memory/index.ts';
import { settledNotification } from '../core/notification.ts';
import type { BusMessage } from '../core/ports.ts';
import { deadLetterTopicOf, TOPICS } from '../core/topology.ts';
import { notificationMessage } from '../pipeline/notify.ts';
import { startClient } from './world.ts';

function settledFor(userId: string): BusMessage {
  const settlementId = `stl:r1:${userId}:v1`;
  return notificationMessage(settledNotification({ settlementId, raceId: 'r1', userId, resultVersion: 1, cashDelta: 100, medalDelta: 0, hits: 1, outcomes: [], ledger: [] }, 0));
}

async function deliver(messages: readonly BusMessage[][], dedupe = true) {
  const clock = createVirtualClock();
  const bus = createMemoryBus({ clock });
  const client = startClient(bus, clock, { dedupe });
  for (const batch of messages) {
    await bus.publish(TOPICS.notifications, batch);
    await clock.runUntilIdle();
  }
  await bus.close();
  return client;
}

describe('the notification clients', () => {
  it('record every delivery apart from what they showed', async () => {
    const m = settledFor('u1');
    const client = await deliver([[m], [m], [m]]);
    const id = 'ntf:settled:stl:r1:u1:v1';
    expect(client.view.delivered.get(id)).toEqual({ userId: 'u1', times: 3, differing: 0 });
    expect(client.view.shown.get(id)?.times).toBe(1);
    expect(client.shownCount()).toBe(1);
  });

  it('show a redelivery once even after more than a dedupe window of other users\' notifications', async () => {
    // 1,100 users' notifications pass before the first one is redelivered: one window of 1,024
    // ids over every user would have forgotten it and shown it twice.
    const users = Array.from({ length: 1_100 }, (_, i) => `u${i}`);
    const client = await deliver([users.map(settledFor), [settledFor('u0')]]);
    const id = 'ntf:settled:stl:r1:u0:v1';
    expect(client.view.shown.get(id)?.times).toBe(1);
    expect(client.view.delivered.get(id)?.times).toBe(2);
    expect(client.shownCount()).toBe(1_100);
  });

  it('without its dedupe shows every delivery (what the shown-exactly-once check catches)', async () => {
    const m = settledFor('u1');
    const client = await deliver([[m], [m]], false);
    expect(client.view.shown.get('ntf:settled:stl:r1:u1:v1')?.times).toBe(2);
  });

  it('count deliveries of one id with different contents', async () => {
    const a = settledFor('u1');
    const b = { ...a, data: a.data.replace('"cash":100', '"cash":200') };
    expect(b.data).not.toBe(a.data);
    const client = await deliver([[a], [b]]);
    expect(client.view.delivered.get('ntf:settled:stl:r1:u1:v1')).toEqual({ userId: 'u1', times: 2, differing: 1 });
  });

  it('dead-letter a malformed notification with the reason at its first delivery, as the gateway refuses it', async () => {
    const clock = createVirtualClock();
    const bus = createMemoryBus({ clock });
    const client = startClient(bus, clock);
    await bus.publish(TOPICS.notifications, [{ data: '{"schemaVersion":1,' }, { data: '{"schemaVersion":2}' }]);
    await clock.runUntilIdle();
    const letters = bus.deadLetters(deadLetterTopicOf(TOPICS.notifications));
    expect(letters.map((l) => [l.data, l.attributes['deliveryAttempt'], l.attributes['reason']?.split(':')[0]])).toEqual([
      ['{"schemaVersion":1,', '1', 'MESSAGE.INVALID'],
      ['{"schemaVersion":2}', '1', 'MESSAGE.SCHEMA_VERSION'],
    ]);
    expect(client.shownCount()).toBe(0);
    await bus.close();
  });
});
