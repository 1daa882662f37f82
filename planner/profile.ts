// Profiling a real run: decorators over the Store and MessageBus ports that time every operation
// the pipeline performs and file it under the cost model's OPERATIONS (contracts.ts), with the
// sizes its cost grows with. Samples are kept in a bounded reservoir per operation, so a run of
// any length costs the same memory. What each operation covers is listed in OPERATION_METHODS and
// docs/capacity-model.md.
//
// Service time, not latency: on a backend whose unit runs one transaction at a time (an emulator
// database, `serialized`), a call's latency includes its wait for the unit. Calls answered by one
// group commit resolve in the same turn of the event loop (the batcher resolves them together,
// before any I/O), so the profiler files them as ONE sample of the group's size, and its service
// time is its end less the later of its first arrival and the unit's previous transaction end.
// Point reads outside a transaction (the settled check's getSettlementTotals) go through the same
// grouping: the Spanner store runs at most two of a shard's reads at once and the calls asked
// meanwhile share the next multi-key read, answered together, so a group is one read of its count.
// A read does not hold the unit's transaction slot: it leaves the unit's clock alone, and it is
// timed from its group's LAST arrival (a read starts once everything it carries has been asked;
// its first callers' wait for a free read slot is queueing, which the model does itself).
import type { Bonus, Delivery, DeliveryHandler, MessageBus, Store } from '../core/ports.ts';
import type { OperationName } from './contracts.ts';

/** One measured operation: its service time, its latency (arrival -> answer) and its sizes. */
export interface ProfileSample {
  readonly durationUs: number;
  readonly latencyUs: number;
  readonly sizes: Readonly<Record<string, number>>;
}

export interface OperationProfile {
  /** Every sample seen (the reservoir keeps at most its capacity of them). */
  readonly count: number;
  readonly sumDurationUs: number;
  readonly samples: readonly ProfileSample[];
}

/** The knobs a profiled run ran with: what "concurrency" is made of on each target. */
export interface ProfileKnobs {
  readonly workers: number;
  readonly maxInFlight: number;
  readonly shards: number;
  /** Group commit size limit (1 where the backend commits each user alone, e.g. memory). */
  readonly settlementsPerCommit: number;
}

/** The run a profile came from: its size and its measured throughput at its concurrency. */
export interface ProfileRun {
  readonly users: number;
  readonly tickets: number;
  readonly settledUsers: number;
  /** Result published -> last settlement committed. */
  readonly makespanMs: number;
  /** settledUsers per second over the makespan. */
  readonly throughputUsersPerSecond: number;
}

/** One profiled run (or one sample of a --variant run): what the run record's `profile.runs` holds. */
export interface RunProfile {
  readonly target: 'memory' | 'emulators' | 'google';
  /** The --variant name and repeat of the sample, absent for a plain run. */
  readonly variant?: string;
  readonly repeat?: number;
  readonly knobs: ProfileKnobs;
  /** Settle concurrency: settle workers x messages in flight each. */
  readonly concurrency: number;
  readonly run: ProfileRun;
  readonly operations: Readonly<Partial<Record<OperationName, OperationProfile>>>;
}

/** The size terms each operation's cost is fitted on. */
export const OPERATION_TERMS: Readonly<Partial<Record<OperationName, readonly string[]>>> = {
  'settle.commit': ['users', 'tickets'],
  'postSettle.commit': ['users', 'writes'],
  'notify.append': ['notifications'],
  'fanout.page': ['users'],
  'publish.batch': ['messages'],
  'deliver.message': [],
  'ingest.result': ['tickets'],
  'ranking.claim': ['users'],
  'settled.check': ['users'],
};

/** The port methods each operation covers (documentation and tests read it). */
export const OPERATION_METHODS: Readonly<Partial<Record<OperationName, readonly string[]>>> = {
  'settle.commit': ['Store.settleUser', 'Store.settleUserColumns'],
  'postSettle.commit': ['Store.applyDayProgress', 'Store.grantBonuses', 'Store.markPostSettled'],
  'notify.append': ['Store.appendNotifications'],
  'fanout.page': ['Store.pageUsersWithOpenTickets'],
  'publish.batch': ['MessageBus.publish'],
  'deliver.message': ['MessageBus.subscribe (publish time -> handler start)'],
  'ingest.result': ['Store.cashPools', 'Store.recordOutcome'],
  // Size `users`: the settlement-total rows read between the claim and the publication mark (the
  // ranking reads the race's totals twice: to rank, then to address each user's notification).
  'ranking.claim': ['Store.claimRanking', 'Store.pageSettlementTotals', 'Store.markRankingPublished'],
  // Size `users`: the rows read (on the emulators, the calls one coalesced read answered together).
  'settled.check': ['Store.getSettlementTotals'],
};

export const RESERVOIR_CAPACITY = 2_000;

export interface ProfileRecorder {
  add(op: OperationName, sample: ProfileSample): void;
  /** The operations measured so far (a copy). */
  operations(): Partial<Record<OperationName, OperationProfile>>;
  /** Users and tickets of the run: the size of operations that price the whole race (ingest). */
  setWorkload(w: { users: number; tickets: number }): void;
  workload(): { users: number; tickets: number } | undefined;
  /** Clears every sample (a recorder reused for the next sample of a --variant run). */
  reset(): void;
}

interface Reservoir {
  count: number;
  sumDurationUs: number;
  samples: ProfileSample[];
}

/** A recorder with a reservoir per operation (Vitter's algorithm R, seeded: the same run keeps the same samples). */
export function createProfileRecorder(options: { capacity?: number; seed?: number } = {}): ProfileRecorder {
  const capacity = options.capacity ?? RESERVOIR_CAPACITY;
  let state = (options.seed ?? 0x9e3779b9) >>> 0;
  const next = (): number => {
    // xorshift32: a reproducible choice of which samples stay, no need for the core's rng here.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
  let reservoirs = new Map<OperationName, Reservoir>();
  let work: { users: number; tickets: number } | undefined;
  return {
    add(op, sample) {
      let r = reservoirs.get(op);
      if (r === undefined) reservoirs.set(op, (r = { count: 0, sumDurationUs: 0, samples: [] }));
      r.count++;
      r.sumDurationUs += sample.durationUs;
      if (r.samples.length < capacity) r.samples.push(sample);
      else {
        const j = Math.floor(next() * r.count);
        if (j < capacity) r.samples[j] = sample;
      }
    },
    operations() {
      const out: Partial<Record<OperationName, OperationProfile>> = {};
      for (const [op, r] of reservoirs) out[op] = { count: r.count, sumDurationUs: r.sumDurationUs, samples: [...r.samples] };
      return out;
    },
    setWorkload(w) {
      work = { ...w };
    },
    workload: () => work,
    reset() {
      reservoirs = new Map();
    },
  };
}

export interface ProfileStoreOptions {
  /**
   * Each unit (an emulator database: a shard) runs one transaction at a time and group-commits
   * calls that queue for it: samples are groups, timed as service (see the file's comment).
   * Off (memory, real Spanner): every call is its own sample, timed end to end.
   */
  readonly serialized?: boolean;
  /** The unit of a user (SpannerStore.shardOfUser); every user in unit 0 without it. */
  readonly unitOf?: (userId: string) => number;
  readonly nowUs?: () => number;
}

interface Call {
  readonly op: OperationName;
  readonly method: string;
  readonly unit: number;
  readonly startUs: number;
  readonly endUs: number;
  readonly sizes: Readonly<Record<string, number>>;
  /** A transaction that holds the unit (timed from the unit's previous one), or a read beside it. */
  readonly holdsUnit: boolean;
}

const nowUsDefault = (): number => performance.now() * 1_000;

/** Sums sizes key by key. */
function addSizes(into: Record<string, number>, sizes: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(sizes)) into[k] = (into[k] ?? 0) + v;
}

/** Files unit-bound calls as samples: grouped per event-loop turn when serialized, one by one otherwise. */
function createCallSink(recorder: ProfileRecorder, serialized: boolean): (c: Call) => void {
  const unitEndUs = new Map<number, number>();
  let pending: Call[] = [];
  const flush = (): void => {
    const calls = pending;
    pending = [];
    const groups = new Map<string, Call[]>();
    for (const c of calls) {
      const key = `${c.op}|${c.method}|${c.unit}`;
      const g = groups.get(key);
      if (g === undefined) groups.set(key, [c]);
      else g.push(c);
    }
    const ordered = [...groups.values()].sort((a, b) => (a[0] as Call).endUs - (b[0] as Call).endUs);
    for (const g of ordered) {
      const first = g[0] as Call;
      const startUs = first.holdsUnit ? Math.min(...g.map((c) => c.startUs)) : Math.max(...g.map((c) => c.startUs));
      const endUs = Math.min(...g.map((c) => c.endUs));
      const prev = first.holdsUnit ? (unitEndUs.get(first.unit) ?? Number.NEGATIVE_INFINITY) : Number.NEGATIVE_INFINITY;
      const sizes: Record<string, number> = {};
      for (const c of g) addSizes(sizes, c.sizes);
      recorder.add(first.op, { durationUs: Math.max(0, endUs - Math.max(startUs, prev)), latencyUs: Math.max(...g.map((c) => c.endUs - c.startUs)), sizes });
      if (first.holdsUnit) unitEndUs.set(first.unit, Math.max(prev, endUs));
    }
  };
  return (c) => {
    if (!serialized) {
      recorder.add(c.op, { durationUs: c.endUs - c.startUs, latencyUs: c.endUs - c.startUs, sizes: c.sizes });
      return;
    }
    if (pending.length === 0) setImmediate(flush);
    pending.push(c);
  };
}

type AnyFn = (...args: never[]) => unknown;

/** A view of `target` with some methods replaced; everything else (fields, other methods) passes through bound to the target. */
function decorate<T extends object>(target: T, overrides: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(target, {
    get(t, prop) {
      if (Object.prototype.hasOwnProperty.call(overrides, prop)) return overrides[prop as keyof T];
      const v: unknown = Reflect.get(t, prop, t);
      return typeof v === 'function' ? (v as AnyFn).bind(t) : v;
    },
  });
}


/**
 * The store with the pipeline's operations timed into `recorder`. Every other method and field
 * passes through untouched, so the pipeline, the checkers and the read-backs see the same store.
 */
export function profileStore<S extends Store>(store: S, recorder: ProfileRecorder, options: ProfileStoreOptions = {}): S {
  const now = options.nowUs ?? nowUsDefault;
  const unitOf = options.unitOf ?? ((): number => 0);
  const sink = createCallSink(recorder, options.serialized === true);
  async function unitCall<R>(op: OperationName, method: string, unit: number, run: () => Promise<R>, sizesOf: (r: R) => Record<string, number>, holdsUnit = true): Promise<R> {
    const startUs = now();
    const r = await run();
    sink({ op, method, unit, startUs, endUs: now(), sizes: sizesOf(r), holdsUnit });
    return r;
  }
  async function timed<R>(run: () => Promise<R>): Promise<{ r: R; us: number }> {
    const startUs = now();
    const r = await run();
    return { r, us: now() - startUs };
  }
  // Per race: ingest's pool read waits for its outcome write; a ranking's claim and pages wait for its publication mark.
  const poolsUs = new Map<string, number>();
  const ranking = new Map<string, { us: number; users: number }>();
  const o: Partial<Record<keyof Store, unknown>> = {
    settleUser: (...a: Parameters<Store['settleUser']>) =>
      unitCall('settle.commit', 'settleUser', unitOf(a[1]), () => store.settleUser(...a), (r) => ({ users: 1, tickets: r.kind === 'applied' ? r.settlement.outcomes.length : 0 })),
    markPostSettled: (raceId: string, userId: string) => unitCall('postSettle.commit', 'markPostSettled', unitOf(userId), () => store.markPostSettled(raceId, userId), () => ({ users: 1, writes: 1 })),
    grantBonuses: (bonuses: readonly Bonus[]) =>
      unitCall('postSettle.commit', 'grantBonuses', unitOf(bonuses[0]?.userId ?? ''), () => store.grantBonuses(bonuses), () => ({ users: new Set(bonuses.map((b) => b.userId)).size, writes: bonuses.length })),
    appendNotifications: (bodies: Parameters<Store['appendNotifications']>[0]) =>
      unitCall('notify.append', 'appendNotifications', unitOf(bodies[0]?.userId ?? ''), () => store.appendNotifications(bodies), () => ({ notifications: bodies.length })),
    pageUsersWithOpenTickets: async (...a: Parameters<Store['pageUsersWithOpenTickets']>) => {
      const { r, us } = await timed(() => store.pageUsersWithOpenTickets(...a));
      recorder.add('fanout.page', { durationUs: us, latencyUs: us, sizes: { users: r.length } });
      return r;
    },
    recordOutcome: async (outcome: Parameters<Store['recordOutcome']>[0]) => {
      const { r, us } = await timed(() => store.recordOutcome(outcome));
      const total = us + (poolsUs.get(outcome.raceId) ?? 0);
      poolsUs.delete(outcome.raceId);
      recorder.add('ingest.result', { durationUs: total, latencyUs: total, sizes: { tickets: recorder.workload()?.tickets ?? 0 } });
      return r;
    },
    claimRanking: async (...a: Parameters<Store['claimRanking']>) => {
      const { r, us } = await timed(() => store.claimRanking(...a));
      if (r) ranking.set(a[0], { us, users: 0 });
      return r;
    },
  };
  const columns = store.settleUserColumns;
  if (columns !== undefined) {
    o.settleUserColumns = (...a: Parameters<NonNullable<Store['settleUserColumns']>>) =>
      unitCall('settle.commit', 'settleUserColumns', unitOf(a[1]), () => columns.apply(store, a), (r) => ({ users: 1, tickets: r.kind === 'applied' ? r.settlement.tickets : 0 }));
  }
  const day = store.applyDayProgress;
  if (day !== undefined) {
    o.applyDayProgress = (...a: Parameters<NonNullable<Store['applyDayProgress']>>) =>
      unitCall('postSettle.commit', 'applyDayProgress', unitOf(a[0].userId), () => day.apply(store, a), (granted) => ({ users: 1, writes: 1 + granted.length }));
  }
  const pools = store.cashPools;
  if (pools !== undefined) {
    o.cashPools = async (raceId: string) => {
      const { r, us } = await timed(() => pools.call(store, raceId));
      poolsUs.set(raceId, us);
      return r;
    };
  }
  const pageTotals = store.pageSettlementTotals;
  if (pageTotals !== undefined) {
    o.pageSettlementTotals = async (...a: Parameters<NonNullable<Store['pageSettlementTotals']>>) => {
      const { r, us } = await timed(() => pageTotals.apply(store, a));
      const acc = ranking.get(a[0]);
      if (acc !== undefined) {
        acc.us += us;
        acc.users += r.length;
      }
      return r;
    };
  }
  const totals = store.getSettlementTotals;
  if (totals !== undefined) {
    o.getSettlementTotals = (raceId: string, userId: string) => unitCall('settled.check', 'getSettlementTotals', unitOf(userId), () => totals.call(store, raceId, userId), () => ({ users: 1 }), false);
  }
  const published = store.markRankingPublished;
  if (published !== undefined) {
    o.markRankingPublished = async (raceId: string) => {
      const { us } = await timed(() => published.call(store, raceId));
      const acc = ranking.get(raceId);
      ranking.delete(raceId);
      if (acc !== undefined) recorder.add('ranking.claim', { durationUs: acc.us + us, latencyUs: acc.us + us, sizes: { users: acc.users } });
    };
  }
  return decorate(store, o as Partial<Record<keyof S, unknown>>);
}

/**
 * The bus with publish calls timed (publish.batch: call -> accepted) and each delivery's wait from
 * its publication to its handler's start (deliver.message). The wait includes any backlog in front
 * of the message; calibration prices the bus's own overhead from the low end of it (calibrate.ts).
 */
export function profileBus<B extends MessageBus>(bus: B, recorder: ProfileRecorder, options: { nowUs?: () => number; wallNowMs?: () => number } = {}): B {
  const now = options.nowUs ?? nowUsDefault;
  const wallNow = options.wallNowMs ?? ((): number => Date.now());
  const o: Partial<Record<keyof MessageBus, unknown>> = {
    publish: async (topic: string, messages: Parameters<MessageBus['publish']>[1]) => {
      const startUs = now();
      await bus.publish(topic, messages);
      const us = now() - startUs;
      recorder.add('publish.batch', { durationUs: us, latencyUs: us, sizes: { messages: messages.length } });
    },
    subscribe: (subscription: string, handler: DeliveryHandler, options2: Parameters<MessageBus['subscribe']>[2]) =>
      bus.subscribe(
        subscription,
        (d: Delivery) => {
          const us = Math.max(0, wallNow() - d.publishTimeMs) * 1_000;
          recorder.add('deliver.message', { durationUs: us, latencyUs: us, sizes: {} });
          return handler(d);
        },
        options2,
      ),
  };
  return decorate(bus, o as Partial<Record<keyof B, unknown>>);
}

/** The run's profile from what the recorder holds, its knobs and its measured figures. */
export function runProfileOf(
  recorder: ProfileRecorder,
  o: { target: RunProfile['target']; knobs: ProfileKnobs; users: number; tickets: number; settledUsers: number; makespanMs: number; variant?: string; repeat?: number },
): RunProfile {
  const throughput = o.makespanMs > 0 ? (o.settledUsers * 1_000) / o.makespanMs : 0;
  return {
    target: o.target,
    ...(o.variant === undefined ? {} : { variant: o.variant }),
    ...(o.repeat === undefined ? {} : { repeat: o.repeat }),
    knobs: o.knobs,
    concurrency: o.knobs.workers * o.knobs.maxInFlight,
    run: { users: o.users, tickets: o.tickets, settledUsers: o.settledUsers, makespanMs: o.makespanMs, throughputUsersPerSecond: Math.round(throughput * 1_000) / 1_000 },
    operations: recorder.operations(),
  };
}
