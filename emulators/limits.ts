// Every limit and pinned version of the emulator machinery, in one place.

export const EMULATOR_LIMITS = {
  /** How long an emulator may take to answer its first request (a cold JVM on a busy machine). */
  readyTimeoutMs: 60_000,
  /** Pause between readiness probes. */
  readyPollMs: 100,
  /** One readiness probe (HTTP GET or gRPC call) may take this long before it counts as failed. */
  probeTimeoutMs: 2_000,
  /** After SIGTERM to a process group, wait this long before SIGKILL. */
  stopGraceMs: 5_000,
  /** How often the orphan watchdog checks that the parent process is still alive. */
  watchdogPollMs: 250,
  /** Attempts to start an emulator when the port picked as free got taken in between. */
  startAttempts: 3,
  /** Docker discovery must answer within this, so `auto` never hangs where no engine runs. */
  containerRuntimeTimeoutMs: 10_000,
  /** Starting a container (pull included) may take this long. */
  containerStartTimeoutMs: 180_000,
} as const;

/** Pinned images for the `containers` strategy: the same emulator versions as the local packages. */
export const CONTAINER_IMAGES = {
  pubsub: 'gcr.io/google.com/cloudsdktool/google-cloud-cli:528.0.0-emulators',
  spanner: 'gcr.io/cloud-spanner-emulator/emulator:1.5.28',
} as const;

export const DEFAULT_PROJECT_ID = 'raceday-local';
export const DEFAULT_SPANNER_INSTANCE = 'raceday';

/**
 * @google-cloud/spanner 8.x uses multiplexed sessions that the Spanner emulator 1.5.28 predates
 * ("Unable to release unknown resource"); these switch them off, only when talking to an emulator.
 */
export const SPANNER_EMULATOR_CLIENT_ENV: Readonly<Record<string, string>> = {
  GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS: 'false',
  GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS_FOR_RW: 'false',
  GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS_PARTITIONED_OPS: 'false',
};
