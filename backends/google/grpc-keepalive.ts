// gRPC keepalive for the clients of the emulators: how soon a client notices that its connection
// died without a FIN or RST (a half-open connection: the peer vanished, a NAT forgot the flow).
// TCP alone never notices while something on the path still acknowledges bytes; an HTTP/2 PING
// that gets no answer within the timeout does, and the client then reconnects. The libraries'
// own defaults are long: @google-cloud/pubsub pings every 300 s (20 s timeout), and
// @google-cloud/spanner every 120 s (grpc-js's 20 s timeout). Measured through Toxiproxy's
// half-open fault (docs/network-faults.md): with those, a streaming pull sat silent and Spanner
// calls failed at their 30 s deadlines for as long as the fault held (200 s); with the settings
// below both clients opened a fresh connection within 5-15 s.
//
// Emulator targets only: gRPC servers police ping rates (pings that come too often are answered
// with GOAWAY "too_many_pings"), and the libraries' defaults are the vendor's choice for its own
// service, so cloud clients keep them (not measured against Google Cloud).
// grpc-js pings only while a call is active (keepalive_permit_without_calls stays 0), so an idle
// client costs nothing.

/** PING every 10 s while calls are active; no answer within 5 s: the connection is dead. */
export const EMULATOR_GRPC_KEEPALIVE = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
} as const;
