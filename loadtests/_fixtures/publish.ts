// Publishing into a real gateway as its intake would: each notification appended to the Store's
// log first (so a reconnecting client's afterSeq is served from there), then delivered with its seq.
import { settledNotificationId, type NotificationBody } from '../../core/notification.ts';
import type { Store } from '../../core/ports.ts';
import type { GatewayHandle } from '../../gateway/server.ts';

let round = 0;

export async function publishRound(store: Pick<Store, 'appendNotifications'>, gw: Pick<GatewayHandle, 'deliver'>, userIds: readonly string[], raceId: string): Promise<void> {
  round++;
  const publishedAt = Date.now();
  const bodies: NotificationBody[] = userIds.map((userId) => {
    const settlementId = `t-${raceId}-${userId}-${round}`;
    return { userId, raceId, kind: 'settled', payload: { kind: 'settled', raceId, settlementId, cash: 100, medals: 0, hits: 1 }, publishedAt, notificationId: settledNotificationId(settlementId) };
  });
  const seqs = await store.appendNotifications(bodies);
  for (let i = 0; i < bodies.length; i++) await gw.deliver({ ...(bodies[i] as NotificationBody), seq: seqs[i] as number }, Date.now());
}

export function publishOddsFrame(gw: Pick<GatewayHandle, 'publishOdds'>, raceId: string, padBytes: number): void {
  const frame = { raceId, sentAt: Date.now(), odds: { pad: 'x'.repeat(padBytes) } };
  gw.publishOdds(raceId, frame, JSON.stringify(frame).length);
}
