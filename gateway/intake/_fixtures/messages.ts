// Test support for the intake tests: valid notification messages as the pipeline publishes them,
// and a collector that waits until every instance received what was published.
import { settledBody } from '../../../backends/contract/notification-log-contract.ts';
import type { BusMessage } from '../../../core/ports.ts';
import type { IntakeMessage, NotificationIntake } from '../../contracts.ts';
import { notificationMessage } from '../../../pipeline/notify.ts';

/** `n` numbered settled notifications of users u0..u4, as the notify stage publishes them. */
export function notificationMessages(n: number, prefix = 'r'): BusMessage[] {
  return Array.from({ length: n }, (_, i) => notificationMessage({ ...settledBody(`u${i % 5}`, `${prefix}${i}`), seq: Math.floor(i / 5) + 1 }));
}

/** Starts an intake that records every notification id it receives and marks it done. */
export async function collecting(intake: NotificationIntake): Promise<{ ids: string[]; messages: IntakeMessage[] }> {
  const got = { ids: [] as string[], messages: [] as IntakeMessage[] };
  await intake.start((m) => {
    got.ids.push(m.body.notificationId);
    got.messages.push(m);
    m.done();
  });
  return got;
}

export async function eventually(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
