// The unary-pull subscription against a scripted subscriber API (no emulator): acks and nacks of
// one flush window go out as one request each kind, a close sends what was settled before it and
// gives back at once what is still held, and a pull in flight at the close is never cancelled:
// what it brings is given back.
// The emulator contract (pubsub-bus.contract.test.ts) runs the same code against the real thing.
import type { PubSub } from '@google-cloud/pubsub';
import { describe, expect, it } from 'vitest';
import { PULL_LIMITS, unaryPullSubscription, type PulledMessage } from './pubsub-pull.ts';

function scripted(batches: string[][]) {
  const calls: { kind: 'ack' | 'modify'; ackIds: string[]; seconds?: number }[] = [];
  const api = {
    pull: () => {
      const next = batches.shift() ?? [];
      const p = Promise.resolve([{ receivedMessages: next.map((id) => ({ ackId: `a-${id}`, deliveryAttempt: 1, message: { messageId: id, data: Buffer.from(id).toString('base64'), attributes: {}, publishTime: { seconds: 1, nanos: 0 } } })) }]);
      return Object.assign(p, { cancel: () => undefined });
    },
    acknowledge: async (req: { ackIds: string[] }) => void calls.push({ kind: 'ack', ackIds: req.ackIds }),
    modifyAckDeadline: async (req: { ackIds: string[]; ackDeadlineSeconds: number }) => void calls.push({ kind: 'modify', ackIds: req.ackIds, seconds: req.ackDeadlineSeconds }),
  };
  const pubsub = { projectId: 'p', getClient_: (_: unknown, cb: (e: unknown, c: unknown) => void) => cb(null, api) } as unknown as PubSub;
  return { pubsub, calls };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('unary pull subscription', () => {
  it('sends the acks and nacks of one window as one request each, and none for a message settled twice', async () => {
    const { pubsub, calls } = scripted([['m1', 'm2', 'm3', 'm4']]);
    const sub = unaryPullSubscription(pubsub, 's', { window: 10, ackDeadlineSeconds: 10 });
    const got: PulledMessage[] = [];
    sub.on('message', (m: PulledMessage) => got.push(m));
    sub.on('error', (e) => { throw e; });
    while (got.length < 4) await sleep(5);
    const [m1, m2, m3, m4] = got as [PulledMessage, PulledMessage, PulledMessage, PulledMessage];
    m1.ack();
    m2.ack();
    m3.nack();
    m1.ack(); // already settled: not sent again
    await sleep(PULL_LIMITS.ackFlushMs * 3);
    m4.ack();
    await sub.close();
    const acks = calls.filter((c) => c.kind === 'ack');
    const nacks = calls.filter((c) => c.kind === 'modify' && c.seconds === 0);
    expect(acks.map((c) => c.ackIds)).toEqual([['a-m1', 'a-m2'], ['a-m4']]); // m4's flush was due after the close: sent by it
    expect(nacks.map((c) => c.ackIds)).toEqual([['a-m3']]);
  });

  it('gives back at close what it still holds (never settled), and ignores a settle after the close', async () => {
    const { pubsub, calls } = scripted([['m1', 'm2', 'm3']]);
    const sub = unaryPullSubscription(pubsub, 's', { window: 10, ackDeadlineSeconds: 10 });
    const got: PulledMessage[] = [];
    sub.on('message', (m: PulledMessage) => got.push(m));
    while (got.length < 3) await sleep(5);
    const [m1, m2] = got as [PulledMessage, PulledMessage, PulledMessage];
    m1.ack();
    await sub.close();
    m2.ack(); // after the close: m2 was already given back
    await sleep(PULL_LIMITS.ackFlushMs * 3);
    expect(calls.filter((c) => c.kind === 'ack').map((c) => c.ackIds)).toEqual([['a-m1']]);
    expect(calls.filter((c) => c.kind === 'modify' && c.seconds === 0).map((c) => c.ackIds)).toEqual([['a-m2', 'a-m3']]);
  });

  it('lets a pull in flight at the close return, and gives back what it brought', async () => {
    const calls: { kind: string; ackIds: string[]; seconds?: number }[] = [];
    let answer: (ids: string[]) => void = () => undefined;
    let pulls = 0;
    let cancelled = 0;
    const api = {
      pull: () => {
        pulls++;
        const p = new Promise((resolve) => (answer = (ids) => resolve([{ receivedMessages: ids.map((id) => ({ ackId: `a-${id}`, deliveryAttempt: 1, message: { messageId: id, data: '', attributes: {}, publishTime: { seconds: 1, nanos: 0 } } })) }])));
        return Object.assign(p, { cancel: () => void cancelled++ });
      },
      acknowledge: async (req: { ackIds: string[] }) => void calls.push({ kind: 'ack', ackIds: req.ackIds }),
      modifyAckDeadline: async (req: { ackIds: string[]; ackDeadlineSeconds: number }) => void calls.push({ kind: 'modify', ackIds: req.ackIds, seconds: req.ackDeadlineSeconds }),
    };
    const pubsub = { projectId: 'p', getClient_: (_: unknown, cb: (e: unknown, c: unknown) => void) => cb(null, api) } as unknown as PubSub;
    const sub = unaryPullSubscription(pubsub, 's', { window: 10, ackDeadlineSeconds: 10 });
    const emitted: string[] = [];
    sub.on('message', (m: PulledMessage) => emitted.push(m.id));
    while (pulls < 1) await sleep(5);
    let closed = false;
    const closing = sub.close().then(() => (closed = true));
    await sleep(20);
    expect(closed).toBe(false); // it waits for the pull
    answer(['m5', 'm6']);
    await closing;
    expect(cancelled).toBe(0);
    expect(emitted).toEqual([]);
    expect(calls).toEqual([{ kind: 'modify', ackIds: ['a-m5', 'a-m6'], seconds: 0 }]);
    expect(pulls).toBe(1);
  });
});
