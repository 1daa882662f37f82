// Notification and odds subscribers for k6: each VU opens one graphql-transport-ws connection
// (k6/websockets), subscribes to its user's notifications and to a race's odds, and records the
// delivery latency of every frame: receipt - the result's publication (publishedAt) for a
// notification, receipt - the gateway's send time (sentAt) for odds. Thresholds hold the p99.
// Run: k6 run -e WS_URL=ws://127.0.0.1:4000/graphql -e TOKENS=t1,t2 -e RACE_ID=r1 loadtests/k6/subscribers.ts
// (raceday does not ship or run k6; its tests run this script's default function through a test
// adapter, loadtests/k6-adapter/.)
import { check } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { setTimeout } from 'k6/timers';
import { env, intEnv, tokenForVu } from './lib/env.ts';
import { openGqlWs } from './lib/gql-ws.ts';

export const options: Options = {
  scenarios: {
    subscribers: { executor: 'per-vu-iterations', vus: intEnv('VUS', 100), iterations: 1, maxDuration: '10m' },
  },
  thresholds: {
    notification_delivery_latency: ['p(99)<200'],
    odds_delivery_latency: ['p(99)<200'],
    subscription_errors: ['count==0'],
  },
};

const notificationLatency = new Trend('notification_delivery_latency', true);
const oddsLatency = new Trend('odds_delivery_latency', true);
const notifications = new Counter('notifications_received');
const outOfOrder = new Counter('notifications_out_of_order');
const errors = new Counter('subscription_errors');

const NOTIFICATIONS = 'subscription($afterSeq: Int) { notifications(afterSeq: $afterSeq) { seq raceId kind publishedAt } }';
const ODDS = 'subscription($raceId: ID!) { odds(raceId: $raceId) { raceId sentAt } }';

export default function subscriber(): void {
  let lastSeq = 0;
  const ws = openGqlWs(env('WS_URL'), tokenForVu(), [
    { query: NOTIFICATIONS, variables: { afterSeq: 0 } },
    { query: ODDS, variables: { raceId: env('RACE_ID') } },
  ], {
    onNext(_id, data) {
      const now = Date.now();
      const n = data.notifications as { seq: number; publishedAt: number } | undefined;
      if (n !== undefined) {
        notificationLatency.add(now - n.publishedAt);
        notifications.add(1);
        if (n.seq <= lastSeq) outOfOrder.add(1);
        lastSeq = Math.max(lastSeq, n.seq);
        return;
      }
      const o = data.odds as { sentAt: number } | undefined;
      if (o !== undefined) oddsLatency.add(now - o.sentAt);
    },
    onError() {
      errors.add(1);
    },
  });
  // Listen for the run's length, then leave cleanly.
  setTimeout(() => {
    check(lastSeq, { 'received notifications': (s) => s > 0 });
    ws.close();
  }, intEnv('LISTEN_MS', 60_000));
}
