// The unary-pull subscription against a scripted subscriber API (no emulator): acks and nacks of
// one flush window go out as one request each kind, and a close sends what was settled before it.
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
});
