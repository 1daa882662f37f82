// Who is calling: a signed token (JWT, HS256, with an expiry) whose subject is the user id. The
// user id comes only from a verified token, never from a query's arguments, so a caller can only
// ever name themselves. Tokens travel in the HTTP `Authorization: Bearer` header and in the
// graphql-transport-ws `connection_init` payload `{ token }`.
import { decodeJwt, errors, jwtVerify, SignJWT } from 'jose';
import { ok, type Result } from '../core/result.ts';
import { WIRE_LIMITS } from '../core/wire-check.ts';
import { gatewayError, type GatewayError } from './errors.ts';

const ALGORITHM = 'HS256';
/** HS256 keys shorter than the hash output weaken it (RFC 7518 3.2). */
export const SECRET_BYTES_MIN = 32;
/** Tokens longer than this are refused unread (a header or init payload cannot carry megabytes into the verifier). */
export const TOKEN_LENGTH_MAX = 2_048;

export function secretKey(secret: Uint8Array | string): Uint8Array {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (key.byteLength < SECRET_BYTES_MIN) throw new Error(`the gateway secret must be at least ${SECRET_BYTES_MIN} bytes, got ${key.byteLength}`);
  return key;
}

const validUserId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= WIRE_LIMITS.idLengthMax;

/** A token for `userId`, valid for `ttlSeconds` from now. */
export async function signToken(userId: string, secret: Uint8Array | string, ttlSeconds: number): Promise<string> {
  if (!validUserId(userId)) throw new Error(`user id must be 1..${WIRE_LIMITS.idLengthMax} characters, got ${JSON.stringify(userId)}`);
  if (!Number.isFinite(ttlSeconds)) throw new Error(`ttlSeconds must be a number of seconds, got ${ttlSeconds}`);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({}).setProtectedHeader({ alg: ALGORITHM }).setSubject(userId).setIssuedAt(now).setExpirationTime(now + Math.trunc(ttlSeconds)).sign(secretKey(secret));
}

/** The token's user, or why it is refused: GATEWAY.UNAUTHENTICATED, GATEWAY.TOKEN_INVALID or GATEWAY.TOKEN_EXPIRED. */
export async function verifyToken(token: unknown, secret: Uint8Array | string): Promise<Result<{ userId: string }, GatewayError>> {
  if (token === undefined || token === null || token === '') return gatewayError('GATEWAY.UNAUTHENTICATED', 'a token is required');
  if (typeof token !== 'string') return gatewayError('GATEWAY.TOKEN_INVALID', 'the token must be a string');
  if (token.length > TOKEN_LENGTH_MAX) return gatewayError('GATEWAY.TOKEN_INVALID', `the token is longer than ${TOKEN_LENGTH_MAX} characters`);
  try {
    // exp is required: a token without an expiry would be valid forever.
    const { payload } = await jwtVerify(token, secretKey(secret), { algorithms: [ALGORITHM], requiredClaims: ['exp', 'sub'] });
    if (!validUserId(payload.sub)) return gatewayError('GATEWAY.TOKEN_INVALID', 'the token names no valid user id');
    return ok({ userId: payload.sub });
  } catch (e) {
    if (e instanceof errors.JWTExpired) return gatewayError('GATEWAY.TOKEN_EXPIRED', 'the token has expired');
    if (e instanceof errors.JOSEError) return gatewayError('GATEWAY.TOKEN_INVALID', `the token is not valid (${e.code})`);
    throw e;
  }
}

/** The token of an `Authorization: Bearer <token>` header (undefined when absent or another scheme). */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/** Verified tokens kept per verifier: a client that reconnects (evicted, flapping) shows the same token again. */
export const VERIFIED_TOKENS_MAX = 65_536;

/**
 * verifyToken with a memory of tokens already verified with this secret, each until its expiry:
 * a reconnect storm of 10,000 clients would otherwise verify 10,000 signatures again (WebCrypto
 * HMAC through a promise each, on the event loop that also serves the swarm). Refusals are not
 * kept (a bad token costs its sender a verification every time).
 */
export function createTokenVerifier(secret: Uint8Array | string, nowMs: () => number = Date.now): (token: unknown) => Promise<Result<{ userId: string }, GatewayError>> {
  const key = secretKey(secret);
  const verified = new Map<string, { userId: string; expiresAtMs: number }>();
  return async (token) => {
    if (typeof token === 'string') {
      const known = verified.get(token);
      if (known !== undefined && nowMs() < known.expiresAtMs) return ok({ userId: known.userId });
    }
    const r = await verifyToken(token, key);
    if (r.ok && typeof token === 'string') {
      const exp = decodeJwt(token).exp;
      if (typeof exp === 'number') {
        if (verified.size >= VERIFIED_TOKENS_MAX) verified.clear();
        verified.set(token, { userId: r.value.userId, expiresAtMs: exp * 1000 });
      }
    }
    return r;
  };
}
