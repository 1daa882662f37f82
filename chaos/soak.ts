// The soak: one fleet of worker processes behind Toxiproxy, kept for the whole soak, settling
// typical-day (scaled to --users) race after race, day after day, with a fault at a steady rate.
// Every few seconds the resident memory of every fleet member (/proc/<pid>/status) and of this
// process is sampled; per window, the p99 of result posted -> a user's notification shown and of
// result posted -> the race's ranking shown. Each metric's drift is its least-squares slope per
// minute with a 95% interval (drift.ts); a leak shows as a slope above the stated threshold.
//
// Each day replayed gets fresh race, user and ticket ids (`k3-...`), so days never collide in
// the one project; after each day every race is read back: users settled once, none twice, the
// rest dead-lettered with a reason.
import { watchHeapAfterGc, type HeapAfterGc } from './heap-after-gc.ts';
import { readFileSync } from 'node:fs';
import { createRng, type SeededRng } from '../core/rng.ts';
import { DEAD_LETTER_ATTRIBUTES, SUBSCRIPTIONS, TOPICS } from '../core/topology.ts';
import { RANKING_NOTIFICATION_ID_PREFIX, settledNotificationId } from '../core/notification.ts';
import type { Ticket } from '../core/ticket.ts';
import type { StoreReadback } from '../core/ports.ts';
import { ensureEmulators } from '../emulators/index.ts';
import { onInterrupt } from './interrupt.ts';
import { startToxiproxy } from '../emulators/toxiproxy.ts';
import { RANKING_BROADCAST_USER } from '../pipeline/ranking.ts';
import type { DriftRecord, ReliabilityTotals, SoakSection } from '../reports/record/reliability.ts';
import { buildRaceDay } from '../scenarios/raceday.ts';
import type { RaceDay } from '../scenarios/model.ts';
import { loadScenario, parseScenario } from '../scenarios/spec.ts';
import { openBackend, type OpenedBackend } from '../sim/open-backend.ts';
import { dayTickets } from '../sim/workload.ts';
import { loadDay } from '../sim/world.ts';
import type { FaultEvent, FleetRole, Redriven, ReliabilityFigures } from './contracts.ts';
import { DRIFT_THRESHOLDS, fitDrift, type DriftPoint } from './drift.ts';
import { createFaultExecutor, type FaultExecutor } from './executor.ts';
import { percentile, recoveryAfter, recoverySummary, redrivenOf, totalFigures, type IdleSpan, type ProgressPoint } from './figures.ts';
import { startFleet, type ProcessFleet } from './fleet.ts';
import { injectNetworkFault, proxyEmulators } from './network.ts';
import { CHAOS_FLEET, reconcileArgs } from './run.ts';
import { countByKind, type FaultChoice, type PlannedFault } from './schedule.ts';

export const SOAK_DEFAULTS = {
  users: 100,
  /** One fault this often. */
  faultEveryMs: 45_000,
  /** Resident memory sampled this often. */
  sampleEveryMs: 5_000,
  /** Latency percentiles per window of this length. */
  windowMs: 60_000,
  /**
   * A process's first two minutes (loading code, filling caches, the heap growing to its working
   * size) are not fitted. Measured in a 30-minute soak: restarted settle workers grew 5-35 MB in
   * their first 1-3 minutes and then held (e.g. 185, 186, 187, 187, 187, 188 MB by minute of life).
   */
  memberWarmupMs: 120_000,
  /** Races posted and not yet ranked at once: the day's card compressed, as a busy afternoon. */
  racesInFlight: 6,
  /** A lane waits this long for its race's ranking before posting the next. */
  raceTimeoutMs: 60_000,
  /** After a day's last race, the longest wait for every race to be ranked before reading back. */
  drainMs: 180_000,
} as const;

export interface SoakOptions {
  readonly minutes: number;
  readonly scenario: string;
  readonly faults: readonly FaultChoice[];
  readonly seed: number;
  readonly users?: number;
  /** The ingest process's reconciler stall (default the chaos runs'); 0 runs none. */
  readonly reconcileStallMs?: number;
  readonly log?: (line: string) => void;
  /**
   * Called with the report before anything is closed: the figures are written out first, so a
   * client library that throws while closing cannot take them with it.
   */
  readonly onReport?: (r: SoakReport) => Promise<void>;
}

export interface SoakReport {
  readonly soak: SoakSection;
  /** One per day replayed (the last may be partial). */
  readonly runs: readonly ReliabilityFigures[];
  readonly totals: ReliabilityTotals;
  readonly ok: boolean;
}

/** Settled notifications' ids: `ntf:settled:stl:<race>:<user>:v<version>`. */
const SETTLED_PREFIX = settledNotificationId('stl:');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resident memory of a process, MB; undefined when it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) / 1024;
  } catch {
    return undefined;
  }
}

/** The day with every race, user and ticket id prefixed, so repeated days never collide in one project. */
export function relabelDay(day: RaceDay, prefix: string): RaceDay {
  const tickets: Ticket[] = dayTickets(day).map((t) => ({ ...t, ticketId: `${prefix}${t.ticketId}`, userId: `${prefix}${t.userId}`, raceId: `${prefix}${t.raceId}` }));
  const users = day.users.map((u) => ({ ...u, userId: `${prefix}${u.userId}` }));
  const races = day.races.map((r) => ({ ...r, raceId: `${prefix}${r.raceId}` }));
  return { name: day.name, seed: day.seed, races, users, ticketBatches: () => [{ tickets, placedAtMs: tickets.map(() => 0) }], ticketCount: tickets.length };
}

/** The scenario with its users and tickets scaled to `users` (ten tickets a user, as typical-day has). */
function scaledDay(scenario: string, users: number, seed: number): RaceDay {
  const spec = loadScenario(scenario);
  const ratio = spec.tickets / spec.users;
  return buildRaceDay(parseScenario({ ...spec, users, tickets: Math.max(users, Math.round(users * ratio)) }, scenario), seed);
}

/** The soak's faults: one at a time, drawn from what --faults allows (the gateway has no part here). */
function drawSoakFault(rng: SeededRng, faults: readonly FaultChoice[], members: readonly { id: string; role: FleetRole }[]): PlannedFault | undefined {
  const usable = faults.filter((f) => f !== 'gateway-restart');
  if (usable.length === 0) return undefined;
  const choice = usable[rng.int(0, usable.length - 1)] as FaultChoice;
  if (choice === 'kill') {
    const workers = members.filter((m) => m.role !== 'ingest');
    const m = workers[rng.int(0, workers.length - 1)];
    return m === undefined ? undefined : { kind: 'kill', target: m.id, phase: 'settle', delayMs: 0, durationMs: rng.int(100, 1_500) };
  }
  if (choice === 'rolling') {
    const roles = [...new Set(members.map((m) => m.role))];
    return { kind: 'rolling-restart', target: roles[rng.int(0, roles.length - 1)] as string, phase: 'settle', delayMs: 0, durationMs: 0 };
  }
  const kind = choice.slice('network:'.length) as PlannedFault['kind'];
  return { kind, target: rng.int(0, 1) === 0 ? 'spanner' : 'pubsub', phase: 'settle', delayMs: 0, durationMs: rng.int(1_000, 3_000) };
}

interface Samples {
  readonly byMetric: Map<string, { unit: string; points: DriftPoint[] }>;
  add(metric: string, unit: string, p: DriftPoint): void;
}

function samples(): Samples {
  const byMetric = new Map<string, { unit: string; points: DriftPoint[] }>();
  return {
    byMetric,
    add(metric, unit, p) {
      let s = byMetric.get(metric);
      if (s === undefined) byMetric.set(metric, (s = { unit, points: [] }));
      s.points.push(p);
    },
  };
}

/** Posts a race's result to the ingest member that is up, again until it answers (ingest is idempotent). */
async function postResult(fleet: ProcessFleet, body: object, deadlineMs: number): Promise<void> {
  let last = 'no ingest member ready';
  while (Date.now() < deadlineMs) {
    const url = fleet.ingestUrl();
    if (url !== undefined) {
      try {
        const res = await fetch(`${url}/results`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
        const answer = (await res.json()) as { ok: boolean; error?: { code: string; message: string } };
        if (res.status === 200 && answer.ok) return;
        if (res.status === 400 || res.status === 422) throw new Error(`ingest refused: ${answer.error?.code}: ${answer.error?.message}`);
        last = `HTTP ${res.status}`;
      } catch (e) {
        if ((e as Error).message.startsWith('ingest refused')) throw e;
        last = (e as Error).message;
      }
    }
    await sleep(200);
  }
  throw new Error(`result not posted: ${last}`);
}

/** Where a soak day's wall time went, phase by phase, for its log line: "load 2.1 s, races 95.0 s, ...". */
export function dayPhases(now: () => number = Date.now): { mark(phase: string): void; text(): string } {
  let from = now();
  const spent: [string, number][] = [];
  return {
    mark(phase) {
      const t = now();
      spent.push([phase, t - from]);
      from = t;
    },
    text: () => spent.map(([p, ms]) => `${p} ${(ms / 1000).toFixed(1)} s`).join(', '),
  };
}

/** Key reads of (race, user) tickets in flight at once while a day is checked. */
const CHECK_READS_IN_FLIGHT = 8;

/**
 * The settled tickets of each race's users, read per user by key. Not a walk of each race: on the
 * emulator that query scans every ticket stored, so a soak's check grew with every day it had run
 * (measured: 9.8, 15.1, 21.0, 27.1 s for days 1-4 of a 12-minute soak).
 */
async function settledTicketsOf(rb: Pick<StoreReadback, 'ticketsOfUser'>, usersOf: ReadonlyMap<string, ReadonlySet<string>>): Promise<number> {
  const pairs = [...usersOf].flatMap(([raceId, users]) => [...users].map((userId) => ({ raceId, userId })));
  let next = 0;
  let settled = 0;
  const lane = async (): Promise<void> => {
    for (let pair = pairs[next++]; pair !== undefined; pair = pairs[next++]) {
      for (const t of await rb.ticketsOfUser(pair.userId, pair.raceId)) if (t.status !== 'open') settled++;
    }
  };
  await Promise.all(Array.from({ length: CHECK_READS_IN_FLIGHT }, lane));
  return settled;
}

/** A day's races read back: settled users and tickets, doubles, dead-lettered users, lost. */
async function checkDay(backend: OpenedBackend, day: RaceDay, prefix: string, seed: number, scenario: string, events: FaultEvent[], violations: string[]): Promise<ReliabilityFigures> {
  const rb = backend.store.readback;
  if (rb === undefined) throw new Error('invariant violated: the Spanner store has read-backs');
  const checked = new Set(day.races.map((r) => r.raceId));
  const tickets = dayTickets(day).filter((t) => checked.has(t.raceId));
  const usersOf = new Map<string, Set<string>>();
  for (const t of tickets) {
    let s = usersOf.get(t.raceId);
    if (s === undefined) usersOf.set(t.raceId, (s = new Set()));
    s.add(t.userId);
  }
  const deadUsers = new Set<string>();
  const deadLettered: Record<string, number> = {};
  for (const topic of Object.values(TOPICS)) {
    for (const dl of backend.view.deadLetters(topic)) {
      const reason = (dl.attributes[DEAD_LETTER_ATTRIBUTES.reason] ?? dl.attributes['reason'] ?? 'unknown').split(':')[0] as string;
      const user = /"userId":"([^"]+)"/.exec(dl.data)?.[1];
      if (user === undefined || !user.startsWith(prefix)) continue;
      if (!deadUsers.has(user)) deadLettered[reason] = (deadLettered[reason] ?? 0) + 1;
      deadUsers.add(user);
    }
  }
  let lost = 0;
  let doubled = 0;
  for (const race of day.races) {
    const markers = await rb.settlementMarkers(race.raceId);
    const marked = new Set(markers.map((m) => m.userId));
    for (const m of markers) if (m.applications !== undefined && m.applications > 1) doubled += m.applications - 1;
    for (const u of usersOf.get(race.raceId) ?? []) if (!marked.has(u) && !deadUsers.has(u)) lost++;
  }
  const settledTickets = await settledTicketsOf(rb, usersOf);
  if (lost > 0) violations.push(`${lost} users of day ${prefix.slice(0, -1)} neither settled nor dead-lettered`);
  if (doubled > 0) violations.push(`${doubled} settlements applied more than once`);
  const users = new Set(tickets.map((t) => t.userId)).size;
  return {
    seed,
    scenario,
    faultsByKind: countByKind(events),
    faults: events,
    tickets: tickets.length,
    users,
    settledExactlyOnce: doubled === 0 ? settledTickets : Math.max(0, settledTickets - doubled),
    lost,
    doubled,
    deadLettered,
    notificationsLostAfterRecovery: 0,
    notificationsDuplicatedAfterRecovery: 0,
    recoveryMs: recoverySummary(events),
    ok: violations.length === 0,
    violations,
  };
}

/** Each metric's drift, with the stated thresholds; the soak's verdict. */
export function soakDrift(byMetric: Samples['byMetric'], minutes: number): { drift: DriftRecord[]; verdict: string } {
  const warmupMs = Math.min(120_000, minutes * 6_000);
  const drift = [...byMetric.entries()].map(([metric, s]) => {
    const median = percentile(s.points.map((p) => p.value), 0.5);
    const thresholdPerMin = s.unit === 'MB' ? DRIFT_THRESHOLDS.rssMbPerMin : Math.max(DRIFT_THRESHOLDS.p99MinMsPerMin, DRIFT_THRESHOLDS.p99RelativePerMin * median);
    return fitDrift(s.points, { metric, unit: s.unit, thresholdPerMin, warmupMs });
  });
  const growing = drift.filter((d) => d.verdict === 'growing').map((d) => d.metric);
  const unsure = drift.filter((d) => d.verdict === 'inconclusive').map((d) => d.metric);
  const verdict = growing.length > 0 ? `growing: ${growing.join(', ')}${warmupCaution(drift, growing, minutes)}` : unsure.length > 0 ? `no unbounded growth found; inconclusive: ${unsure.join(', ')}` : 'no unbounded growth';
  return { drift, verdict };
}

/** Memory series a process's warm-up moves (reserved heap, allocator), as against its live objects. */
const RESERVED_MEMORY = ['rss', 'heap-committed', 'native'];
/** Soaks at least this long have seen workers' resident memory reach its plateau (docs/chaos.md). */
const MEMORY_VERDICT_MIN_MINUTES = 60;

/**
 * A short soak's `growing` on reserved memory while the same process's live objects (heap and
 * off-heap after major collections) are flat is most likely the climb every worker makes to its
 * working size in its first 15-25 minutes (an 80-minute soak saw it hold after that); the verdict
 * stands, with this said beside it.
 */
function warmupCaution(drift: readonly DriftRecord[], growing: readonly string[], minutes: number): string {
  if (minutes >= MEMORY_VERDICT_MIN_MINUTES) return '';
  const flat = (metric: string): boolean => drift.find((d) => d.metric === metric)?.verdict === 'no unbounded growth';
  const warming = growing.filter((m) => {
    const [kind, member] = m.split(' ', 2);
    return RESERVED_MEMORY.includes(kind ?? '') && member !== undefined && flat(`heap ${member}`) && flat(`external ${member}`);
  });
  if (warming.length === 0) return '';
  return ` (${warming.join(', ')}: live objects flat; a worker's resident memory climbs for its first 15-25 minutes before it holds, so a soak of ${MEMORY_VERDICT_MIN_MINUTES} minutes or more tells that from a leak)`;
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => undefined);
  const users = o.users ?? SOAK_DEFAULTS.users;
  const endAt = Date.now() + o.minutes * 60_000;
  const emulators = await ensureEmulators({ log });
  const toxi = await startToxiproxy({ seed: o.seed });
  const unregisterToxi = onInterrupt(() => toxi.stop(), { last: true });
  const proxied = await proxyEmulators(toxi, emulators);
  // The soak's own watcher pulls with unary Pull, as the workers do: with StreamingPull its stream,
  // reopened after the emulator's GOAWAY (too many pings), missed four races' rankings in a
  // 30-minute soak whose store had them published (docs/chaos.md).
  const backend = await openBackend('emulators', { emulators, log, pull: 'unary' });
  const s = samples();
  const runs: ReliabilityFigures[] = [];
  const rng = createRng(`chaos-soak/${o.seed}`);
  let fleet: ProcessFleet | undefined;
  let timers: NodeJS.Timeout[] = [];
  const ownHeap = watchHeapAfterGc();
  try {
    const projectId = String(backend.where['projectId']);
    fleet = await startFleet({ projectId, spannerShards: 1, counts: CHAOS_FLEET, args: reconcileArgs(o.reconcileStallMs), env: { PUBSUB_EMULATOR_HOST: proxied.pubsubHost, SPANNER_EMULATOR_HOST: proxied.spannerHost }, log });
    const f = fleet;
    const t0 = Date.now();
    const progress: ProgressPoint[] = [];
    // Stretches with no race posted (a day's check, the next day's load): not counted as recovery.
    const idle: IdleSpan[] = [];
    let idleFrom: number | undefined = 0;
    const notifyLatency: { at: number; ms: number }[] = [];
    const rankingLatency: { at: number; ms: number }[] = [];
    // Races in flight: posted at, and the ranking broadcast shown.
    const posted = new Map<string, number>();
    const ranked = new Map<string, number>();
    // A watcher of the notifications topic of its own, holding nothing but the races in flight
    // (the simulator's client keeps every notification, which would read as this process leaking).
    const watcher = backend.bus.subscribe(
      SUBSCRIPTIONS.gateway.name,
      async (d) => {
        const id = d.attributes['notificationId'] ?? '';
        const at = Date.now();
        if (id.startsWith(RANKING_NOTIFICATION_ID_PREFIX)) {
          const [raceId, userId] = id.slice(RANKING_NOTIFICATION_ID_PREFIX.length).split(':');
          const t = raceId === undefined ? undefined : posted.get(raceId);
          if (userId === RANKING_BROADCAST_USER && t !== undefined && raceId !== undefined && !ranked.has(raceId)) ranked.set(raceId, at);
        } else if (id.startsWith(SETTLED_PREFIX)) {
          const raceId = id.slice(SETTLED_PREFIX.length).split(':')[0];
          const t = raceId === undefined ? undefined : posted.get(raceId);
          if (t !== undefined) notifyLatency.push({ at, ms: at - t });
        }
        d.ack();
      },
      { maxInFlight: 64, ackDeadlineMs: 10_000 },
    );
    // Memory every few seconds; latency percentiles per window; faults at a steady rate.
    // The heap (and the off-heap memory its objects hold) kept after each major collection, per
    // process: a new reading when its count moves.
    const heapSeen = new Map<string, number>();
    const addHeap = (id: string, group: string, startedAtMs: number, h: HeapAfterGc | undefined): void => {
      if (h === undefined || heapSeen.get(group) === h.count) return;
      heapSeen.set(group, h.count);
      if (h.atMs - startedAtMs < SOAK_DEFAULTS.memberWarmupMs) return;
      s.add(`heap ${id}`, 'MB', { tMs: h.atMs - t0, value: h.mb, group });
      // A status line from a worker of before this figure has none.
      if (Number.isFinite(h.externalMb)) s.add(`external ${id}`, 'MB', { tMs: h.atMs - t0, value: h.externalMb, group });
      // Where resident memory goes when the live objects do not grow: V8's committed heap, and
      // what lies outside V8's accounting (the allocator's arenas, stacks, code).
      if (Number.isFinite(h.committedMb) && Number.isFinite(h.rssMb)) {
        s.add(`heap-committed ${id}`, 'MB', { tMs: h.atMs - t0, value: h.committedMb, group });
        s.add(`native ${id}`, 'MB', { tMs: h.atMs - t0, value: Math.round((h.rssMb - h.committedMb - h.externalMb) * 100) / 100, group });
      }
    };
    const sample = (): void => {
      const tMs = Date.now() - t0;
      for (const m of f.members()) {
        const mb = rssMb(m.pid);
        if (mb !== undefined && Date.now() - m.startedAtMs >= SOAK_DEFAULTS.memberWarmupMs) s.add(`rss ${m.id}`, 'MB', { tMs, value: mb, group: String(m.pid) });
        addHeap(m.id, String(m.pid), m.startedAtMs, m.heapAfterGc);
      }
      s.add('rss chaos-runner', 'MB', { tMs, value: process.memoryUsage().rss / 2 ** 20 });
      addHeap('chaos-runner', 'chaos-runner', t0 - SOAK_DEFAULTS.memberWarmupMs, ownHeap.latest());
      progress.push({ tMs, done: f.activity().delivered });
    };
    let windowStart = t0;
    const window = (): void => {
      const now = Date.now();
      const inWindow = (xs: { at: number; ms: number }[]) => xs.filter((x) => x.at >= windowStart && x.at < now).map((x) => x.ms);
      const n = inWindow(notifyLatency);
      const r = inWindow(rankingLatency);
      if (n.length > 0) s.add('notify p99', 'ms', { tMs: now - t0, value: percentile(n, 0.99) });
      if (r.length > 0) s.add('ranking p99', 'ms', { tMs: now - t0, value: percentile(r, 0.99) });
      notifyLatency.splice(0, notifyLatency.length - n.length);
      rankingLatency.splice(0, rankingLatency.length - r.length);
      windowStart = now;
      log(`soak: ${Math.round((now - t0) / 60_000)} of ${o.minutes} min, ${runs.length} days checked, notify p99 ${n.length === 0 ? '-' : percentile(n, 0.99)} ms, ranking p99 ${r.length === 0 ? '-' : percentile(r, 0.99)} ms, fleet RSS ${Math.round(f.members().reduce((a, m) => a + (rssMb(m.pid) ?? 0), 0))} MB`);
    };
    const executors: FaultExecutor[] = [];
    const toxicsActions = {
      members: () => f.members(),
      kill: (id: string, downMs: number) => f.kill(id, downMs),
      rollingRestart: (role: string) => f.rollingRestart(role as FleetRole),
      network: (proxy: string, kind: Parameters<typeof injectNetworkFault>[2], durationMs: number) => injectNetworkFault(toxi, proxy === 'pubsub' ? proxied.proxies.pubsub : proxied.proxies.spanner, kind, { durationMs }),
    };
    const strike = (): void => {
      const fault = drawSoakFault(rng, o.faults, f.members());
      if (fault === undefined) return;
      const ex = createFaultExecutor([fault], toxicsActions, () => Date.now(), log);
      executors.push(ex);
      ex.phase('settle', 'soak');
    };
    timers = [setInterval(sample, SOAK_DEFAULTS.sampleEveryMs), setInterval(window, SOAK_DEFAULTS.windowMs), setInterval(strike, SOAK_DEFAULTS.faultEveryMs)];
    let eventsTaken = 0;
    let redrivenSoFar: Redriven | undefined;
    for (let k = 1; Date.now() < endAt; k++) {
      const prefix = `k${k}-`;
      const day = relabelDay(scaledDay(o.scenario, users, o.seed + k), prefix);
      const phases = dayPhases();
      await loadDay(backend.store, day);
      phases.mark('load');
      if (idleFrom !== undefined) idle.push({ fromMs: idleFrom, toMs: Date.now() - t0 });
      idleFrom = undefined;
      const violations: string[] = [];
      let next = 0;
      const postedRaces = new Set<string>();
      const runRace = async (): Promise<void> => {
        while (next < day.races.length && Date.now() < endAt) {
          const race = day.races[next++] as RaceDay['races'][number];
          const at = Date.now();
          posted.set(race.raceId, at);
          postedRaces.add(race.raceId);
          try {
            await postResult(f, { raceId: race.raceId, resultVersion: 1, result: race.result, scratched: race.scratched }, at + SOAK_DEFAULTS.raceTimeoutMs);
          } catch (e) {
            violations.push(`race ${race.raceId}: ${(e as Error).message}`);
            continue;
          }
          // A lane waits for its race's ranking a while, then moves on: a slow race is judged once the day drains.
          while (!ranked.has(race.raceId) && Date.now() - at < SOAK_DEFAULTS.raceTimeoutMs) await sleep(50);
          const shownAt = ranked.get(race.raceId);
          if (shownAt !== undefined) rankingLatency.push({ at: shownAt, ms: shownAt - at });
        }
      };
      await Promise.all(Array.from({ length: SOAK_DEFAULTS.racesInFlight }, runRace));
      phases.mark('races');
      // The day drains: every race posted ranked, or the drain's limit; what is still unranked then is a finding.
      const drainUntil = Date.now() + SOAK_DEFAULTS.drainMs;
      const unranked = (): string[] => [...postedRaces].filter((r) => !ranked.has(r));
      while (unranked().length > 0 && Date.now() < drainUntil) await sleep(200);
      phases.mark('drain');
      idleFrom = Date.now() - t0;
      for (const r of unranked()) violations.push(`race ${r}: ranking not shown ${Math.round((Date.now() - (posted.get(r) ?? 0)) / 1000)} s after its result`);
      for (const r of postedRaces) {
        posted.delete(r);
        ranked.delete(r);
      }
      // Let the last race's notifications and any fault in flight finish before reading back.
      await sleep(3_000);
      const executed = executors.flatMap((e) => e.executed()).slice(eventsTaken);
      eventsTaken += executed.length;
      const events: FaultEvent[] = executed.map((e) => {
        const end = e.endMs ?? e.startMs;
        return { kind: e.kind, target: e.target, phase: e.phase, atMs: Math.round(e.startMs - t0), durationMs: Math.round(end - e.startMs), recoveredAfterMs: recoveryAfter(end - t0, progress, Number.POSITIVE_INFINITY, [...idle, { fromMs: idleFrom ?? Date.now() - t0, toMs: Date.now() - t0 }]) };
      });
      for (const e of executed) if (e.error !== undefined) violations.push(`fault ${e.kind} on ${e.target} could not be injected: ${e.error}`);
      const checked = await checkDay(backend, { ...day, races: day.races.filter((r) => postedRaces.has(r.raceId)) }, prefix, o.seed + k, o.scenario, events, violations);
      phases.mark('check');
      const counters = f.activity().counters;
      const redriven = redrivenOf(counters, o.reconcileStallMs !== 0, redrivenSoFar);
      redrivenSoFar = redrivenOf(counters, true);
      const figures: ReliabilityFigures = redriven === undefined ? checked : { ...checked, redriven };
      runs.push(figures);
      log(`soak: day ${k} checked: ${postedRaces.size} races, ${figures.tickets} tickets, ${figures.lost} lost, ${figures.doubled} doubled, ${events.length} faults (${phases.text()})`);
    }
    for (const t of timers) clearInterval(t);
    window();
    await Promise.all(executors.map((e) => e.drain()));
    await watcher.close();
    const { drift, verdict } = soakDrift(s.byMetric, o.minutes);
    const soak: SoakSection = {
      minutes: o.minutes,
      days: runs.length,
      windowMs: SOAK_DEFAULTS.windowMs,
      samples: [...s.byMetric.entries()].map(([metric, v]) => ({ metric, unit: v.unit, points: v.points.map((p) => ({ tMs: p.tMs, value: Math.round(p.value * 100) / 100, ...(p.group === undefined ? {} : { group: p.group }) })) })),
      drift,
      verdict,
    };
    const totals = totalFigures(runs);
    const report = { soak, runs, totals, ok: totals.ok && !verdict.startsWith('growing') };
    await o.onReport?.(report);
    return report;
  } finally {
    ownHeap.stop();
    for (const t of timers) clearInterval(t);
    await fleet?.stop().catch(() => undefined);
    await backend.close().catch(() => undefined);
    await proxied.close().catch(() => undefined);
    unregisterToxi();
    await toxi.stop().catch(() => undefined);
    await emulators.stop().catch(() => undefined);
  }
}

/** The soak's report for the terminal. */
export function soakText(r: SoakReport): string {
  const fmt = (x: number): string => (Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(3));
  const lines = [`soak ${r.soak.minutes} min: ${r.soak.days} days, ${r.totals.faults} faults (${Object.entries(r.totals.faultsByKind).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}), ${r.totals.tickets} tickets, ${r.totals.lost} lost, ${r.totals.doubled} doubled`];
  for (const d of r.soak.drift) lines.push(`  ${d.metric.padEnd(24)} median ${fmt(d.median)} ${d.unit}, slope ${fmt(d.slopePerMin)} ${d.unit}/min (95% ${fmt(d.lowPerMin)} … ${fmt(d.highPerMin)}), threshold ${fmt(d.thresholdPerMin)} ${d.unit}/min: ${d.verdict}`);
  lines.push(`verdict: ${r.soak.verdict}`);
  return lines.join('\n');
}
