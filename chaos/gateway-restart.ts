// The gateway restart of the chaos runs: a `raceday gateway` process on the emulators, subscriber
// clients connected to it through a Toxiproxy proxy, and during a race the gateway is killed
// (SIGKILL) or stopped (SIGTERM) and started again, and client-side network faults are injected.
// Clients reconnect and recover missed notifications by sequence number (`afterSeq`); the figures
// are what a client still missed or got twice after recovery, and how long recovery took.
import type { EmulatorHandle } from '../emulators/index.ts';
import type { Toxiproxy } from '../emulators/toxiproxy.ts';
import type { FaultEvent, NetworkFaultKind } from './contracts.ts';

export interface GatewayRestartOptions {
  readonly toxi: Toxiproxy;
  /** Emulators to run on (a fresh project is provisioned on them). */
  readonly emulators: EmulatorHandle;
  readonly seed?: number;
  /** Subscribed users (default 40). */
  readonly users?: number;
  /** Gateway restarts, in order (default one SIGKILL then one SIGTERM). */
  readonly restarts?: readonly ('SIGKILL' | 'SIGTERM')[];
  /** Client-side faults on the gateway proxy (default latency, reset, half-open). */
  readonly clientFaults?: readonly NetworkFaultKind[];
  /** Clients resume after the last sequence they hold (default true; false proves the check can fail). */
  readonly resumeAfterSeq?: boolean;
  readonly log?: (line: string) => void;
}

export interface GatewayRestartResult {
  readonly users: number;
  /** Notifications the users' logs hold at the end (what clients are owed). */
  readonly expected: number;
  readonly received: number;
  readonly lost: number;
  readonly duplicated: number;
  /** Per fault: fault end (restart done, fault cleared) -> every client connected and caught up. */
  readonly recoveryMs: { readonly p50: number; readonly max: number };
  readonly faults: readonly FaultEvent[];
  readonly reconnects: number;
  readonly ok: boolean;
  readonly violations: readonly string[];
}

export async function runGatewayRestart(options: GatewayRestartOptions): Promise<GatewayRestartResult> {
  void options;
  throw new Error('CHAOS.NOT_READY: runGatewayRestart is being built');
}
