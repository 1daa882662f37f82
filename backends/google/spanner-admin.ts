// Idempotent provisioning of the Spanner side: the instance (emulator config on the emulator) and
// every shard database with the schema of schema.sql. emulators/ calls it; tests call it too.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Spanner } from '@google-cloud/spanner';
import { createSpannerClient, type SpannerTarget } from './spanner-client.ts';
import { quietDatabase } from './spanner-pool-errors.ts';

export interface EnsureDatabasesOptions extends SpannerTarget {
  readonly databaseIds: readonly string[];
  /** Instance config for Google Cloud (e.g. `regional-asia-northeast1`); the emulator has only `emulator-config`. */
  readonly instanceConfig?: string;
}

export interface EnsureDatabasesResult {
  readonly instanceCreated: boolean;
  /** Database ids created now (the others already existed). */
  readonly databasesCreated: readonly string[];
}

const SCHEMA_PATH = fileURLToPath(new URL('./schema.sql', import.meta.url));
const EMULATOR_INSTANCE_CONFIG = 'emulator-config';
/** Spanner database ids: 2-30 chars, lowercase letter first, then lowercase, digits, `_` or `-`. */
const DATABASE_ID = /^[a-z][a-z0-9_-]{0,28}[a-z0-9]$/;
/** gRPC status codes the admin API answers with when the thing is already there. */
const ALREADY_EXISTS = 6;

/** The DDL statements of schema.sql, comments stripped, one string per statement. */
export function schemaStatements(): string[] {
  const text = readFileSync(SCHEMA_PATH, 'utf8');
  const withoutComments = text
    .split('\n')
    .map((line) => line.replace(/--.*$/, ''))
    .join('\n');
  return withoutComments
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function grpcCode(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'number' ? e.code : undefined;
}

async function ensureInstance(spanner: Spanner, options: EnsureDatabasesOptions): Promise<boolean> {
  const instance = spanner.instance(options.instanceId);
  const [exists] = await instance.exists();
  if (exists) return false;
  const config = options.emulator ? EMULATOR_INSTANCE_CONFIG : options.instanceConfig;
  if (config === undefined) {
    throw new Error(`Spanner instance ${options.instanceId} does not exist in project ${options.projectId}; create it or pass instanceConfig`);
  }
  try {
    const [, operation] = await spanner.createInstance(options.instanceId, { config, nodes: 1, displayName: options.instanceId });
    await operation.promise();
    return true;
  } catch (e) {
    // Another provisioner (a parallel test file) may have won the race; that is success.
    if (grpcCode(e) === ALREADY_EXISTS) return false;
    throw e;
  }
}

/** Creates what is missing: the instance, then each database with the full schema. Idempotent. */
export async function ensureDatabases(options: EnsureDatabasesOptions): Promise<EnsureDatabasesResult> {
  if (options.databaseIds.length === 0) throw new Error('ensureDatabases: databaseIds must name at least one database');
  for (const id of options.databaseIds) {
    if (!DATABASE_ID.test(id)) throw new Error(`ensureDatabases: database id ${JSON.stringify(id)} must match ${DATABASE_ID}`);
  }
  const spanner = createSpannerClient(options);
  try {
    const instanceCreated = await ensureInstance(spanner, options);
    const instance = spanner.instance(options.instanceId);
    const schema = schemaStatements();
    const databasesCreated: string[] = [];
    for (const id of options.databaseIds) {
      const [exists] = await quietDatabase(instance.database(id)).exists();
      if (exists) continue;
      try {
        const [, operation] = await instance.createDatabase(id, { schema });
        await operation.promise();
        databasesCreated.push(id);
      } catch (e) {
        if (grpcCode(e) !== ALREADY_EXISTS) throw e;
      }
    }
    return { instanceCreated, databasesCreated };
  } finally {
    spanner.close();
  }
}

/** Shard database ids for a base name: `raceday` with 1 shard, `raceday-s0..s{n-1}` with more. */
export function shardDatabaseIds(baseId: string, shards: number): string[] {
  if (!Number.isInteger(shards) || shards < 1 || shards > 64) throw new Error(`shards must be an integer in 1..64, got ${shards}`);
  if (shards === 1) return [baseId];
  return Array.from({ length: shards }, (_, i) => `${baseId}-s${i}`);
}
