// One place that builds @google-cloud/spanner clients for the google backend, so the emulator
// settings (endpoint, plaintext, no multiplexed sessions) are applied the same way everywhere
// and real Google Cloud is reached only when a caller says `emulator: false`.
import { Spanner } from '@google-cloud/spanner';
import { EMULATOR_GRPC_KEEPALIVE } from './grpc-keepalive.ts';

export interface SpannerTarget {
  readonly projectId: string;
  readonly instanceId: string;
  /** True for the Spanner emulator; false only when the caller explicitly targets Google Cloud. */
  readonly emulator: boolean;
  /** `host:port` of the emulator; defaults to SPANNER_EMULATOR_HOST. Ignored for Google Cloud. */
  readonly emulatorHost?: string;
}

/**
 * Emulator 1.5.28 predates multiplexed sessions, and @google-cloud/spanner 8.x crashes on it
 * ("Unable to release unknown resource") unless these are 'false'. The client reads them from the
 * environment when a Database object is created, so they are set before any database is opened,
 * and only when talking to an emulator (real Spanner should keep multiplexed sessions).
 */
const EMULATOR_SESSION_ENV = [
  'GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS',
  'GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS_FOR_RW',
  'GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS_PARTITIONED_OPS',
] as const;

function assertHostPort(hostPort: string): void {
  const m = /^([^:/]+):(\d{1,5})$/.exec(hostPort);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !(port > 0 && port < 65536)) {
    throw new Error(`Spanner emulator host must look like 127.0.0.1:9010, got ${JSON.stringify(hostPort)}`);
  }
}

export function createSpannerClient(target: SpannerTarget): Spanner {
  if (target.projectId === '' || target.instanceId === '') throw new Error('Spanner projectId and instanceId must be non-empty');
  if (!target.emulator) {
    // The client library silently follows SPANNER_EMULATOR_HOST; a real-cloud run must not be
    // an emulator run by accident (nor the reverse), so the contradiction is an error.
    if (process.env.SPANNER_EMULATOR_HOST) {
      throw new Error('emulator: false (Google Cloud) was asked but SPANNER_EMULATOR_HOST is set; unset it to reach real Spanner');
    }
    return new Spanner({ projectId: target.projectId });
  }
  const hostPort = target.emulatorHost ?? process.env.SPANNER_EMULATOR_HOST;
  if (hostPort === undefined || hostPort === '') {
    throw new Error('Spanner emulator endpoint unknown: pass emulatorHost or set SPANNER_EMULATOR_HOST (e.g. `eval "$(raceday emulators env)"`)');
  }
  assertHostPort(hostPort);
  for (const name of EMULATOR_SESSION_ENV) process.env[name] = 'false';
  // The client switches to the emulator (plaintext gRPC at that endpoint) only through
  // SPANNER_EMULATOR_HOST, read once in its constructor; set it for the construction alone so
  // one process can hold clients of several emulators (tests) without leaking the setting.
  const previous = process.env.SPANNER_EMULATOR_HOST;
  process.env.SPANNER_EMULATOR_HOST = hostPort;
  try {
    return new Spanner({ projectId: target.projectId, ...EMULATOR_GRPC_KEEPALIVE });
  } finally {
    if (previous === undefined) delete process.env.SPANNER_EMULATOR_HOST;
    else process.env.SPANNER_EMULATOR_HOST = previous;
  }
}
