// The `containers` strategy: the same emulators in pinned Docker images through testcontainers
// (@testcontainers/gcloud), for users who have a Docker engine. Where none runs it fails fast:
// the runtime lookup is bounded by a timeout so `auto` never hangs on it.
import { CONTAINER_IMAGES, EMULATOR_LIMITS } from './limits.ts';

export interface ContainersStarted {
  readonly pubsubHost?: string;
  readonly spannerHost?: string;
  readonly containerIds: readonly string[];
  readonly startupMs: { pubsub?: number; spanner?: number };
  stop(): Promise<void>;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Throws a short message when no container runtime answers (the usual case on these machines). */
async function requireRuntime(): Promise<void> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    await withTimeout(getContainerRuntimeClient(), EMULATOR_LIMITS.containerRuntimeTimeoutMs, 'Docker discovery');
  } catch (e) {
    throw new Error(`no Docker engine reachable (${(e as Error).message})`);
  }
}

/**
 * Starts the requested emulators in containers. `background` containers outlive this process
 * (testcontainers' reaper is switched off and `stopContainers` removes them by id later).
 */
export async function startContainers(want: { pubsub: boolean; spanner: boolean }, projectId: string, background: boolean): Promise<ContainersStarted> {
  if (background) process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
  await requireRuntime();
  const gcloud = await import('@testcontainers/gcloud');
  const stops: (() => Promise<unknown>)[] = [];
  const ids: string[] = [];
  const startupMs: { pubsub?: number; spanner?: number } = {};
  let pubsubHost: string | undefined;
  let spannerHost: string | undefined;
  try {
    if (want.pubsub) {
      const t0 = Date.now();
      const c = await withTimeout(new gcloud.PubSubEmulatorContainer(CONTAINER_IMAGES.pubsub).withProjectId(projectId).start(), EMULATOR_LIMITS.containerStartTimeoutMs, 'Pub/Sub container');
      stops.push(() => c.stop());
      ids.push(c.getId());
      pubsubHost = c.getEmulatorEndpoint();
      startupMs.pubsub = Date.now() - t0;
    }
    if (want.spanner) {
      const t0 = Date.now();
      const c = await withTimeout(new gcloud.SpannerEmulatorContainer(CONTAINER_IMAGES.spanner).withProjectId(projectId).start(), EMULATOR_LIMITS.containerStartTimeoutMs, 'Spanner container');
      stops.push(() => c.stop());
      ids.push(c.getId());
      spannerHost = c.getEmulatorGrpcEndpoint();
      startupMs.spanner = Date.now() - t0;
    }
  } catch (e) {
    await Promise.allSettled(stops.map((s) => s()));
    throw e;
  }
  return { pubsubHost, spannerHost, containerIds: ids, startupMs, stop: async () => void (await Promise.allSettled(stops.map((s) => s()))) };
}

/** Stops and removes background containers recorded in the state file. */
export async function stopContainers(containerIds: readonly string[]): Promise<void> {
  if (containerIds.length === 0) return;
  const { getContainerRuntimeClient } = await import('testcontainers');
  const client = await withTimeout(getContainerRuntimeClient(), EMULATOR_LIMITS.containerRuntimeTimeoutMs, 'Docker discovery');
  for (const id of containerIds) {
    const container = client.container.getById(id);
    await client.container.stop(container, { timeout: EMULATOR_LIMITS.stopGraceMs });
    await client.container.remove(container, { removeVolumes: true });
  }
}
