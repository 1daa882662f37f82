// Service times and concurrency limits on the virtual clock: the resources a target has (one
// event loop for the memory backend; one Spanner database per shard running
// `transactionsPerUnit` read-write transactions at a time on the emulators; a node's rated read
// and write rate on Google Cloud), each operation's service time drawn from the cost model with
// its fitted spread, and group commit: store calls that wait for a busy shard commit together, as
// the Spanner store's ShardBatcher does (settlements up to settlementsPerCommit in the normal lane;
// post-settle marks in the background lane, which yields to the normal one for at most 8 s;
// notification appends in the normal lane), and read coalescing: the settled check's reads of one
// shard run at most two at a time, and those asked meanwhile share the next read, as the Spanner
// store's settlement-total reader does (a Batcher on a two-slot read gate). The decorators (service-decorators.ts) route every
// store and bus call through here, so the real pipeline runs with these times.
import type { Clock } from '../core/ports.ts';
import type { SeededRng } from '../core/rng.ts';
import type { CostModel, OperationName, PlanConfiguration } from './contracts.ts';
import { BATCH_LIMITS, LANE_LIMITS } from '../backends/google/spanner-batch.ts';
import { TOTALS_READS } from '../backends/google/spanner-checks.ts';
import { NOTIFICATION_BATCH } from '../backends/google/spanner-notifications.ts';
import { shardOf } from '../backends/google/spanner-rows.ts';
import { uslThroughput } from './fit.ts';

export type Sizes = Readonly<Record<string, number>>;

/** The Spanner store's group-commit and read-coalescing limits, taken from the store itself (spanner-batch.ts, spanner-notifications.ts, spanner-checks.ts). */
export const GROUP_COMMIT = {
  /** Post-settle marks per commit. */
  postSettleItemsMax: BATCH_LIMITS.itemsPerCommitMax,
  /** Notification append calls per commit. */
  notifyCallsMax: NOTIFICATION_BATCH.callsPerCommitMax,
  /** Longest a background waiter yields to normal ones. */
  backgroundWaitMaxMs: LANE_LIMITS.backgroundWaitMaxMs,
  /** Settlement-total reads of one shard in flight at once, and keys per read. */
  totalsReadsInFlight: TOTALS_READS.inFlight,
  totalsReadKeysMax: TOTALS_READS.keysMax,
} as const;

/** Mean service time of an operation of the given sizes, ms; 0 when the model does not price it. */
export function meanServiceMs(model: CostModel, op: OperationName, sizes: Sizes): number {
  const c = model.operations[op];
  if (c === undefined) return 0;
  let us = c.baseUs;
  for (const [k, per] of Object.entries(c.perUs)) us += per * (sizes[k] ?? 0);
  return Math.max(0, us) / 1000;
}

/** Cost terms a model prices that the virtual world never sizes (reported as warnings, not guessed). */
export function unsizedTerms(model: CostModel): string[] {
  const known: Readonly<Record<string, readonly string[]>> = {
    'settle.commit': ['users', 'tickets'],
    'postSettle.commit': ['users', 'writes'],
    'notify.append': ['notifications', 'users'],
    'fanout.page': ['users'],
    'publish.batch': ['messages'],
    'deliver.message': ['messages'],
    'ingest.result': ['tickets'],
    'ranking.claim': ['users'],
    'settled.check': ['users'],
    'gateway.message': ['messages'],
  };
  const out: string[] = [];
  for (const [op, c] of Object.entries(model.operations)) {
    for (const k of Object.keys(c?.perUs ?? {})) if (!(known[op] ?? []).includes(k)) out.push(`${op}.${k}`);
  }
  return out;
}

/**
 * The operations every virtual run performs (all but the gateway's, which a model prices only when
 * the gateway runs in the pipeline's process). One a model lacks costs nothing in the prediction:
 * a calibration made before the pipeline had it (settled.check came with the settled-message
 * check) still loads, and the plan says so (unpricedOperations) rather than pricing it silently at 0.
 */
export const PIPELINE_OPERATIONS: readonly OperationName[] = ['settle.commit', 'postSettle.commit', 'notify.append', 'fanout.page', 'publish.batch', 'deliver.message', 'ingest.result', 'ranking.claim', 'settled.check'];

/** The pipeline's operations the model does not price (each costs 0 in its predictions). */
export function unpricedOperations(model: CostModel): OperationName[] {
  return PIPELINE_OPERATIONS.filter((op) => model.operations[op] === undefined);
}

/**
 * A service time around `meanMs` with coefficient of variation `cv`: lognormal (positive, right
 * skewed like measured transaction times), drawn from the seeded rng so a seed replays it.
 */
export function drawMs(meanMs: number, cv: number, rng: SeededRng): number {
  if (meanMs <= 0) return 0;
  if (!(cv > 0)) return meanMs;
  const s2 = Math.log(1 + cv * cv);
  const u1 = 1 - rng.float(); // (0, 1]
  const u2 = rng.float();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return meanMs * Math.exp(Math.sqrt(s2) * z - s2 / 2);
}

export type Lane = 'normal' | 'background';

/**
 * A resource of `capacity` slots on the virtual clock with two FIFO lanes (see GROUP_COMMIT), that
 * integrates its busy slot-time so utilisation can be read over any window.
 */
export class Server {
  readonly name: string;
  readonly capacity: number;
  readonly #clock: Clock;
  #held = 0;
  #integral = 0;
  #last = 0;
  readonly #normal: (() => void)[] = [];
  readonly #background: { grant: () => void; sinceMs: number }[] = [];
  readonly busyByOp = new Map<string, number>();
  /** Where a held slot's work runs when it is shared with other servers (the emulator process); else it takes its own time. */
  readonly #process: SharedProcess | undefined;

  constructor(name: string, capacity: number, clock: Clock, process?: SharedProcess) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`invariant violated: ${name} needs a capacity >= 1, got ${capacity}`);
    this.name = name;
    this.capacity = capacity;
    this.#clock = clock;
    this.#last = clock.nowMs();
    this.#process = process;
  }

  #advance(): void {
    const t = this.#clock.nowMs();
    this.#integral += this.#held * (t - this.#last);
    this.#last = t;
  }

  acquire(lane: Lane = 'normal'): Promise<void> {
    if (this.#held < this.capacity) {
      this.#advance();
      this.#held++;
      return Promise.resolve();
    }
    return new Promise<void>((grant) => {
      if (lane === 'normal') this.#normal.push(grant);
      else this.#background.push({ grant, sinceMs: this.#clock.nowMs() });
    });
  }

  release(): void {
    const oldest = this.#background[0];
    const backgroundDue = oldest !== undefined && (this.#normal.length === 0 || this.#clock.nowMs() - oldest.sinceMs >= GROUP_COMMIT.backgroundWaitMaxMs);
    const next = backgroundDue ? this.#background.shift()?.grant : this.#normal.shift();
    if (next !== undefined) next(); // the slot passes straight on: still held
    else {
      this.#advance();
      this.#held--;
    }
  }

  /** Holds one slot for `ms` of virtual time, charged to `op`. */
  async hold(ms: number, op: string, lane: Lane = 'normal'): Promise<void> {
    await this.acquire(lane);
    try {
      await this.busy(ms, op);
    } finally {
      this.release();
    }
  }

  /** Inside a held slot: spends `ms` on `op`. */
  async busy(ms: number, op: string): Promise<void> {
    this.busyByOp.set(op, (this.busyByOp.get(op) ?? 0) + ms);
    if (ms <= 0) return;
    if (this.#process !== undefined) await this.#process.run(ms, op);
    else await this.#clock.sleep(ms);
  }

  /** Busy slot-ms so far divided by capacity: its difference over a window / the window = utilisation. */
  busyMs(): number {
    this.#advance();
    return this.#integral / this.capacity;
  }
}

/**
 * A processor-sharing resource: `capacity` units of work per ms shared equally by the jobs in
 * progress, none faster than one unit per ms. Each emulator shard database runs one transaction
 * at a time, but every shard lives in ONE emulator process on the machine's cores: with k shards
 * busy and capacity c < k, each transaction advances at c / k of its own speed (the measured
 * shard scaling on this machine was flat: c about 1). A job's `ms` is its service time alone.
 */
export class SharedProcess {
  readonly name: string;
  readonly capacity: number;
  readonly #clock: Clock;
  readonly #jobs: { remaining: number; done: () => void }[] = [];
  #last: number;
  #generation = 0;
  #integral = 0;
  readonly busyByOp = new Map<string, number>();

  constructor(name: string, capacity: number, clock: Clock) {
    if (!(capacity > 0) || !Number.isFinite(capacity)) throw new Error(`invariant violated: ${name} needs a capacity > 0, got ${capacity}`);
    this.name = name;
    this.capacity = capacity;
    this.#clock = clock;
    this.#last = clock.nowMs();
  }

  /** Progress per ms of each job in progress. */
  #rate(): number {
    return Math.min(1, this.capacity / Math.max(1, this.#jobs.length));
  }

  #advance(): void {
    const t = this.#clock.nowMs();
    const dt = t - this.#last;
    if (dt > 0 && this.#jobs.length > 0) {
      const r = this.#rate();
      for (const j of this.#jobs) j.remaining -= dt * r;
      this.#integral += (dt * Math.min(this.#jobs.length, this.capacity)) / this.capacity;
    }
    this.#last = t;
  }

  /** Finishes the jobs that are done and sets a timer for the next one to finish (older timers go stale). */
  #settle(): void {
    const eps = 1e-6; // ms: a nanosecond of float error is not work left
    for (let i = this.#jobs.length - 1; i >= 0; i--) {
      const j = this.#jobs[i] as { remaining: number; done: () => void };
      if (j.remaining <= eps) {
        this.#jobs.splice(i, 1);
        j.done();
      }
    }
    const generation = ++this.#generation;
    if (this.#jobs.length === 0) return;
    const next = Math.min(...this.#jobs.map((j) => j.remaining)) / this.#rate();
    void this.#clock.sleep(next).then(() => {
      if (generation !== this.#generation) return;
      this.#advance();
      this.#settle();
    });
  }

  /** Runs `ms` of service (charged to `op`), sharing the process with every job in progress. */
  run(ms: number, op: string): Promise<void> {
    this.busyByOp.set(op, (this.busyByOp.get(op) ?? 0) + ms);
    if (!(ms > 0)) return Promise.resolve();
    this.#advance();
    return new Promise<void>((done) => {
      this.#jobs.push({ remaining: ms, done });
      this.#settle();
    });
  }

  /** Busy ms so far (work in progress over capacity): as Server.busyMs. */
  busyMs(): number {
    this.#advance();
    return this.#integral;
  }
}

/** What the utilisation figures read: a Server or the shared process. */
export interface Resource {
  readonly name: string;
  readonly busyByOp: ReadonlyMap<string, number>;
  busyMs(): number;
}

interface Waiting {
  readonly sizes: Sizes;
  readonly apply: () => Promise<unknown>;
  readonly resolve: (r: unknown) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Group commit on a server, like the Spanner store's ShardBatcher: one slot request at a time;
 * everything waiting when the slot is granted (up to `max`) commits in one transaction whose
 * service time is the operation's at the summed sizes. The real writes run at the commit's end.
 * The same for coalesced reads (the settled check): `serve`, when given, spends the batch's time
 * instead of the server's own (Google: a rate server's rows, then the read's latency).
 */
export class Batcher {
  readonly #pending: Waiting[] = [];
  #scheduled = false;
  readonly batchSizes: number[] = [];
  readonly #server: Server;
  readonly #op: OperationName;
  readonly #max: number;
  readonly #lane: Lane;
  readonly #serviceMs: (op: OperationName, sizes: Sizes) => number;
  readonly #serve: ((op: OperationName, sizes: Sizes) => Promise<void>) | undefined;

  constructor(server: Server, op: OperationName, max: number, lane: Lane, serviceMs: (op: OperationName, sizes: Sizes) => number, serve?: (op: OperationName, sizes: Sizes) => Promise<void>) {
    this.#server = server;
    this.#op = op;
    this.#max = max;
    this.#lane = lane;
    this.#serviceMs = serviceMs;
    this.#serve = serve;
  }

  add<R>(sizes: Sizes, apply: () => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#pending.push({ sizes, apply, resolve: resolve as (r: unknown) => void, reject });
      if (!this.#scheduled) this.#schedule();
    });
  }

  #schedule(): void {
    this.#scheduled = true;
    void this.#server.acquire(this.#lane).then(async () => {
      const batch = this.#pending.splice(0, this.#max);
      this.#scheduled = false;
      if (this.#pending.length > 0) this.#schedule();
      this.batchSizes.push(batch.length);
      const sizes: Record<string, number> = {};
      for (const w of batch) for (const [k, v] of Object.entries(w.sizes)) sizes[k] = (sizes[k] ?? 0) + v;
      try {
        if (this.#serve === undefined) await this.#server.busy(this.#serviceMs(this.#op, sizes), this.#op);
        else await this.#serve(this.#op, sizes);
        for (const w of batch) {
          try {
            w.resolve(await w.apply());
          } catch (e) {
            w.reject(e);
          }
        }
      } finally {
        this.#server.release();
      }
    });
  }
}

/** The store transactions the pipeline makes, priced by the cost model. */
export type TxKind = 'settle' | 'postSettle' | 'day' | 'notify';
const TX_KINDS: readonly TxKind[] = ['settle', 'postSettle', 'day', 'notify'];
/** Post-settle's two writes (the marker; the day progress with its bonuses) are separate group commits on Spanner, both priced as postSettle.commit. */
const TX_OP: Readonly<Record<TxKind, OperationName>> = { settle: 'settle.commit', postSettle: 'postSettle.commit', day: 'postSettle.commit', notify: 'notify.append' };

/** The resources of a target, and how each kind of work uses them. */
export interface Resources {
  /** A store transaction of the user's shard: waits for its slot (group-committed), takes its time, then applies the real write. */
  transact<R>(kind: TxKind, userId: string, sizes: Sizes, apply: () => Promise<R>): Promise<R>;
  /** Work outside the database's transaction slots (publish, delivery, reads): its time, on the CPU where the target has one. */
  work(op: OperationName, sizes: Sizes): Promise<void>;
  /** A read against the database (fan-out pages, the ranking's read): a rate on Google, a delay elsewhere. */
  read(op: OperationName, sizes: Sizes, rows: number): Promise<void>;
  /**
   * The settled check's read of one user's stored totals (settled.check), answered by `apply`:
   * on the Spanner store's targets at most two reads per shard at a time, the calls asked meanwhile
   * sharing the next read (checkReaders); on memory one read each.
   */
  checkSettled<R>(userId: string, apply: () => Promise<R>): Promise<R>;
  /** Rows per settled-check read so far (1 each on memory). */
  checkReadSizes(): readonly number[];
  /** The gateway's per-frame cost on its instances. */
  gateway(): Promise<void>;
  readonly servers: readonly Resource[];
  readonly clock: Clock;
  /** Users per commit of every settlement transaction so far. */
  settleBatchSizes(): readonly number[];
  /** The model's fixed start-up time, spent once before the fan-out's first read (later calls: none). */
  startup(): Promise<void>;
}

export interface ResourceOptions {
  readonly model: CostModel;
  readonly configuration: PlanConfiguration;
  readonly clock: Clock;
  readonly rng: SeededRng;
}

/** Drawn service time of an operation (the model's mean, its cv). */
export function serviceDraw(model: CostModel, rng: SeededRng): (op: OperationName, sizes: Sizes) => number {
  return (op, sizes) => drawMs(meanServiceMs(model, op, sizes), model.operations[op]?.cv ?? 0, rng);
}

/** A delay on the clock; none at all (not even a timer) for an operation the model does not price. */
function delay(clock: Clock, ms: number): Promise<void> {
  return ms > 0 ? clock.sleep(ms) : Promise.resolve();
}

function gatewayServer(o: ResourceOptions): Server | undefined {
  return o.model.operations['gateway.message'] === undefined ? undefined : new Server('gateway', Math.max(1, o.configuration.gatewayInstances), o.clock);
}

/** memory: one event loop runs everything, one operation at a time; the memory store has no group commit. */
function memoryResources(o: ResourceOptions): Omit<Resources, 'startup'> {
  const draw = serviceDraw(o.model, o.rng);
  const cpu = new Server('cpu', 1, o.clock);
  const batchers = new Map<TxKind, Batcher>();
  for (const k of TX_KINDS) batchers.set(k, new Batcher(cpu, TX_OP[k], 1, 'normal', draw));
  const gw = gatewayServer(o);
  const checks: number[] = [];
  return {
    transact: (kind, _userId, sizes, apply) => (batchers.get(kind) as Batcher).add(sizes, apply),
    work: (op, sizes) => cpu.hold(draw(op, sizes), op),
    read: (op, sizes) => cpu.hold(draw(op, sizes), op),
    // The memory store reads each call alone: no coalescing.
    async checkSettled(_userId, apply) {
      checks.push(1);
      await cpu.hold(draw('settled.check', { users: 1 }), 'settled.check');
      return apply();
    },
    checkReadSizes: () => checks,
    gateway: () => (gw === undefined ? Promise.resolve() : gw.hold(draw('gateway.message', { messages: 1 }), 'gateway.message')),
    servers: gw === undefined ? [cpu] : [cpu, gw],
    clock: o.clock,
    settleBatchSizes: () => (batchers.get('settle') as Batcher).batchSizes,
  };
}

/** The USL over shard counts a calibration fits (calibration.ts SHARD_USL_LABELS). */
const SHARD_CONCURRENCY = 'spanner shards';

/**
 * Transactions the one emulator process runs at full speed at once, with `shards` databases busy:
 * the model's fitted processCapacity when it has one, else the measured shard scaling
 * X(shards) / X(1) of its shard USL, between 1 and `shards`.
 * Without a shard USL: 1, what this machine measured (1 to 6 shards settled at the same rate).
 */
export function emulatorProcessCapacity(model: CostModel, shards: number): number {
  const fitted = model.parallelism.processCapacity;
  if (fitted !== undefined) return Math.min(Math.max(1, shards), Math.max(1, fitted));
  const fit = model.usl.find((u) => u.concurrency === SHARD_CONCURRENCY);
  if (fit === undefined || shards <= 1) return 1;
  const ratio = uslThroughput(fit, shards) / uslThroughput(fit, 1);
  return Math.min(shards, Math.max(1, Number.isFinite(ratio) ? ratio : 1));
}

/**
 * emulators: each shard database runs transactionsPerUnit read-write transactions at a time;
 * users are sharded as the Spanner store shards them; and every database (and every read) runs
 * in the one emulator process, which shares its capacity between the shards' transactions in
 * progress (SharedProcess). With no more shards than that capacity it never slows anything and
 * is left out.
 */
function emulatorResources(o: ResourceOptions): Omit<Resources, 'startup'> {
  const draw = serviceDraw(o.model, o.rng);
  const shards = Math.max(1, o.configuration.spannerShards);
  const per = Math.max(1, o.model.parallelism.transactionsPerUnit);
  const capacity = emulatorProcessCapacity(o.model, shards);
  const proc = shards * per > capacity ? new SharedProcess('emulator', capacity, o.clock) : undefined;
  const servers = Array.from({ length: shards }, (_, i) => new Server(`db:s${i}`, per, o.clock, proc));
  const limits: Readonly<Record<TxKind, { max: number; lane: Lane }>> = {
    settle: { max: Math.max(1, o.configuration.settlementsPerCommit), lane: 'normal' },
    postSettle: { max: GROUP_COMMIT.postSettleItemsMax, lane: 'background' },
    day: { max: GROUP_COMMIT.postSettleItemsMax, lane: 'background' },
    notify: { max: GROUP_COMMIT.notifyCallsMax, lane: 'normal' },
  };
  const batchers = servers.map((s) => {
    const m = new Map<TxKind, Batcher>();
    for (const k of TX_KINDS) m.set(k, new Batcher(s, TX_OP[k], limits[k].max, limits[k].lane, draw));
    return m;
  });
  const gw = gatewayServer(o);
  const read = (op: OperationName, sizes: Sizes): Promise<void> => (proc === undefined ? delay(o.clock, draw(op, sizes)) : proc.run(draw(op, sizes), op));
  // A read holds a slot of its shard's read gate (not the database's transaction slot), and its
  // time is a wait, not the emulator process's work: measured, a read took 23 ms + 0.11 ms a row
  // at about 120 reads a second on one shard, which as work would be 2.7 cores on a 2-core machine
  // that also ran the transactions; on the process, the calibration runs over 2 to 6 shards
  // scattered 50% around the model (as a wait: 21%).
  const checks = checkReaders(shards, o.clock, draw);
  return {
    transact: (kind, userId, sizes, apply) => ((batchers[shardOf(userId, shards)] as Map<TxKind, Batcher>).get(kind) as Batcher).add(sizes, apply),
    work: (op, sizes) => delay(o.clock, draw(op, sizes)),
    read,
    checkSettled: (userId, apply) => (checks[shardOf(userId, shards)] as Batcher).add({ users: 1 }, apply),
    checkReadSizes: () => checks.flatMap((b) => b.batchSizes),
    gateway: () => (gw === undefined ? Promise.resolve() : gw.hold(draw('gateway.message', { messages: 1 }), 'gateway.message')),
    servers: [...servers, ...(proc === undefined ? [] : [proc]), ...(gw === undefined ? [] : [gw])],
    clock: o.clock,
    settleBatchSizes: () => batchers.flatMap((m) => (m.get('settle') as Batcher).batchSizes),
  };
}

/**
 * The Spanner store's settlement-total readers, one per shard: a gate of
 * GROUP_COMMIT.totalsReadsInFlight reads at a time, the calls asked while it is full sharing the
 * next read (up to totalsReadKeysMax keys), priced as settled.check at the read's row count. Their
 * gates are not among the reported resources: a read waits for a slot of its own shard's gate;
 * on Google its rows also go on the node read rate (`serve`).
 */
function checkReaders(shards: number, clock: Clock, draw: (op: OperationName, sizes: Sizes) => number, serve?: (op: OperationName, sizes: Sizes) => Promise<void>): Batcher[] {
  return Array.from({ length: shards }, (_, i) => new Batcher(new Server(`reads:s${i}`, GROUP_COMMIT.totalsReadsInFlight, clock), 'settled.check', GROUP_COMMIT.totalsReadKeysMax, 'normal', draw, serve));
}

/** Rows a transaction writes on Spanner, the unit of a node's rated write rate (docs/capacity-prediction.md). */
export function writeRows(kind: TxKind, sizes: Sizes): number {
  if (kind === 'settle') return (sizes['tickets'] ?? 0) + 2 * (sizes['users'] ?? 0); // outcomes, ledger and balance, marker
  if (kind === 'notify') return sizes['notifications'] ?? 0;
  return sizes['writes'] ?? sizes['users'] ?? 0;
}

/**
 * google: Spanner runs transactions concurrently; what bounds it is a node's rated write and read
 * rate, of which the planner may use maxCpuShare. Each is a server whose service time is the rows
 * over the usable rate; the transaction's own latency (the cost model) follows, holding nothing.
 */
function googleResources(o: ResourceOptions): Omit<Resources, 'startup'> {
  const draw = serviceDraw(o.model, o.rng);
  const p = o.model.parallelism;
  if (p.writesPerSecondPerNode === undefined || p.readsPerSecondPerNode === undefined) {
    throw new Error('PLAN.MODEL_INCOMPLETE: a google cost model needs parallelism.writesPerSecondPerNode and readsPerSecondPerNode');
  }
  const nodes = Math.max(1, o.configuration.spannerNodes ?? 1);
  const share = p.maxCpuShare ?? 1;
  const writesPerMs = (nodes * p.writesPerSecondPerNode * share) / 1000;
  const readsPerMs = (nodes * p.readsPerSecondPerNode * share) / 1000;
  const writes = new Server('spanner.writes', 1, o.clock);
  const reads = new Server('spanner.reads', 1, o.clock);
  const settleSizes: number[] = [];
  const gw = gatewayServer(o);
  const read = async (op: OperationName, sizes: Sizes, rows: number): Promise<void> => {
    await reads.hold(rows / readsPerMs, op);
    await delay(o.clock, draw(op, sizes));
  };
  // One database on Google: its reads' rows on the node rate, then the read's latency, while holding a gate slot.
  const [checks] = checkReaders(1, o.clock, draw, (op, sizes) => read(op, sizes, sizes['users'] ?? 0));
  return {
    async transact(kind, _userId, sizes, apply) {
      if (kind === 'settle') {
        settleSizes.push(sizes['users'] ?? 1);
        await reads.hold((sizes['tickets'] ?? 0) / readsPerMs, 'settle.commit');
      }
      await writes.hold(writeRows(kind, sizes) / writesPerMs, TX_OP[kind]);
      await delay(o.clock, draw(TX_OP[kind], sizes));
      return apply();
    },
    work: (op, sizes) => delay(o.clock, draw(op, sizes)),
    read,
    checkSettled: (_userId, apply) => (checks as Batcher).add({ users: 1 }, apply),
    checkReadSizes: () => (checks as Batcher).batchSizes,
    gateway: () => (gw === undefined ? Promise.resolve() : gw.hold(draw('gateway.message', { messages: 1 }), 'gateway.message')),
    servers: gw === undefined ? [writes, reads] : [writes, reads, gw],
    clock: o.clock,
    settleBatchSizes: () => settleSizes,
  };
}

export function createResources(o: ResourceOptions): Resources {
  const r: Omit<Resources, 'startup'> = o.model.target === 'memory' ? memoryResources(o) : o.model.target === 'emulators' ? emulatorResources(o) : googleResources(o);
  let started = false;
  const startup = (): Promise<void> => {
    if (started) return Promise.resolve();
    started = true;
    return delay(o.clock, o.model.startupMs ?? 0);
  };
  return { ...r, startup };
}
