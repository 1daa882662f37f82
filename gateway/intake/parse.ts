// What every intake does with a message's text: parse it as a `notifications` wire message
// (core/messages.ts) into the body the dispatcher routes, or count it as invalid. An invalid
// notification is a producer's bug, not the client's: it is settled with its source (so it cannot
// come back forever) and counted, with the first few reasons kept for the operator.
import { parseNotification } from '../../core/messages.ts';
import type { NotificationBody } from '../../core/notification.ts';

export interface IntakeStats {
  readonly received: number;
  readonly invalid: number;
  /** The first few reasons messages were refused, for the operator. */
  readonly invalidReasons: readonly string[];
}

const REASONS_KEPT = 5;

export interface IntakeCounter {
  /** The body of a valid notification, or undefined (counted as invalid; `lastReason()` says why). */
  parse(data: string): NotificationBody | undefined;
  /** Why the last message parse refused was refused (`CODE: message`). */
  lastReason(): string;
  stats(): IntakeStats;
}

export function intakeCounter(): IntakeCounter {
  let received = 0;
  let invalid = 0;
  const reasons: string[] = [];
  let last = '';
  const refuse = (reason: string): undefined => {
    invalid++;
    last = reason;
    if (reasons.length < REASONS_KEPT) reasons.push(reason);
    return undefined;
  };
  return {
    parse(data) {
      received++;
      let value: unknown;
      try {
        value = JSON.parse(data);
      } catch {
        return refuse(`MESSAGE.INVALID: not JSON: ${data.slice(0, 60)}`);
      }
      const m = parseNotification(value);
      if (!m.ok) return refuse(`${m.error.code}: ${m.error.message}`);
      const { schemaVersion: _version, ...body } = m.value;
      return body;
    },
    lastReason: () => last,
    stats: () => ({ received, invalid, invalidReasons: [...reasons] }),
  };
}
