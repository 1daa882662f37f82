// Proves the wire messages round-trip through encode and parseMessage and that every validator
// rejects each malformed field with an error naming the field and what was wrong: a table of
// (topic, field, bad value, expected message) mutations of valid messages, plus the notification
// builders, their dedupe ids and the client-side deduper.
import { describe, expect, it } from 'vitest';
import {
  encodeNotification,
  encodeRankingNotifications,
  encodeRaceResults,
  encodeSettled,
  encodeSettleRequest,
  encodeSettleRequestBatch,
  MESSAGE_LIMITS,
  parseMessage,
} from './messages.ts';
import { createNotificationDeduper, rankingNotification, rankingNotificationsOf, settledNotification } from './notification.ts';
import type { Settlement } from './settlement-record.ts';

const T0 = 1_790_000_000_000;
const raceResults = { schemaVersion: 1, raceId: 'r1', resultVersion: 1, publishedAt: T0 };
const settleRequest = { schemaVersion: 1, raceId: 'r1', userId: 'u1', resultVersion: 1, publishedAt: T0 };
const settleBatch = { schemaVersion: 1, raceId: 'r1', userIds: ['u1', 'u2'], resultVersion: 1, publishedAt: T0 };
const settled = { schemaVersion: 1, raceId: 'r1', userId: 'u1', settlementId: 'stl:r1:u1:v1', cash: 620, medals: 1800, hits: 2, trifectaHits: 1, resultVersion: 1, publishedAt: T0 };
const settlement: Settlement = { settlementId: 'stl:r1:u1:v1', raceId: 'r1', userId: 'u1', resultVersion: 1, outcomes: [], ledger: [], cashDelta: 620, medalDelta: 1800, hits: 2 };
const notification = { schemaVersion: 1, ...settledNotification(settlement, T0) };
const ranking = { schemaVersion: 1, ...rankingNotification('r1', 'u2', [{ rank: 1, userId: 'u1', cash: 620, medals: 0 }, { rank: 2, userId: 'u2', cash: 0, medals: 5 }], 10, T0) };

const long = 'x'.repeat(MESSAGE_LIMITS.idLengthMax + 1);

// [topic, valid message, field, bad value (undefined deletes the field), expected message]
const mutations: [string, Record<string, unknown>, string, unknown, string][] = [
  ['race-results', raceResults, 'raceId', '', 'race-results.raceId: must be a non-empty string of at most 128 characters, got ""'],
  ['race-results', raceResults, 'raceId', long, 'race-results.raceId: must be a non-empty string of at most 128 characters, got a string of 129 characters'],
  ['race-results', raceResults, 'raceId', 'r 1', 'race-results.raceId: must be a non-empty string of at most 128 characters of visible ASCII'],
  ['race-results', raceResults, 'resultVersion', 1.5, 'race-results.resultVersion: must be a non-negative integer, got number 1.5'],
  ['race-results', raceResults, 'publishedAt', undefined, 'race-results.publishedAt: must be a non-negative integer of epoch milliseconds, got nothing (the field is missing)'],
  ['race-results', raceResults, 'publishedAt', '2026-11-21', 'race-results.publishedAt: must be a non-negative integer of epoch milliseconds, got "2026-11-21"'],
  ['race-results', raceResults, 'extra', 1, 'race-results.extra: unknown field'],
  ['settle-requests', settleRequest, 'userId', 42, 'settle-requests.userId: must be a non-empty string of at most 128 characters, got number 42'],
  ['settle-requests', settleRequest, 'userId', null, 'settle-requests.userId: must be a non-empty string of at most 128 characters, got null'],
  ['settle-requests', settleRequest, 'resultVersion', -1, 'settle-requests.resultVersion: must be a non-negative integer, got number -1'],
  ['settle-requests', settleRequest, 'userID', 'u1', 'settle-requests.userID: unknown field'],
  ['settle-requests', settleBatch, 'userIds', [], 'settle-requests.userIds: must be an array of 1..1000 user ids, got 0 entries'],
  ['settle-requests', settleBatch, 'userIds', 'u1', 'settle-requests.userIds: must be an array of 1..1000 user ids, got "u1"'],
  ['settle-requests', settleBatch, 'userIds', ['u1', 7], 'settle-requests.userIds[1]: must be a non-empty string of at most 128 characters, got number 7'],
  ['settle-requests', settleBatch, 'userIds', ['u1', 'u1'], 'settle-requests.userIds[1]: user id "u1" appears twice'],
  ['settle-requests', settleBatch, 'userIds', Array.from({ length: 1001 }, (_, i) => `u${i}`), 'settle-requests.userIds: must be an array of 1..1000 user ids, got 1001 entries'],
  ['settled', settled, 'settlementId', 'stl:r1:u2:v1', 'settled.settlementId: must be "stl:r1:u1:v1" (derived from raceId, userId and resultVersion), got "stl:r1:u2:v1"'],
  ['settled', settled, 'cash', -5, 'settled.cash: must be a non-negative integer, got number -5'],
  ['settled', settled, 'medals', '10', 'settled.medals: must be a non-negative integer, got "10"'],
  ['settled', settled, 'hits', undefined, 'settled.hits: must be a non-negative integer, got nothing (the field is missing)'],
  ['settled', settled, 'trifectaHits', 3, 'settled.trifectaHits: must be at most hits (2), got 3'],
  ['notifications', notification, 'kind', 'won', 'notifications.kind: must be one of settled, ranking, got "won"'],
  ['notifications', notification, 'kind', 'ranking', 'notifications.payload.kind: must be "ranking" like the message\'s kind, got "settled"'],
  ['notifications', notification, 'payload', [], 'notifications.payload: must be a JSON object, got an array'],
  ['notifications', notification, 'payload', { ...notification.payload, hits: 1.5 }, 'notifications.payload.hits: must be a non-negative integer, got number 1.5'],
  ['notifications', notification, 'payload', { ...notification.payload, raceId: 'r2' }, 'notifications.payload.raceId: must equal raceId "r1", got "r2"'],
  ['notifications', notification, 'notificationId', 'n1', 'notifications.notificationId: must be "ntf:settled:stl:r1:u1:v1" (the dedupe id of its payload), got "n1"'],
  ['notifications', ranking, 'payload', { ...ranking.payload, rank: 0 }, 'notifications.payload.rank: must be a positive integer or null, got 0'],
  ['notifications', ranking, 'payload', { ...ranking.payload, top: [{ rank: 1, userId: 'u1', cash: 1, medals: 0, x: 1 }] }, 'notifications.payload.top[0].x: unknown field'],
  ['notifications', notification, 'seq', 0, "notifications.seq: must be a positive integer (the number in the user's notification log), got 0"],
  ['notifications', notification, 'seq', 2.5, "notifications.seq: must be a positive integer (the number in the user's notification log), got number 2.5"],
  ['notifications', notification, 'seq', '3', "notifications.seq: must be a positive integer (the number in the user's notification log), got \"3\""],
  ['notifications', notification, 'seq', -1, "notifications.seq: must be a positive integer"],
  ['notifications', ranking, 'notificationId', 'ntf:ranking:r1:u1', 'notifications.notificationId: must be "ntf:ranking:r1:u2" (the dedupe id of its payload), got "ntf:ranking:r1:u1"'],
];

describe('message validators', () => {
  for (const [topic, valid, field, bad, message] of mutations) {
    it(`${topic}: rejects ${field} = ${JSON.stringify(bad)?.slice(0, 40)}`, () => {
      const m: Record<string, unknown> = { ...valid, [field]: bad };
      if (bad === undefined) delete m[field];
      expect(parseMessage(topic, JSON.stringify(valid)).ok).toBe(true);
      const r = parseMessage(topic, JSON.stringify(m));
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.code).toBe('MESSAGE.INVALID');
      expect(r.error.message.startsWith(message)).toBe(true);
    });
  }

  it('refuses a wrong or missing schemaVersion with MESSAGE.SCHEMA_VERSION', () => {
    for (const v of [2, undefined, '1']) {
      const r = parseMessage('settled', JSON.stringify({ ...settled, schemaVersion: v }));
      expect(!r.ok && [r.error.code, r.error.message.split(',')[0]]).toEqual(['MESSAGE.SCHEMA_VERSION', 'settled.schemaVersion: must be 1']);
    }
  });

  it('refuses text that is not JSON or not an object, oversized text and unknown topics', () => {
    const notJson = parseMessage('race-results', '{"raceId":');
    expect(!notJson.ok && notJson.error.message).toMatch(/^race-results: is not valid JSON/);
    const array = parseMessage('race-results', '[1]');
    expect(!array.ok && array.error.message).toBe('race-results: must be a JSON object, got an array');
    const big = parseMessage('race-results', ' '.repeat(MESSAGE_LIMITS.messageCharsMax + 1));
    expect(!big.ok && big.error.message).toMatch(/exceeds the limit/);
    const topic = parseMessage('race-result', JSON.stringify(raceResults));
    expect(!topic.ok && topic.error.message).toMatch(/^unknown topic "race-result"/);
  });
});

describe('message encoders', () => {
  it('encode what parseMessage reads back, for every topic and both settle-request forms', () => {
    const cases: [string, string, unknown][] = [
      ['race-results', encodeRaceResults(raceResults), raceResults],
      ['settle-requests', encodeSettleRequest(settleRequest), settleRequest],
      ['settle-requests', encodeSettleRequestBatch(settleBatch), settleBatch],
      ['settled', encodeSettled(settled), settled],
      ['notifications', encodeNotification(notification), notification],
      ['notifications', encodeNotification(ranking), ranking],
      ['notifications', encodeNotification({ ...notification, seq: 42 }), { ...notification, seq: 42 }],
    ];
    for (const [topic, text, expected] of cases) {
      const r = parseMessage(topic, text);
      expect(r.ok && r.value.message).toEqual(expected);
      expect(r.ok && r.value.topic).toBe(topic);
      expect(JSON.parse(text)).toEqual(expected);
    }
    const { trifectaHits: _, ...withoutTrifecta } = settled;
    expect(JSON.parse(encodeSettled(withoutTrifecta))).toEqual(withoutTrifecta);
  });

  it('refuse to encode an invalid message (a producer bug)', () => {
    expect(() => encodeSettleRequest({ ...settleRequest, userId: '' })).toThrow(/refusing to publish an invalid settle-requests message: settle-requests.userId/);
    expect(() => encodeSettled({ ...settled, settlementId: 'x' })).toThrow(/settled.settlementId/);
  });
});

describe('notifications', () => {
  it('carry the settlement as payload and the ranking with the user\'s own rank', () => {
    expect(notification.payload).toEqual({ kind: 'settled', raceId: 'r1', settlementId: 'stl:r1:u1:v1', cash: 620, medals: 1800, hits: 2 });
    expect(ranking.payload).toMatchObject({ kind: 'ranking', rank: 2 });
    expect(rankingNotification('r1', 'u9', [], 10, T0).payload).toEqual({ kind: 'ranking', raceId: 'r1', rank: null, top: [] });
  });

  it('are deduplicated by id on the client, remembering a bounded window', () => {
    const d = createNotificationDeduper(2);
    expect(['a', 'a', 'b', 'c', 'b', 'a'].map((id) => d.accept(id))).toEqual([true, false, true, true, false, true]);
  });
});

describe('encodeRankingNotifications', () => {
  const entries = [
    { rank: 1, userId: 'u2', cash: 900, medals: 0 },
    { rank: 2, userId: 'u1', cash: 100, medals: 5 },
  ];
  for (const leftOut of [undefined, { users: 1, reasons: { 'RESULT.ORDER_INVALID': 1 } }]) {
    it(`writes what encodeNotification writes for each user, the shared part once (${leftOut === undefined ? 'nobody left out' : 'one left out'})`, () => {
      const bodies = rankingNotificationsOf('r1', ['u1', 'u2', 'u9'], entries, 10, T0, leftOut).map((b, i) => ({ ...b, seq: i + 3 }));
      const texts = encodeRankingNotifications(bodies);
      expect(texts).toEqual(bodies.map((b) => encodeNotification(b)));
      expect(JSON.parse(texts[2] as string).payload.rank).toBeNull();
      expect(encodeRankingNotifications([])).toEqual([]);
    });
  }

  it('refuses a message that does not share the first one\'s payload, or has a bad seq, user or id', () => {
    const bodies = rankingNotificationsOf('r1', ['u1', 'u2'], entries, 10, T0).map((b) => ({ ...b, seq: 1 }));
    const second = bodies[1] as (typeof bodies)[number];
    const other = { ...second, payload: { ...second.payload, top: [...(second.payload.kind === 'ranking' ? second.payload.top : [])] } };
    expect(() => encodeRankingNotifications([bodies[0] as (typeof bodies)[number], other])).toThrow(/does not share/);
    expect(() => encodeRankingNotifications([bodies[0] as (typeof bodies)[number], { ...second, seq: 0 }])).toThrow(/seq 0/);
    expect(() => encodeRankingNotifications([bodies[0] as (typeof bodies)[number], { ...second, userId: 'u 2' }])).toThrow(/userId/);
    expect(() => encodeRankingNotifications([bodies[0] as (typeof bodies)[number], { ...second, notificationId: 'ntf:ranking:r1:u1' }])).toThrow(/dedupe id/);
    expect(() => encodeRankingNotifications([{ ...(bodies[0] as (typeof bodies)[number]), seq: -1 }])).toThrow(/seq/);
  });
});
