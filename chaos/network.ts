// Network faults on real sockets: each fault kind of the chaos runs (contracts.ts NETWORK_FAULTS)
// as Toxiproxy toxics on a proxy, held for a duration and then cleared; and the proxies that put
// Toxiproxy between worker processes and the Pub/Sub and Spanner emulators.
//
// What each kind does on the wire (docs/network-faults.md has the clients' measured behaviour):
//   latency    every chunk waits latencyMs (± jitterMs) in each direction: a slow network.
//   bandwidth  each direction limited to rateKBps: a congested link; big frames take seconds.
//   timeout    no byte passes; each connection is closed (FIN) after timeoutMs: a stalled peer
//              that a middlebox finally gives up on.
//   reset      the next chunk in either direction closes the connection with RST (SO_LINGER 0),
//              new connections included, for the whole duration: a restarted peer or firewall.
//   half-open  no byte passes and nothing is closed, in either direction: a peer that vanished
//              without a FIN (host lost, NAT state dropped). Toxiproxy's kernel still ACKs the
//              client's bytes, so TCP itself never notices; only an application-level liveness
//              check (HTTP/2 PING with a timeout, a WebSocket ping) can. When the fault clears,
//              Toxiproxy closes the connections it held, as the peer's reappearance would
//              (a real vanished peer answers the next segment with RST).
import type { EmulatorHandle } from '../emulators/index.ts';
import type { ToxicSpec, Toxiproxy } from '../emulators/toxiproxy.ts';
import { NETWORK_FAULTS, type NetworkFaultKind } from './contracts.ts';

export interface NetworkFaultOptions {
  /** How long the fault holds before clear() is due; the caller's schedule clears it (or `autoClear`). */
  readonly durationMs: number;
  /** Jitter of the latency fault comes from Toxiproxy's own seeded randomness (startToxiproxy's seed). */
  readonly seed?: number;
  /** latency: ms per direction (default 300), jitter ms (default a quarter of it). */
  readonly latencyMs?: number;
  readonly jitterMs?: number;
  /** bandwidth: KB/s per direction (default 8). */
  readonly rateKBps?: number;
  /** timeout: ms before each stalled connection is closed (default 1,000, at most durationMs). */
  readonly timeoutMs?: number;
  /** Share of connections hit, 0..1 (default 1: all). */
  readonly toxicity?: number;
  /** Clear by itself after durationMs (default false: the caller calls clear()). */
  readonly autoClear?: boolean;
}

export interface InjectedFault {
  readonly kind: NetworkFaultKind;
  readonly proxy: string;
  readonly toxics: readonly string[];
  readonly startedAtMs: number;
  /** Removes the toxics (idempotent); resolves once Toxiproxy removed them. */
  clear(): Promise<void>;
}

export class NetworkFaultError extends Error {
  override readonly name = 'NetworkFaultError';
}

const BOTH = ['upstream', 'downstream'] as const;

/** The toxics one fault kind installs (one per direction, named after the kind so two faults on one proxy do not collide). */
export function toxicsFor(kind: NetworkFaultKind, o: NetworkFaultOptions): ToxicSpec[] {
  const toxicity = o.toxicity ?? 1;
  const each = (type: ToxicSpec['type'], attributes: Record<string, number>): ToxicSpec[] => BOTH.map((stream) => ({ name: `chaos-${kind}-${stream}`, type, stream, toxicity, attributes }));
  switch (kind) {
    case 'latency': {
      const latency = o.latencyMs ?? 300;
      return each('latency', { latency, jitter: o.jitterMs ?? Math.floor(latency / 4) });
    }
    case 'bandwidth':
      return each('bandwidth', { rate: o.rateKBps ?? 8 });
    case 'timeout':
      return each('timeout', { timeout: Math.max(1, Math.min(o.timeoutMs ?? 1_000, o.durationMs)) });
    case 'reset':
      return each('reset_peer', { timeout: 0 });
    case 'half-open':
      return each('timeout', { timeout: 0 });
  }
}

/** Installs one fault on a proxy; clear() (or autoClear after durationMs) removes it. */
export async function injectNetworkFault(toxi: Toxiproxy, proxyName: string, kind: NetworkFaultKind, options: NetworkFaultOptions): Promise<InjectedFault> {
  if (!(NETWORK_FAULTS as readonly string[]).includes(kind)) throw new NetworkFaultError(`CHAOS.UNKNOWN_FAULT: "${String(kind)}" is not a network fault (one of ${NETWORK_FAULTS.join(', ')})`);
  if (!Number.isFinite(options.durationMs) || options.durationMs <= 0) throw new NetworkFaultError(`CHAOS.BAD_DURATION: durationMs must be a positive number, got ${options.durationMs}`);
  const specs = toxicsFor(kind, options);
  const added: string[] = [];
  try {
    for (const spec of specs) added.push((await toxi.addToxic(proxyName, spec)).name);
  } catch (e) {
    // Half a fault is worse than none: take back what went on.
    await Promise.all(added.map((n) => toxi.removeToxic(proxyName, n).catch(() => undefined)));
    throw e;
  }
  const startedAtMs = Date.now();
  let clearing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const clear = (): Promise<void> => {
    if (timer !== undefined) clearTimeout(timer);
    // Removing a toxic that a proxy reset already removed is not an error.
    clearing ??= Promise.all(added.map((n) => toxi.removeToxic(proxyName, n).catch((e: Error) => (e.message.startsWith('TOXIPROXY.NOT_FOUND') ? undefined : Promise.reject(e))))).then(() => undefined);
    return clearing;
  };
  if (options.autoClear === true) timer = setTimeout(() => void clear().catch(() => undefined), options.durationMs);
  return { kind, proxy: proxyName, toxics: added, startedAtMs, clear };
}

export interface ProxiedEmulators {
  /** Proxy names: `pubsub`, `spanner` (the FaultEvent targets). */
  readonly proxies: { readonly pubsub: string; readonly spanner: string };
  /** `host:port` of each proxy's listener. */
  readonly pubsubHost: string;
  readonly spannerHost: string;
  /** The emulators' environment with both hosts pointing at the proxies: what worker processes get. */
  readonly env: Readonly<Record<string, string>>;
  /** A handle like the emulators' own, through the proxies (for openBackend's `emulators` option). */
  readonly handle: EmulatorHandle;
  /** Deletes both proxies (open connections through them are closed). */
  close(): Promise<void>;
}

/** Proxies in front of both emulators of `emulators`; the worker processes reach them only through these. */
export async function proxyEmulators(toxi: Toxiproxy, emulators: EmulatorHandle, names: { pubsub?: string; spanner?: string } = {}): Promise<ProxiedEmulators> {
  if (emulators.pubsubHost === undefined || emulators.spannerHost === undefined) throw new NetworkFaultError('CHAOS.NO_EMULATORS: proxyEmulators needs a handle with both the Pub/Sub and the Spanner emulator');
  const proxies = { pubsub: names.pubsub ?? 'pubsub', spanner: names.spanner ?? 'spanner' };
  const pubsub = await toxi.createProxy(proxies.pubsub, emulators.pubsubHost);
  const spanner = await toxi.createProxy(proxies.spanner, emulators.spannerHost).catch(async (e: unknown) => {
    await toxi.deleteProxy(proxies.pubsub).catch(() => undefined);
    throw e;
  });
  const env = { ...emulators.env, PUBSUB_EMULATOR_HOST: pubsub.listen, SPANNER_EMULATOR_HOST: spanner.listen };
  const handle: EmulatorHandle = { ...emulators, pubsubHost: pubsub.listen, spannerHost: spanner.listen, env, stop: async () => undefined };
  return {
    proxies,
    pubsubHost: pubsub.listen,
    spannerHost: spanner.listen,
    env,
    handle,
    async close() {
      await Promise.all([toxi.deleteProxy(proxies.pubsub).catch(() => undefined), toxi.deleteProxy(proxies.spanner).catch(() => undefined)]);
    },
  };
}
