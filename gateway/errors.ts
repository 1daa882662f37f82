// The gateway's own error codes (the core's codes, e.g. BET.INSUFFICIENT_BALANCE, pass through
// unchanged). A code is a stable string a client can switch on; the message is for people.
import { GraphQLError } from 'graphql';

export type GatewayErrorCode =
  /** No token: no `Authorization: Bearer` header, or no `token` in `connection_init`. */
  | 'GATEWAY.UNAUTHENTICATED'
  /** A token that is malformed, signed with another key or algorithm, or names no valid user id. */
  | 'GATEWAY.TOKEN_INVALID'
  | 'GATEWAY.TOKEN_EXPIRED'
  /** A document that does not parse, names no operation, or does not validate against the schema. */
  | 'GATEWAY.QUERY_INVALID'
  | 'GATEWAY.QUERY_TOO_DEEP'
  | 'GATEWAY.QUERY_TOO_COSTLY'
  | 'GATEWAY.BODY_TOO_LARGE'
  | 'GATEWAY.TOO_MANY_CONNECTIONS'
  | 'GATEWAY.TOO_MANY_SUBSCRIPTIONS'
  | 'GATEWAY.LIMIT_INVALID'
  | 'GATEWAY.IDEMPOTENCY_KEY_INVALID'
  /** The idempotency key already placed a different bet. */
  | 'GATEWAY.IDEMPOTENCY_KEY_REUSED'
  | 'GATEWAY.NOT_SUPPORTED'
  /** The backend could not be reached for this operation; retry later. */
  | 'GATEWAY.UNAVAILABLE'
  | 'GATEWAY.NOT_FOUND';

export interface GatewayError {
  readonly code: GatewayErrorCode;
  readonly message: string;
}

export function gatewayError(code: GatewayErrorCode, message: string): { readonly ok: false; readonly error: GatewayError } {
  return { ok: false, error: { code, message } };
}

/** A GraphQL error whose `extensions.code` carries the stable code (and the input path, if any). */
export function graphqlError(code: string, message: string, path?: string): GraphQLError {
  return new GraphQLError(message, { extensions: path === undefined ? { code } : { code, field: path } });
}
