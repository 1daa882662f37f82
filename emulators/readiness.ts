// Readiness probes with timeouts: an emulator is ready when it answers a real request, not when
// its port is open (the Pub/Sub JVM listens before it serves; Spanner answers gRPC at once).
import { request } from 'node:http';
import { createSpannerClient } from '../backends/google/spanner-client.ts';
import { EMULATOR_LIMITS } from './limits.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One HTTP GET; resolves to the status code, or 0 when nothing answered within the probe timeout. */
function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'GET', timeout: EMULATOR_LIMITS.probeTimeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Pub/Sub: the emulator serves REST on its gRPC port; listing topics proves it answers. */
export async function probePubSub(hostPort: string, projectId: string): Promise<boolean> {
  return (await httpStatus(`http://${hostPort}/v1/projects/${projectId}/topics`)) === 200;
}

/** Spanner: a gRPC call (list instance configs) through the official client. */
export async function probeSpanner(hostPort: string, projectId: string): Promise<boolean> {
  skipCloudMetadataLookup();
  const spanner = createSpannerClient({ projectId, instanceId: 'probe', emulator: true, emulatorHost: hostPort });
  const call = spanner.getInstanceConfigs({ gaxOptions: { timeout: EMULATOR_LIMITS.probeTimeoutMs, retry: null } } as never).then(
    () => true,
    () => false,
  );
  // Close only after the call settled: closing under a pending call rejects promises inside the client.
  void call.finally(() => spanner.close());
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), EMULATOR_LIMITS.probeTimeoutMs)));
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Without credentials the Google auth library probes the GCE metadata server (169.254.169.254)
 * and warns "MetadataLookupWarning"; emulator clients need no credentials and traffic stays on
 * 127.0.0.1, so the probe is switched off for emulator use (a user's explicit setting wins).
 */
export function skipCloudMetadataLookup(): void {
  process.env.METADATA_SERVER_DETECTION ??= 'none';
}

export interface WaitOptions {
  readonly what: string;
  readonly timeoutMs?: number;
  /** Stops waiting early when the process died (its log says why). */
  readonly stillRunning?: () => boolean;
}

/** Polls `probe` until it says ready; throws a message naming what did not come up and why. */
export async function waitUntilReady(probe: () => Promise<boolean>, options: WaitOptions): Promise<number> {
  const startedMs = Date.now();
  const timeoutMs = options.timeoutMs ?? EMULATOR_LIMITS.readyTimeoutMs;
  for (;;) {
    if (await probe()) return Date.now() - startedMs;
    if (options.stillRunning !== undefined && !options.stillRunning()) {
      throw new Error(`${options.what} exited before it became ready`);
    }
    if (Date.now() - startedMs > timeoutMs) throw new Error(`${options.what} was not ready after ${timeoutMs} ms`);
    await sleep(EMULATOR_LIMITS.readyPollMs);
  }
}
