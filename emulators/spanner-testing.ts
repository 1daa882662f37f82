// Test and bench support for the Spanner store: a Spanner emulator through emulators/ (reused or
// started, never skipped), fresh uniquely named shard databases, and a store on them.
import { ensureEmulators, type EmulatorHandle } from './index.ts';
import { ensureDatabases, shardDatabaseIds } from '../backends/google/spanner-admin.ts';
import { createSpannerClient, type SpannerTarget } from '../backends/google/spanner-client.ts';
import { createSpannerStore, type SpannerStore, type SpannerStoreOptions } from '../backends/google/spanner-store.ts';

export interface SpannerForTests {
  readonly target: SpannerTarget;
  readonly handle: EmulatorHandle;
  /** Creates `shards` fresh databases and a store on them; `dropAll` removes them. */
  freshStore(shards: number, options?: Partial<SpannerStoreOptions>): Promise<SpannerStore>;
  /**
   * A second store (own client, own per-shard gates) on the same databases: two processes' worth
   * of workers, so their transactions really meet at the emulator and conflict.
   */
  twinStore(store: SpannerStore, options?: Partial<SpannerStoreOptions>): SpannerStore;
  /** Drops the databases created by `freshStore` and stops an emulator this helper started. */
  stop(): Promise<void>;
}

let uniqueSeq = 0;

/** A database base id unique across concurrent test files and runs (ids are at most 30 chars). */
export function uniqueDatabaseBase(prefix: string): string {
  uniqueSeq++;
  const stamp = `${Date.now().toString(36).slice(-6)}${process.pid.toString(36)}${uniqueSeq.toString(36)}`;
  return `${prefix.slice(0, 8)}-${stamp}`.toLowerCase();
}

export async function startSpannerForTests(prefix = 'test'): Promise<SpannerForTests> {
  const handle = await ensureEmulators({ pubsub: false, spanner: true });
  if (handle.spannerHost === undefined) throw new Error('ensureEmulators returned no Spanner emulator');
  const target: SpannerTarget = { projectId: handle.projectId, instanceId: handle.spannerInstance, emulator: true, emulatorHost: handle.spannerHost };
  const created: string[] = [];
  const stores: SpannerStore[] = [];
  return {
    target,
    handle,
    async freshStore(shards, options = {}) {
      const databaseIds = shardDatabaseIds(uniqueDatabaseBase(prefix), shards);
      await ensureDatabases({ ...target, databaseIds });
      created.push(...databaseIds);
      const store = createSpannerStore({ ...target, databaseIds, ...options });
      stores.push(store);
      return store;
    },
    twinStore(store, options = {}) {
      const twin = createSpannerStore({ ...target, databaseIds: store.databaseIds, ...options });
      stores.push(twin);
      return twin;
    },
    async stop() {
      await Promise.all(stores.map((s) => s.close()));
      // Dropping frees the emulator's memory when it is a long-lived (reused) one.
      const spanner = createSpannerClient(target);
      try {
        await Promise.all(created.map((id) => spanner.instance(target.instanceId).database(id).delete().catch(() => undefined)));
      } finally {
        spanner.close();
      }
      await handle.stop();
    },
  };
}
