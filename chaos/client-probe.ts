// How the official clients behave through one network fault, measured: the project's Pub/Sub bus
// (streaming pull + publisher) and Spanner store, opened on a fresh emulator project through
// Toxiproxy, under a steady trickle of work (a publish and a point read every tickMs) before,
// during and after the fault. It answers: does each client notice the fault (first error after
// fault start), does it come back after the fault clears (first success, first message), does any
// call hang past the fault, and does any message go missing or arrive twice.
import { randomUUID } from 'node:crypto';
import type { EmulatorHandle } from '../emulators/index.ts';
import type { Toxiproxy } from '../emulators/toxiproxy.ts';
import { TOPICS, SUBSCRIPTIONS } from '../core/topology.ts';
import { openBackend } from '../sim/open-backend.ts';
import type { NetworkFaultKind } from './contracts.ts';
import { injectNetworkFault, proxyEmulators, type NetworkFaultOptions } from './network.ts';

export interface ClientProbeOptions {
  readonly toxi: Toxiproxy;
  readonly emulators: EmulatorHandle;
  readonly kind: NetworkFaultKind;
  readonly faultMs: number;
  /** Quiet time before the fault and watch time after it clears (default 3,000 / 15,000 ms). */
  readonly beforeMs?: number;
  readonly afterMs?: number;
  readonly tickMs?: number;
  readonly fault?: Partial<NetworkFaultOptions>;
  readonly log?: (line: string) => void;
}

export interface SpannerProbe {
  readonly calls: number;
  readonly ok: number;
  readonly failed: number;
  readonly errors: Readonly<Record<string, number>>;
  /** Fault start -> the first failed call's end (null: none failed). */
  readonly firstErrorAfterFaultMs: number | null;
  /** Fault cleared -> the first call started after the clear succeeded (null: none did). */
  readonly firstOkAfterClearMs: number | null;
  /** Calls still pending when the probe ended (hung). */
  readonly pendingAtEnd: number;
  readonly slowestCallMs: number;
  /** New connections to the Spanner proxy while the fault held, and fault start -> the first (null: none). */
  readonly connectionsDuringFault: number;
  readonly firstNewConnectionAfterFaultMs: number | null;
}

export interface PubSubProbe {
  readonly published: number;
  readonly publishFailed: number;
  readonly received: number;
  readonly duplicates: number;
  /** Published (accepted) and never received by the end. */
  readonly lost: number;
  /** Fault cleared -> the first message received that was published after the clear (null: none). */
  readonly firstReceiveAfterClearMs: number | null;
  readonly publishErrors: Readonly<Record<string, number>>;
  /** As for Spanner: new connections to the Pub/Sub proxy while the fault held (the client noticed a broken one). */
  readonly connectionsDuringFault: number;
  readonly firstNewConnectionAfterFaultMs: number | null;
}

export interface ClientProbeResult {
  readonly kind: NetworkFaultKind;
  readonly faultMs: number;
  readonly spanner: SpannerProbe;
  readonly pubsub: PubSubProbe;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const codeOf = (e: unknown): string => {
  const err = e as { code?: unknown; message?: string };
  const first = (err.message ?? String(e)).split('\n')[0] ?? '';
  return `${typeof err.code === 'number' || typeof err.code === 'string' ? `${err.code} ` : ''}${first.replace(/\d{3,}/g, 'N').slice(0, 90)}`;
};
const bump = (m: Record<string, number>, k: string): void => void (m[k] = (m[k] ?? 0) + 1);

/** The moments of the fault, as the trickle's callbacks read them (0: not yet). */
interface Clock {
  faultAt: number;
  clearedAt: number;
}

type Opened = Awaited<ReturnType<typeof openBackend>>;

/** A point read and a publish every tickMs, each counted as it settles; a subscriber counting what arrives. */
function startTrickle(backend: Opened, clock: Clock, tickMs: number) {
  const seen = new Map<string, number>();
  const publishedAt = new Map<string, number>();
  const rx = { duplicates: 0, firstAfterClear: null as number | null };
  const sub = backend.bus.subscribe(SUBSCRIPTIONS.gateway.name, async (d) => {
    if (seen.has(d.data)) rx.duplicates++;
    seen.set(d.data, (seen.get(d.data) ?? 0) + 1);
    const p = publishedAt.get(d.data);
    if (clock.clearedAt > 0 && rx.firstAfterClear === null && p !== undefined && p >= clock.clearedAt) rx.firstAfterClear = Date.now() - clock.clearedAt;
    d.ack();
  }, { maxInFlight: 64, ackDeadlineMs: 10_000 });
  const sp = { calls: 0, ok: 0, failed: 0, errors: {} as Record<string, number>, firstErr: null as number | null, firstOkAfterClear: null as number | null, pending: 0, slowest: 0 };
  const pub = { published: 0, failed: 0, errors: {} as Record<string, number> };
  const inflight: Promise<void>[] = [];
  const read = (i: number): Promise<void> => {
    const startedAt = Date.now();
    sp.calls++;
    sp.pending++;
    return backend.store.getRace(`probe-${i}`).then(
      () => {
        sp.ok++;
        if (clock.clearedAt > 0 && startedAt >= clock.clearedAt && sp.firstOkAfterClear === null) sp.firstOkAfterClear = Date.now() - clock.clearedAt;
      },
      (e: unknown) => {
        sp.failed++;
        bump(sp.errors, codeOf(e));
        if (clock.faultAt > 0 && sp.firstErr === null) sp.firstErr = Date.now() - clock.faultAt;
      },
    ).finally(() => {
      sp.pending--;
      sp.slowest = Math.max(sp.slowest, Date.now() - startedAt);
    });
  };
  const publish = (id: string): Promise<void> => {
    const t = Date.now();
    return backend.bus.publish(TOPICS.notifications, [{ data: id }]).then(
      () => {
        pub.published++;
        publishedAt.set(id, t);
      },
      (e: unknown) => {
        pub.failed++;
        bump(pub.errors, codeOf(e));
      },
    );
  };
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      inflight.push(read(i), publish(`m-${i}`));
      await sleep(tickMs);
    }
  })();
  return {
    sp, pub, rx, seen, publishedAt,
    /** Stops the trickle; late calls get a short grace, whatever is still pending then counts as hung. */
    async stop(): Promise<void> {
      running = false;
      await loop;
      await Promise.race([Promise.allSettled(inflight), sleep(2_000)]);
    },
    close: () => sub.close(),
  };
}

/** New connections a proxy accepted since the fault began (Toxiproxy's log: whole seconds, so a second of slack). */
function connectionsSince(toxi: Toxiproxy, proxy: string, faultAt: number): { n: number; first: number | null } {
  const ts = toxi.acceptedConnections(proxy).filter((t) => t >= Math.floor(faultAt / 1000) * 1000 && t <= Date.now());
  return { n: ts.length, first: ts.length === 0 ? null : Math.max(0, (ts[0] as number) - faultAt) };
}

/** Runs one fault against both clients on a fresh project through fresh proxies; tears everything down. */
export async function probeClients(o: ClientProbeOptions): Promise<ClientProbeResult> {
  const tag = randomUUID().slice(0, 6);
  const proxied = await proxyEmulators(o.toxi, o.emulators, { pubsub: `probe-pubsub-${tag}`, spanner: `probe-spanner-${tag}` });
  try {
    const backend = await openBackend('emulators', { emulators: proxied.handle, projectId: `raceday-probe-${tag}` });
    const clock: Clock = { faultAt: 0, clearedAt: 0 };
    const t = startTrickle(backend, clock, o.tickMs ?? 200);
    await sleep(o.beforeMs ?? 3_000);
    o.log?.(`probe ${o.kind}: fault on for ${o.faultMs} ms`);
    clock.faultAt = Date.now();
    const faults = await Promise.all([proxied.proxies.pubsub, proxied.proxies.spanner].map((p) => injectNetworkFault(o.toxi, p, o.kind, { durationMs: o.faultMs, ...o.fault })));
    await sleep(o.faultMs);
    const conns = { spanner: connectionsSince(o.toxi, proxied.proxies.spanner, clock.faultAt), pubsub: connectionsSince(o.toxi, proxied.proxies.pubsub, clock.faultAt) };
    await Promise.all(faults.map((f) => f.clear()));
    clock.clearedAt = Date.now();
    o.log?.(`probe ${o.kind}: fault cleared, watching ${o.afterMs ?? 15_000} ms`);
    await sleep(o.afterMs ?? 15_000);
    await t.stop();
    const pendingAtEnd = t.sp.pending;
    let lost = 0;
    for (const id of t.publishedAt.keys()) if (!t.seen.has(id)) lost++;
    await Promise.race([t.close().then(() => backend.close()), sleep(20_000)]);
    const { sp, pub } = t;
    return {
      kind: o.kind,
      faultMs: o.faultMs,
      spanner: { calls: sp.calls, ok: sp.ok, failed: sp.failed, errors: sp.errors, firstErrorAfterFaultMs: sp.firstErr, firstOkAfterClearMs: sp.firstOkAfterClear, pendingAtEnd, slowestCallMs: sp.slowest, connectionsDuringFault: conns.spanner.n, firstNewConnectionAfterFaultMs: conns.spanner.first },
      pubsub: { published: pub.published, publishFailed: pub.failed, received: t.seen.size, duplicates: t.rx.duplicates, lost, firstReceiveAfterClearMs: t.rx.firstAfterClear, publishErrors: pub.errors, connectionsDuringFault: conns.pubsub.n, firstNewConnectionAfterFaultMs: conns.pubsub.first },
    };
  } finally {
    await proxied.close();
  }
}
