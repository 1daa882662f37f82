// Small field checks shared by the wire-message validators (messages.ts, notification.ts). Each
// returns a Result whose message names the field as `<topic>.<field>: <what was wrong>`, so a
// dead-lettered message says exactly why it was refused.
import { err, ok, type DomainError, type Result } from './result.ts';

/** Limits of the wire format, in one place. */
export const WIRE_LIMITS = Object.freeze({
  /** Race ids and user ids: visible ASCII, 1..128 characters (Spanner keys, Pub/Sub attributes). */
  idLengthMax: 128,
  /** Derived ids (settlement, notification) embed two ids plus a prefix. */
  derivedIdLengthMax: 320,
  /** userIds in one `user-batch:N` settle request; keeps a message far below Pub/Sub's 10 MB. */
  batchUsersMax: 1000,
  /** Entries of a ranking shown in a notification. */
  rankingTopMax: 100,
  /** A message's JSON text; anything longer is refused before parsing. */
  messageCharsMax: 1_000_000,
});

export type Fields = Readonly<Record<string, unknown>>;

const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

export function invalid(path: string, what: string): { readonly ok: false; readonly error: DomainError } {
  return err('MESSAGE.INVALID', `${path}: ${what}`, path);
}

/** The value as a plain JSON object, or an error naming `path`. */
export function objectAt(value: unknown, path: string): Result<Fields> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid(path, `must be a JSON object, got ${describe(value)}`);
  return ok(value as Fields);
}

/** Refuses fields outside `known`: a typo such as `userID` must not pass as a missing optional. */
export function onlyKnownFields(o: Fields, known: readonly string[], path: string): Result<true> {
  for (const key of Object.keys(o)) if (!known.includes(key)) return invalid(`${path}.${key}`, 'unknown field');
  return ok(true);
}

export function idAt(o: Fields, key: string, path: string, lengthMax: number = WIRE_LIMITS.idLengthMax): Result<string> {
  return idValue(o[key], `${path}.${key}`, lengthMax);
}

export function idValue(v: unknown, path: string, lengthMax: number = WIRE_LIMITS.idLengthMax): Result<string> {
  const rule = `must be a non-empty string of at most ${lengthMax} characters`;
  if (typeof v !== 'string' || v.length === 0 || v.length > lengthMax) return invalid(path, `${rule}, got ${describe(v)}`);
  if (!VISIBLE_ASCII.test(v)) return invalid(path, `${rule} of visible ASCII (no spaces or control characters), got ${JSON.stringify(v)}`);
  return ok(v);
}

/** A non-negative safe integer (money, medals, counts, versions, epoch milliseconds). */
export function countAt(o: Fields, key: string, path: string, what = 'a non-negative integer'): Result<number> {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return invalid(`${path}.${key}`, `must be ${what}, got ${describe(v)}`);
  return ok(v);
}

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'object') return v === null ? 'null' : 'an object';
  return `${typeof v} ${String(v)}`;
}
