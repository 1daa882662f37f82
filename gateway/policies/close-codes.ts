// The WebSocket close a policy evicts a subscriber with. 4008 sits in the application range
// (4000-4999) that graphql-ws leaves free (it uses 44xx and 4500), mirrors 1008 "policy
// violation", and graphql-ws clients treat it as retryable, so an evicted client reconnects and
// recovers what it missed by sequence number.
export const SLOW_CONSUMER_CLOSE = { code: 4008, reason: 'slow consumer' } as const;
