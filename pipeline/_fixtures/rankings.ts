// Test support: the ranking payloads among notification messages a test tapped off the bus, so
// tests count ranking publications on the bus itself: the race-level broadcasts (one per race
// published); each user's own ranking notification, which precedes it, is not counted here.
import { parseMessage } from '../../core/messages.ts';
import type { RankingPayload } from '../../core/notification.ts';
import { TOPICS } from '../../core/topology.ts';
import { RANKING_BROADCAST_USER } from '../ranking.ts';

export function rankings(published: readonly string[]): RankingPayload[] {
  const out: RankingPayload[] = [];
  for (const data of published) {
    const m = parseMessage(TOPICS.notifications, data);
    if (m.ok && m.value.topic === TOPICS.notifications && m.value.message.payload.kind === 'ranking' && m.value.message.userId === RANKING_BROADCAST_USER) out.push(m.value.message.payload);
  }
  return out;
}
