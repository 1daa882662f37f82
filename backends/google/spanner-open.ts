// One call for runners (`raceday run --backend emulators --spanner-shards N`): provision the shard
// databases if missing, then open the store on them.
import type { Clock } from '../../core/ports.ts';
import { ensureDatabases, shardDatabaseIds } from './spanner-admin.ts';
import type { SpannerTarget } from './spanner-client.ts';
import { createSpannerStore, type SpannerStore } from './spanner-store.ts';

export interface OpenSpannerStoreOptions {
  readonly target: SpannerTarget;
  /** Base database id; shards are `<base>-s0..s{N-1}` when N > 1 (shardDatabaseIds). */
  readonly databaseBase: string;
  /** Shard databases (emulator-only technique; use 1 on Google Cloud). */
  readonly shards?: number;
  readonly clock?: Clock;
  /** Create the instance and databases when missing (default true on the emulator, false on Google Cloud). */
  readonly provision?: boolean;
  /** Group commit of settlements (SpannerStoreOptions.settlementsPerCommitMax; 1 = a transaction per user). */
  readonly settlementsPerCommitMax?: number;
}

export async function openSpannerStore(options: OpenSpannerStoreOptions): Promise<SpannerStore> {
  const shards = options.shards ?? 1;
  if (!options.target.emulator && shards > 1) {
    throw new Error('--spanner-shards is an emulator-only technique (the emulator serializes transactions per database); real Spanner scales one database by splits');
  }
  const databaseIds = shardDatabaseIds(options.databaseBase, shards);
  if (options.provision ?? options.target.emulator) await ensureDatabases({ ...options.target, databaseIds });
  return createSpannerStore({
    ...options.target,
    databaseIds,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.settlementsPerCommitMax === undefined ? {} : { settlementsPerCommitMax: options.settlementsPerCommitMax }),
  });
}
