// The embedded backend: an in-process message bus with Pub/Sub semantics, a columnar store with
// Spanner-like transactions, and clocks (real, or virtual for the deterministic simulator).
export { createRealClock, createVirtualClock, schedulerOf } from './clock.ts';
export type { RunUntilIdleOptions, RunUntilIdleResult, SchedulingClock, VirtualClock } from './clock.ts';
export { createMemoryBus, DEAD_LETTER_ATTRIBUTES, DEAD_LETTER_REASON_MAX_ATTEMPTS } from './bus.ts';
export type { BusFaults, BusStats, DeadLetter, MemoryBus, MemoryBusOptions, SubscriptionStats } from './bus.ts';
export { createMemoryStore, TRANSACTION_ABORTED } from './store.ts';
export type { ColumnSettlement, ColumnSettleResult, MemoryStore, MemoryStoreOptions, MemoryStoreStats, StoreFaults, TicketColumnBatch } from './store.ts';
