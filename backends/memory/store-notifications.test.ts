// The memory store's numbers-only notification log (notificationLog: false, for replays at
// scale): the same numbers as the full log, a redelivered id answered its number, no read-back.
import { describe, expect, it } from 'vitest';
import { settledBody } from '../contract/notification-log-contract.ts';
import { createMemoryStore } from './store.ts';

describe('memory notification log, numbers only', () => {
  it('numbers per user like the full log and answers a logged id with its number', async () => {
    const full = createMemoryStore();
    const lean = createMemoryStore({ notificationLog: false });
    const calls = [
      [settledBody('a', 'r1'), settledBody('b', 'r1'), settledBody('a', 'r2')],
      [settledBody('a', 'r1'), settledBody('a', 'r3'), settledBody('a', 'r3')],
      [settledBody('b', 'r1'), settledBody('b', 'r9')],
    ];
    for (const c of calls) expect(await lean.appendNotifications(c)).toEqual(await full.appendNotifications(c));
    expect(await lean.appendNotifications([settledBody('a', 'r4')])).toEqual([4]);
    await expect(lean.notificationsAfter('a', 0, 10)).rejects.toThrow(/numbers only/);
  });
});
