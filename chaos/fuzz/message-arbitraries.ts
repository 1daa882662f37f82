// Malformed and schema-violating messages for every topic the pipeline reads, generated with
// fast-check from the message contracts (core/messages.ts, docs/messages.md). Each kind breaks
// one rule of the contract on top of a valid message of the race under test, so what the
// pipeline must do with it is known: refuse it with a reason, never settle, pay or notify by it.
// Kinds `unknown-race` and `other-version` are well formed: the race lookup (receive.ts) refuses
// them, not the parser. `forged` (on `settled` only) is well formed too, about a real user of the
// race, with facts no settlement has (hits >= 1,000): post-settle and notify refuse it against the
// stored settlement (pipeline/settled-check.ts), before the user settled or after.
import fc from 'fast-check';
import { SCHEMA_VERSION, MESSAGE_LIMITS } from '../../core/messages.ts';
import { settledNotificationId } from '../../core/notification.ts';
import { settlementIdOf } from '../../core/settlement-record.ts';
import { TOPICS } from '../../core/topology.ts';

/** The topics whose messages the pipeline (or, for `notifications`, the gateway's intake) parses. */
export const FUZZ_TOPICS = [TOPICS.raceResults, TOPICS.settleRequests, TOPICS.settled, TOPICS.notifications] as const;
export type FuzzTopic = (typeof FUZZ_TOPICS)[number];

export const MALFORMATIONS = [
  'not-json',
  'not-an-object',
  'truncated',
  'schema-version',
  'missing-field',
  'extra-field',
  'wrong-type',
  'bad-number',
  'bad-id',
  'oversized',
  'unknown-race',
  'other-version',
  'forged',
] as const;

/** A `forged` message's hits: more than any user of a generated day can hit. */
export const FORGED_HITS_MIN = 1_000;
export type Malformation = (typeof MALFORMATIONS)[number];

/** The race under test, whose valid messages the malformations start from. */
export interface FuzzRace {
  readonly raceId: string;
  readonly resultVersion: number;
  readonly userIds: readonly string[];
  readonly publishedAt: number;
}

export interface FuzzMessage {
  readonly topic: FuzzTopic;
  readonly kind: Malformation;
  readonly data: string;
  /** Attributes as a hostile publisher sets them: none, junk, or a forged `reason`. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** The kinds that make sense on a topic: notifications are not matched against a race's result. */
export function kindsOf(topic: FuzzTopic): readonly Malformation[] {
  if (topic === TOPICS.notifications) return MALFORMATIONS.filter((k) => k !== 'unknown-race' && k !== 'other-version' && k !== 'forged');
  if (topic !== TOPICS.settled) return MALFORMATIONS.filter((k) => k !== 'forged');
  return MALFORMATIONS;
}

type Obj = Record<string, unknown>;

/** A valid message of `topic` about `userId` of the race (the base every malformation edits). */
function valid(topic: FuzzTopic, race: FuzzRace, userId: string, raceId = race.raceId, resultVersion = race.resultVersion): Obj {
  const base = { schemaVersion: SCHEMA_VERSION, raceId, resultVersion, publishedAt: race.publishedAt };
  const settlementId = settlementIdOf(raceId, userId, resultVersion);
  switch (topic) {
    case TOPICS.raceResults:
      return base;
    case TOPICS.settleRequests:
      return { ...base, userId };
    case TOPICS.settled:
      return { ...base, userId, settlementId, cash: 0, medals: 0, hits: 0 };
    case TOPICS.notifications: {
      const payload = { kind: 'settled', raceId, settlementId, cash: 0, medals: 0, hits: 0 };
      return { schemaVersion: SCHEMA_VERSION, userId, raceId, kind: 'settled', payload, publishedAt: race.publishedAt, notificationId: settledNotificationId(settlementId), seq: 1 };
    }
  }
}

/** Fields a message of the topic must have (each one's absence is a violation). */
const REQUIRED: Readonly<Record<FuzzTopic, readonly string[]>> = {
  [TOPICS.raceResults]: ['schemaVersion', 'raceId', 'resultVersion', 'publishedAt'],
  [TOPICS.settleRequests]: ['schemaVersion', 'raceId', 'userId', 'resultVersion', 'publishedAt'],
  [TOPICS.settled]: ['schemaVersion', 'raceId', 'userId', 'settlementId', 'cash', 'medals', 'hits', 'resultVersion', 'publishedAt'],
  [TOPICS.notifications]: ['schemaVersion', 'userId', 'raceId', 'kind', 'payload', 'publishedAt', 'notificationId'],
};

const NUMBER_FIELDS: Readonly<Record<FuzzTopic, readonly string[]>> = {
  [TOPICS.raceResults]: ['resultVersion', 'publishedAt'],
  [TOPICS.settleRequests]: ['resultVersion', 'publishedAt'],
  [TOPICS.settled]: ['cash', 'medals', 'hits', 'resultVersion', 'publishedAt'],
  [TOPICS.notifications]: ['publishedAt', 'seq'],
};

const ID_FIELDS: Readonly<Record<FuzzTopic, readonly string[]>> = {
  [TOPICS.raceResults]: ['raceId'],
  [TOPICS.settleRequests]: ['raceId', 'userId'],
  [TOPICS.settled]: ['raceId', 'userId'],
  [TOPICS.notifications]: ['raceId', 'userId'],
};

/** Every field name a topic knows (an extra field must be none of these). */
const KNOWN = new Set(['schemaVersion', 'raceId', 'userId', 'userIds', 'settlementId', 'cash', 'medals', 'hits', 'trifectaHits', 'resultVersion', 'publishedAt', 'kind', 'payload', 'notificationId', 'seq']);

const parses = (s: string): boolean => {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
};

/** Values of any JSON type but a non-negative safe integer. */
const notACount: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);

/** Numbers JSON can carry that are no count: negative, fractional, beyond 2^53, or overflowing to Infinity (written as text). */
const badNumberText: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: -1_000_000_000, max: -1 }).map(String),
  fc.double({ min: 0.001, max: 1e9, noNaN: true, noDefaultInfinity: true }).filter((x) => !Number.isInteger(x)).map(String),
  fc.bigInt({ min: 2n ** 53n, max: 2n ** 80n }).map(String),
  fc.constantFrom('1e400', '-1e400', '-0.5', '9007199254740993'),
);

/** Ids the contract refuses: empty, longer than 128, or with characters outside visible ASCII. */
const badId: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.string({ minLength: MESSAGE_LIMITS.idLengthMax + 1, maxLength: 600 }),
  fc.tuple(fc.string({ maxLength: 20 }), fc.constantFrom(' ', '\u0000', '\n', 'é', '競輪', '🏁', '\u200b', '\ud800'), fc.string({ maxLength: 20 })).map(([a, b, c]) => `${a}${b}${c}`),
);

/** A well-formed id that names no race or user of the world (the world's ids start with `r` and `u`). */
const strangerId = fc.stringMatching(/^[!-~]{1,40}$/).map((s) => `x${s}`.slice(0, 128));

const attributesArb: fc.Arbitrary<Record<string, string>> = fc.oneof(
  fc.constant({}),
  fc.dictionary(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_]{0,15}$/), fc.string({ maxLength: 40 }), { maxKeys: 3 }),
  fc.string({ maxLength: 40 }).map((reason) => ({ reason, originalMessageId: 'forged' })),
);

function edited(topic: FuzzTopic, race: FuzzRace, edit: (o: Obj, userId: string) => fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.constantFrom(...race.userIds).chain((userId) => edit(valid(topic, race, userId), userId));
}

const withField = (o: Obj, key: string, value: unknown): string => JSON.stringify({ ...o, [key]: value });

/** Replaces `key`'s value with raw JSON text (numbers JSON.stringify cannot write, e.g. 1e400). */
const withRawField = (o: Obj, key: string, text: string): string => {
  const marker = '"__raw_value_marker__"';
  return JSON.stringify({ ...o, [key]: '__raw_value_marker__' }).replace(marker, text);
};

function bodyOf(topic: FuzzTopic, kind: Malformation, race: FuzzRace): fc.Arbitrary<string> {
  switch (kind) {
    case 'not-json':
      return fc.oneof(fc.string({ maxLength: 200 }), fc.string({ maxLength: 50 }).map((s) => `{${s}`), fc.constantFrom('', 'undefined', "{'a':1}", 'NaN', '{"a":1,}')).filter((s) => !parses(s));
    case 'not-an-object':
      return fc.oneof(fc.integer(), fc.string({ maxLength: 20 }), fc.constant(null), fc.boolean(), fc.array(fc.integer(), { maxLength: 4 })).map((v) => JSON.stringify(v));
    case 'truncated':
      return edited(topic, race, (o) => {
        const text = JSON.stringify(o);
        return fc.integer({ min: 0, max: text.length - 1 }).map((n) => text.slice(0, n));
      });
    case 'schema-version':
      return edited(topic, race, (o) => fc.oneof(fc.integer().filter((v) => v !== SCHEMA_VERSION), notACount, fc.constant(undefined), fc.constant(1.5)).map((v) => withField(o, 'schemaVersion', v)));
    case 'missing-field':
      return edited(topic, race, (o) =>
        fc.constantFrom(...REQUIRED[topic]).map((k) => {
          const { [k]: _drop, ...rest } = o;
          return JSON.stringify(rest);
        }),
      );
    case 'extra-field':
      return edited(topic, race, (o) => fc.tuple(fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !KNOWN.has(k) && k !== '__proto__'), fc.jsonValue({ maxDepth: 2 })).map(([k, v]) => withField(o, k, v)));
    case 'wrong-type':
      return edited(topic, race, (o) =>
        fc.oneof(
          fc.tuple(fc.constantFrom(...NUMBER_FIELDS[topic]), notACount).map(([k, v]) => withField(o, k, v)),
          fc.tuple(fc.constantFrom(...ID_FIELDS[topic]), fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }))).map(([k, v]) => withField(o, k, v)),
        ),
      );
    case 'bad-number':
      return edited(topic, race, (o) => fc.tuple(fc.constantFrom(...NUMBER_FIELDS[topic]), badNumberText).map(([k, t]) => withRawField(o, k, t)));
    case 'bad-id':
      return edited(topic, race, (o) => fc.tuple(fc.constantFrom(...ID_FIELDS[topic]), badId).map(([k, v]) => withField(o, k, v)));
    case 'oversized':
      // Past the 1,000,000-character limit: refused before it is parsed at all.
      return edited(topic, race, (o) => fc.integer({ min: 1, max: 5_000 }).map((n) => `${JSON.stringify(o).slice(0, -1)}${' '.repeat(MESSAGE_LIMITS.messageCharsMax + n)}}`));
    case 'unknown-race':
      return fc.tuple(fc.constantFrom(...race.userIds), strangerId).map(([userId, raceId]) => JSON.stringify(valid(topic, race, userId, raceId)));
    case 'forged':
      return fc
        .tuple(fc.constantFrom(...race.userIds), fc.integer({ min: FORGED_HITS_MIN, max: 1_000_000 }), fc.integer({ min: 0, max: 10_000_000 }))
        .map(([userId, hits, cash]) => JSON.stringify({ ...valid(topic, race, userId), hits, cash }));
    case 'other-version':
      return fc
        .tuple(fc.constantFrom(...race.userIds), fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1_000_000 }), fc.constant(Number.MAX_SAFE_INTEGER)).filter((v) => v !== race.resultVersion))
        .map(([userId, v]) => JSON.stringify(valid(topic, race, userId, race.raceId, v)));
  }
}

/** One malformed message of `kind` on `topic`, about the race under test. */
export function malformedMessage(topic: FuzzTopic, kind: Malformation, race: FuzzRace): fc.Arbitrary<FuzzMessage> {
  return fc.tuple(bodyOf(topic, kind, race), attributesArb).map(([data, attributes]) => ({ topic, kind, data, attributes }));
}

/** `runs` messages of every (topic, kind), drawn from `seed`: the same seed draws the same messages. */
export function drawMessages(race: FuzzRace, runs: number, seed: number, topics: readonly FuzzTopic[] = FUZZ_TOPICS): FuzzMessage[] {
  const out: FuzzMessage[] = [];
  let cell = 0;
  for (const topic of topics) {
    for (const kind of kindsOf(topic)) out.push(...fc.sample(malformedMessage(topic, kind, race), { seed: seed + 7919 * cell++, numRuns: runs }));
  }
  return out;
}
