// Proves `raceday deadletters` on the Pub/Sub emulator: `list` shows the dead letters of a topic
// with reason and attempts and leaves them in place; `redrive` publishes them back to the topic
// without the dead-letter attributes and empties the dead letters; misuse is a usage error (exit 2).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPubSubBus } from '../../backends/google/pubsub-bus.ts';
import { deadLetterTopicOf, SUBSCRIPTIONS, TOPICS } from '../../core/topology.ts';
import { provisionPubSub } from '../../emulators/index.ts';
import { describeWithEmulators, useEmulators } from '../../emulators/test-support.ts';
import { command } from './deadletters.ts';
import { capture } from '../_fixtures/capture.ts';

afterEach(() => vi.restoreAllMocks());

describe('raceday deadletters misuse', () => {
  it('refuses a missing action, an unknown topic and the memory backend with exit 2', async () => {
    expect((await capture(() => command.run(['--topic', TOPICS.settled]))).code).toBe(2);
    const unknown = await capture(() => command.run(['list', '--topic', 'nope']));
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('--topic must be one of');
    const memory = await capture(() => command.run(['list', '--topic', TOPICS.settled, '--backend', 'memory']));
    expect(memory.code).toBe(2);
    expect(memory.err).toContain('inside the process');
  });
});

describeWithEmulators('raceday deadletters on the emulators', () => {
  const emulators = useEmulators({ pubsub: true, spanner: false });

  it('lists dead letters with reason and attempts, then re-drives them to their topic', async () => {
    const handle = emulators();
    await provisionPubSub(handle);
    const bus = createPubSubBus({ projectId: handle.projectId, emulatorHost: handle.pubsubHost as string });
    try {
      const request = (u: string) => JSON.stringify({ schemaVersion: 1, raceId: 'r1', userId: u, resultVersion: 1, publishedAt: 0 });
      await bus.publish(deadLetterTopicOf(TOPICS.settleRequests), [
        { data: request('u1'), attributes: { reason: 'BET.COMBINATION_INVALID: exacta combination "3-3"', userId: 'u1', deliveryAttempt: '1', trace: 't1' } },
        { data: request('u2'), attributes: { reason: 'DELIVERY.ATTEMPTS_EXHAUSTED: attempt 5 of 5 failed: boom', userId: 'u2', deliveryAttempt: '5' } },
      ]);
      const args = ['--topic', TOPICS.settleRequests, '--project', handle.projectId, '--quiet-ms', '1500', '--json'];
      const listed = await capture(() => command.run(['list', ...args]));
      expect(listed.code).toBe(0);
      const letters = (JSON.parse(listed.out) as { deadLetters: { userId: string; attempts: number; reason: string }[] }).deadLetters.sort((a, b) => a.userId.localeCompare(b.userId));
      expect(letters.map((l) => [l.userId, l.attempts, l.reason.split(':')[0]])).toEqual([
        ['u1', 1, 'BET.COMBINATION_INVALID'],
        ['u2', 5, 'DELIVERY.ATTEMPTS_EXHAUSTED'],
      ]);
      // Listing leaves them in place.
      const again = await capture(() => command.run(['list', ...args]));
      expect((JSON.parse(again.out) as { deadLetters: unknown[] }).deadLetters).toHaveLength(2);

      const arrived: { data: string; attributes: Readonly<Record<string, string>> }[] = [];
      const sub = bus.subscribe(SUBSCRIPTIONS.settle.name, async (d) => {
        arrived.push({ data: d.data, attributes: d.attributes });
        d.ack();
      }, { maxInFlight: 10, ackDeadlineMs: 10_000 });
      const redriven = await capture(() => command.run(['redrive', ...args]));
      expect(redriven.code).toBe(0);
      expect((JSON.parse(redriven.out) as { deadLetters: unknown[] }).deadLetters).toHaveLength(2);
      for (let i = 0; i < 100 && arrived.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
      await sub.close();
      expect(arrived.map((a) => a.data).sort()).toEqual([request('u1'), request('u2')]);
      const withTrace = arrived.find((a) => a.data === request('u1'));
      expect(withTrace?.attributes).toEqual({ trace: 't1' });
      const empty = await capture(() => command.run(['list', ...args]));
      expect((JSON.parse(empty.out) as { deadLetters: unknown[] }).deadLetters).toEqual([]);
    } finally {
      await bus.close();
    }
  }, 60_000);
});
