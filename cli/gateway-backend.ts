// The backend behind a standalone `raceday gateway`: the Store ports the gateway reads and writes
// and the bus its intake consumes, opened here (the CLI) so the gateway itself never imports a
// backend. On the emulators, `--project P` attaches to a project a run already provisioned (its
// Spanner databases and topics are used as they are and left in place on exit); without it the
// gateway provisions a fresh project of its own, dropped on exit.
import { createPubSubBus } from '../backends/google/pubsub-bus.ts';
import { openSpannerStore } from '../backends/google/spanner-open.ts';
import type { MessageBus, Store } from '../core/ports.ts';
import { ensureEmulators, type StrategyChoice } from '../emulators/index.ts';
import { BACKEND_LIMITS, openBackend } from '../sim/open-backend.ts';

export interface GatewayBackend {
  readonly name: 'memory' | 'emulators';
  readonly store: Store;
  readonly bus: MessageBus;
  /** Where it runs, for the startup line (project, emulator hosts). */
  readonly where: Readonly<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface GatewayBackendOptions {
  readonly backend: 'memory' | 'emulators';
  /** emulators: attach to this project instead of provisioning a fresh one. */
  readonly projectId?: string;
  readonly spannerShards?: number;
  readonly strategy?: StrategyChoice;
  readonly log?: (line: string) => void;
}

export async function openGatewayBackend(o: GatewayBackendOptions): Promise<GatewayBackend> {
  if (o.backend === 'memory' || o.projectId === undefined) {
    const b = await openBackend(o.backend, { ...(o.spannerShards === undefined ? {} : { spannerShards: o.spannerShards }), ...(o.strategy === undefined ? {} : { strategy: o.strategy }), ...(o.log === undefined ? {} : { log: o.log }) });
    return { name: o.backend, store: b.store, bus: b.bus, where: b.where, close: () => b.close() };
  }
  // No credentials are needed on the emulators; without this the auth library probes the metadata server.
  process.env.METADATA_SERVER_DETECTION = 'none';
  const handle = await ensureEmulators({ strategy: o.strategy ?? 'auto', pubsub: true, spanner: true, projectId: o.projectId, ...(o.log === undefined ? {} : { log: o.log }) });
  if (handle.spannerHost === undefined || handle.pubsubHost === undefined) throw new Error('ensureEmulators returned no Spanner or no Pub/Sub emulator');
  const target = { projectId: o.projectId, instanceId: handle.spannerInstance, emulator: true, emulatorHost: handle.spannerHost };
  const store = await openSpannerStore({ target, databaseBase: BACKEND_LIMITS.databaseBase, shards: o.spannerShards ?? 1, provision: false });
  const bus = createPubSubBus({ projectId: o.projectId, emulatorHost: handle.pubsubHost });
  return {
    name: 'emulators',
    store,
    bus,
    where: { backend: 'emulators', attached: true, projectId: o.projectId, pubsubHost: handle.pubsubHost, spannerHost: handle.spannerHost, databases: store.databaseIds },
    async close() {
      await bus.close();
      await store.close();
      await handle.stop();
    },
  };
}
