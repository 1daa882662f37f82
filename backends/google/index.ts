// The google backend: Store on Cloud Spanner and MessageBus on Pub/Sub through the official
// clients. The same code talks to the emulators (emulator: true, the default everywhere in
// raceday) and to real Google Cloud (only when a caller says so explicitly).
export { createPubSubBus, effectiveAckDeadlineMs, PUBSUB_BUS_LIMITS } from './pubsub-bus.ts';
export type { PubSubBus, PubSubBusOptions } from './pubsub-bus.ts';
export { createSpannerStore } from './spanner-store.ts';
export { openSpannerStore } from './spanner-open.ts';
export type { OpenSpannerStoreOptions } from './spanner-open.ts';
export type { SpannerStore, SpannerStoreOptions } from './spanner-store.ts';
export { createSpannerClient } from './spanner-client.ts';
export type { SpannerTarget } from './spanner-client.ts';
export { ensureDatabases, schemaStatements, shardDatabaseIds } from './spanner-admin.ts';
export type { EnsureDatabasesOptions, EnsureDatabasesResult } from './spanner-admin.ts';
export { measureRawSettlement, CAPACITY_LIMITS } from './spanner-capacity.ts';
export type { RawSettlementOptions, RawSettlementResult } from './spanner-capacity.ts';
export { STORE_LIMITS, shardOf } from './spanner-rows.ts';
export { TX_LIMITS } from './spanner-tx.ts';
