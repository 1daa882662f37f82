// The deadline rush for k6: placeBet (GraphQL over HTTP, bearer tokens) at an arrival rate that
// ramps up to the race's close, with thresholds on latency, transport failures and answers.
// Run: k6 run -e GRAPHQL_URL=http://127.0.0.1:4000/graphql -e TOKENS=t1,t2 -e RACE_ID=r1 loadtests/k6/deadline-rush.ts
// (raceday does not ship or run k6; its tests run this script's default function through a test
// adapter, loadtests/k6-adapter/.)
import { check } from 'k6';
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { env, intEnv, tokenForVu } from './lib/env.ts';

export const options: Options = {
  scenarios: {
    rush: {
      executor: 'ramping-arrival-rate',
      startRate: intEnv('START_RATE', 20),
      timeUnit: '1s',
      preAllocatedVUs: intEnv('VUS', 50),
      stages: [
        { target: intEnv('PEAK_RATE', 500), duration: env('RAMP', '60s') },
        { target: intEnv('PEAK_RATE', 500), duration: env('AFTER_CLOSE', '5s') },
      ],
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(99)<500'],
    bets_answered: ['rate>0.99'],
    bets_accepted: ['count>0'],
  },
};

const accepted = new Counter('bets_accepted');
const refused = new Counter('bets_refused');
const betLatency = new Trend('bet_latency', true);
const answerRate = new Rate('bets_answered');

const MUTATION = 'mutation PlaceBet($input: BetInput!, $key: String!) { placeBet(input: $input, idempotencyKey: $key) { ticket { ticketId } } }';

/** A trifecta of three distinct riders, different from one iteration to the next. */
function combination(i: number, riders: number): string {
  const a = (i % riders) + 1;
  const b = (a % riders) + 1;
  const c = (b % riders) + 1;
  return `${a}-${b}-${c}`;
}

interface Answer {
  data?: { placeBet?: { ticket?: { ticketId?: string } } | null } | null;
  errors?: { extensions?: { code?: string } }[];
}

export default function rush(): void {
  const riders = intEnv('RIDERS', 7);
  const key = `k6-${env('RUN_ID', 'rush')}-${__VU}-${__ITER}`;
  const body = JSON.stringify({ query: MUTATION, variables: { key, input: { raceId: env('RACE_ID'), betType: 'trifecta', combination: combination(__ITER + __VU, riders), stake: 100, currency: 'cash' } } });
  const res = http.post(env('GRAPHQL_URL'), body, { headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenForVu()}` } });
  betLatency.add(res.timings.duration);
  const answer = (typeof res.body === 'string' ? JSON.parse(res.body) : {}) as Answer;
  const ticketId = answer.data?.placeBet?.ticket?.ticketId;
  const code = answer.errors?.[0]?.extensions?.code;
  check(res, {
    'answered with a ticket or an error code': () => ticketId !== undefined || code !== undefined,
    'HTTP 200': (r) => r.status === 200,
  });
  if (ticketId !== undefined) accepted.add(1);
  else refused.add(1, { code: code ?? 'none' });
  answerRate.add(ticketId !== undefined || code !== undefined);
}
