// The closed-form cross-check: the same resources as the virtual-time model (service-times.ts),
// priced per user from the cost model, without running anything. Every user of the race is
// "published" at once, so the race is a batch that flows through the pipeline at the rate of its
// slowest resource:
//   capacity of each resource (users/s) = its servers / its demand per user (utilisation law);
//   the bottleneck is the resource of least capacity X; it runs at utilisation 1, the others at
//   X x demand / servers;
//   makespan = pipeline fill (the first user's trip: count and first page, the settle request's
//   publish and delivery, its commit) + users / X;
//   flow-control slots hold users for their residence time R, so a stage of N slots passes at
//   most N / R users per second (Little's law), R the unqueued trip through it;
//   downstream of the bottleneck, arrivals come at X and each non-saturated server adds its M/M/c
//   queueing wait (Erlang C) to the notification's path;
//   the user at quantile q of the race waits q x users / X_notify before its notification.
// Assumptions (where the virtual model and this one disagree): exponential service and Poisson
// arrivals downstream of the bottleneck (service is lognormal and arrivals come in commits), a
// group-commit batch of min(settlementsPerCommit, two thirds of the settle requests in flight per shard),
// and post-settle on the emulators deferred behind settlements (one batch per 8 s while they
// queue), all steady state: a race of a few hundred users is mostly fill and drain.
import { shardOf } from '../backends/google/spanner-rows.ts';
import { LIMITS } from '../pipeline/settings.ts';
import type { CostModel, OperationName, PlanConfiguration, Prediction, Predict, Workload } from './contracts.ts';
import { emulatorProcessCapacity, GROUP_COMMIT, meanServiceMs, writeRows, type Sizes } from './service-times.ts';
import { syntheticUserId } from './synthetic-race.ts';
import { atConcurrency } from './cost-scale.ts';
import { extrapolationOf } from './extrapolation.ts';
import { variantsOf } from './virtual-run.ts';

/** Erlang C: probability that an arrival waits, c servers at offered load a = lambda x service (a < c). */
export function erlangC(c: number, a: number): number {
  if (a <= 0) return 0;
  if (a >= c) return 1;
  let term = 1;
  let sum = 1; // k = 0
  for (let k = 1; k < c; k++) {
    term = (term * a) / k;
    sum += term;
  }
  const last = ((term * a) / c) * (c / (c - a));
  return last / (sum + last);
}

/** M/M/c mean wait in queue, ms: C(c, a) x service / (c - a). */
export function mmcWaitMs(c: number, lambdaPerMs: number, serviceMs: number): number {
  const a = lambdaPerMs * serviceMs;
  if (a >= c) return Infinity;
  return (erlangC(c, a) * serviceMs) / (c - a);
}

/**
 * Share of the synthetic race's users holding a hit, who also write day progress in post-settle
 * (measured from the synthetic race: 10-13% at 1 to 10 tickets per user).
 */
const HIT_SHARE = 0.12;

const shardCounts = new Map<string, number[]>();
/** Users per shard under the Spanner store's hash: exact up to 200,000 users (cached), balanced beyond. */
export function usersPerShard(users: number, shards: number): number[] {
  if (shards <= 1) return [users];
  if (users > 200_000) return Array.from({ length: shards }, (_, i) => Math.floor(users / shards) + (i < users % shards ? 1 : 0));
  const key = `${users}/${shards}`;
  let counts = shardCounts.get(key);
  if (counts === undefined) {
    counts = new Array<number>(shards).fill(0);
    for (let i = 0; i < users; i++) (counts[shardOf(syntheticUserId(i), shards)] as number)++;
    shardCounts.set(key, counts);
  }
  return counts;
}

interface Capacity {
  readonly name: string;
  /** Users per ms it can pass. */
  readonly perMs: number;
}

interface Shape {
  readonly t: number;
  readonly upm: number;
  readonly settleSlots: number;
  readonly notifySlots: number;
  readonly batch: number;
  /** Emulators: items of a post-settle group commit while settlements run (see capacities). */
  readonly postBatch: number;
  readonly ms: (op: OperationName, sizes: Sizes) => number;
}

function shapeOf(model: CostModel, c: PlanConfiguration, w: Workload): Shape {
  const fanout = variantsOf(c).fanout;
  const upm = fanout.kind === 'user-batch' ? fanout.usersPerMessage : 1;
  const m = Math.max(1, c.maxInFlight);
  const settleSlots = (fanout.kind === 'single-worker' ? 1 : Math.max(1, c.settleWorkers)) * m * upm;
  const shards = model.target === 'emulators' ? Math.max(1, c.spannerShards) : 1;
  const perShardInFlight = fanout.kind === 'single-worker' ? 1 : settleSlots / shards;
  // A shard's settle requests in flight are mostly waiting for it: its normal lane alternates a
  // settlement commit and a notification commit, and the users of the last settlement batch are
  // back (a delivery is short against a commit) before the next one starts, so about two thirds of
  // them commit together. (Two thirds is what the virtual model shows for 4 to 64 in flight.)
  const batch = model.target === 'emulators' ? Math.max(1, Math.min(c.settlementsPerCommit, Math.round((2 * perShardInFlight) / 3))) : 1;
  const postBatch = Math.max(1, Math.min(GROUP_COMMIT.postSettleItemsMax, Math.ceil((Math.max(1, c.postSettleWorkers) * m) / shards)));
  return { t: w.tickets / w.users, upm, settleSlots, notifySlots: Math.max(1, c.notifyWorkers) * m, batch, postBatch, ms: (op, sizes) => meanServiceMs(model, op, sizes) };
}

/** The settle path's per-user trip without queueing: delivery, the commit of its batch, the `settled` publish. */
function settleTripMs(s: Shape): number {
  return s.ms('deliver.message', { messages: 1 }) + s.ms('settle.commit', { users: s.batch, tickets: s.batch * s.t }) + s.ms('publish.batch', { messages: s.upm });
}

/** The settled check: post-settle and notify each read the stored totals before acting (one read each; coalescing not counted, an upper bound). */
function checkMs(s: Shape): number {
  return s.ms('settled.check', { users: 1 });
}

function notifyTripMs(s: Shape): number {
  return 2 * s.ms('deliver.message', { messages: 1 }) + checkMs(s) + s.ms('notify.append', { notifications: 1, users: 1 }) + s.ms('publish.batch', { messages: 1 }) + s.ms('gateway.message', { messages: 1 });
}

function fanoutCapacity(s: Shape): Capacity {
  const page = LIMITS.fanoutPageUsers;
  const msgs = Math.ceil(page / s.upm);
  const cycle = s.ms('fanout.page', { users: page }) + s.ms('publish.batch', { messages: Math.min(msgs, LIMITS.publishBatchMessages) });
  return { name: 'fanout', perMs: cycle > 0 ? page / cycle : Infinity };
}

/** Resources the settlement path flows through, with their capacities, and the server demands for utilisation. */
function capacities(model: CostModel, c: PlanConfiguration, w: Workload, s: Shape): { settle: Capacity[]; notify: Capacity[]; demand: Map<string, number>; servers: Map<string, number> } {
  const demand = new Map<string, number>(); // ms of a server per user of the race
  const servers = new Map<string, number>();
  const settle: Capacity[] = [];
  const dSettle = s.ms('settle.commit', { users: s.batch, tickets: s.batch * s.t }) / s.batch;
  const nBatch = Math.min(GROUP_COMMIT.notifyCallsMax, s.batch);
  const dNotify = s.ms('notify.append', { notifications: nBatch, users: nBatch }) / nBatch;
  if (model.target === 'memory') {
    const deliveries = 3 + 1 / s.upm;
    const publishes = s.ms('publish.batch', { messages: LIMITS.publishBatchMessages }) / LIMITS.publishBatchMessages / s.upm + 2 * s.ms('publish.batch', { messages: 1 });
    const d = dSettle + (1 + HIT_SHARE) * s.ms('postSettle.commit', { users: 1, writes: 1 }) + dNotify + 2 * checkMs(s) + deliveries * s.ms('deliver.message', { messages: 1 }) + publishes + s.ms('fanout.page', { users: LIMITS.fanoutPageUsers }) / LIMITS.fanoutPageUsers;
    demand.set('cpu', d);
    servers.set('cpu', 1);
    settle.push({ name: 'cpu', perMs: 1 / d });
  } else if (model.target === 'emulators') {
    const per = Math.max(1, model.parallelism.transactionsPerUnit);
    const counts = usersPerShard(w.users, Math.max(1, c.spannerShards));
    // Post-settle waits behind settlements and takes one batch per backgroundWaitMaxMs meanwhile.
    // (Two background batchers, the markers and the day progress, each served once per wait bound.)
    // A batch holds what waits at the shard: at most post-settle's slots on it (each handler waits
    // on one write at a time), never more than a commit's item limit.
    const postShare = Math.min(1, (2 * s.ms('postSettle.commit', { users: s.postBatch, writes: s.postBatch })) / GROUP_COMMIT.backgroundWaitMaxMs);
    counts.forEach((n, i) => {
      const name = `db:s${i}`;
      const d = dSettle + dNotify;
      // The shard passes its own users; as a share of the race: users / (its users' demand).
      demand.set(name, (d * n) / w.users);
      servers.set(name, per);
      settle.push({ name, perMs: n === 0 ? Infinity : (((1 - postShare) * per) / (d * n)) * w.users });
    });
    // Every shard's transactions run in the one emulator process: with more shards than its
    // capacity (the measured shard scaling), it passes capacity / (a user's transactions) at most.
    const shards = Math.max(1, c.spannerShards);
    const proc = emulatorProcessCapacity(model, shards);
    if (shards * per > proc) {
      const d = dSettle + dNotify;
      demand.set('emulator', d);
      servers.set('emulator', proc);
      // Every shard's post-settle batches run on the process too: shards x the one shard's share.
      const procPostShare = Math.min(1, (shards * postShare) / proc);
      settle.push({ name: 'emulator', perMs: ((1 - procPostShare) * proc) / d });
    }
    settle.push(fanoutCapacity(s));
  } else {
    const p = model.parallelism;
    if (p.writesPerSecondPerNode === undefined || p.readsPerSecondPerNode === undefined) throw new Error('PLAN.MODEL_INCOMPLETE: a google cost model needs parallelism.writesPerSecondPerNode and readsPerSecondPerNode');
    const nodes = Math.max(1, c.spannerNodes ?? 1);
    const share = p.maxCpuShare ?? 1;
    const rows = writeRows('settle', { users: 1, tickets: s.t }) + (1 + HIT_SHARE) * writeRows('postSettle', { writes: 1 }) + writeRows('notify', { notifications: 1 });
    const readRows = s.t + 4; // tickets, balance, fan-out share, the two settled checks' totals
    demand.set('spanner.writes', rows / ((nodes * p.writesPerSecondPerNode * share) / 1000));
    demand.set('spanner.reads', readRows / ((nodes * p.readsPerSecondPerNode * share) / 1000));
    servers.set('spanner.writes', 1);
    servers.set('spanner.reads', 1);
    settle.push({ name: 'spanner.writes', perMs: 1 / (demand.get('spanner.writes') as number) }, { name: 'spanner.reads', perMs: 1 / (demand.get('spanner.reads') as number) });
    settle.push(fanoutCapacity(s));
  }
  settle.push({ name: 'settle.slots', perMs: s.settleSlots / settleTripMs(s) });
  // The notify slots' capacity depends on the wait at a shared saturated database: closedForm adds it.
  const notify: Capacity[] = [];
  const dGateway = s.ms('gateway.message', { messages: 1 });
  if (model.operations['gateway.message'] !== undefined) {
    const g = Math.max(1, c.gatewayInstances);
    demand.set('gateway', dGateway);
    servers.set('gateway', g);
    notify.push({ name: 'gateway', perMs: g / dGateway });
  }
  return { settle, notify, demand, servers };
}

/** An emulator shard database, or the emulator process they all run in. */
function isDatabase(name: string): boolean {
  return name.startsWith('db:') || name === 'emulator';
}

function least(cs: readonly Capacity[]): Capacity {
  return cs.reduce((a, b) => (b.perMs < a.perMs ? b : a));
}

/** Predicts a configuration in closed form (microseconds of arithmetic); see the header for the model. */
export const predictClosedForm: Predict = async (model, configuration, workload) => closedForm(model, configuration, workload);

export function closedForm(given: CostModel, configuration: PlanConfiguration, workload: Workload): Prediction {
  const model = atConcurrency(given, configuration);
  if (!Number.isSafeInteger(workload.users) || workload.users < 1) throw new Error(`PLAN.INPUT_INVALID: workload.users must be a positive integer, got ${workload.users}`);
  if (!Number.isSafeInteger(workload.tickets) || workload.tickets < workload.users) throw new Error(`PLAN.INPUT_INVALID: workload.tickets must be an integer >= users, got ${workload.tickets}`);
  const s = shapeOf(model, configuration, workload);
  const { settle, notify, demand, servers } = capacities(model, configuration, workload, s);
  const bound = least(settle);
  const shared = sharedWaitMs(model, configuration, s, bound.name);
  const x = settlementShare(model, configuration, s, bound, settle, shared);
  const notifyBound = least([bound, ...notify, { name: 'notify.slots', perMs: s.notifySlots / (notifyTripMs(s) + shared) }]);
  const xn = notifyBound.perMs;
  const fill =
    (model.startupMs ?? 0) +
    Math.max(s.ms('fanout.page', { users: 0 }), s.ms('fanout.page', { users: Math.min(workload.users, LIMITS.fanoutPageUsers) })) +
    s.ms('publish.batch', { messages: Math.min(LIMITS.publishBatchMessages, Math.ceil(Math.min(workload.users, LIMITS.fanoutPageUsers) / s.upm)) }) +
    settleTripMs(s) -
    s.ms('publish.batch', { messages: s.upm });
  // Downstream of the settlement, queueing waits at the servers that are not saturated.
  let waits = 0;
  const shardWaits: number[] = [];
  const utilisation: Record<string, number> = {};
  for (const [name, d] of demand) {
    const c = servers.get(name) as number;
    // The gateway passes notifications (at xn); every other server passes the settlement path (at x).
    utilisation[name] = round3(Math.min(1, ((name === 'gateway' ? xn : x) * d) / c));
    if (name === bound.name || name === notifyBound.name) continue;
    const wait = Math.min(mmcWaitMs(c, xn, d * 1), 60_000);
    // A notification passes its own user's shard only: one shard's wait, not every shard's. When a
    // shard is the bottleneck the shards are all about as busy and that wait is `shared` already.
    if (name.startsWith('db:')) shardWaits.push(wait);
    else waits += wait;
  }
  if (!bound.name.startsWith('db:') && shardWaits.length > 0) waits += shardWaits.reduce((a, b) => a + b, 0) / shardWaits.length;
  const settleFed = ['cpu', 'spanner.writes', 'spanner.reads', 'settle.slots'].includes(bound.name) || isDatabase(bound.name);
  utilisation['fanout'] = round3(Math.min(1, x / fanoutCapacity(s).perMs));
  utilisation['settle.slots'] = settleFed && workload.users > s.settleSlots ? 1 : round3(Math.min(1, (x * settleTripMs(s)) / s.settleSlots));
  utilisation['notify.slots'] = round3(Math.min(1, (xn * (notifyTripMs(s) + shared)) / s.notifySlots));
  utilisation['postSettle.slots'] = postSlotsUtilisation(configuration, s, bound.name, xn, shared);
  const makespan = fill + workload.users / x;
  const trip = notifyTripMs(s) + s.ms('publish.batch', { messages: s.upm }) + waits;
  // After the settlements end, the notifications share the database only with post-settle's backlog.
  const xnAfter = least([...notify, { name: 'notify.slots', perMs: s.notifySlots / (notifyTripMs(s) + drainWaitMs(model, configuration, s, bound.name)) }]).perMs;
  const { notifyMakespan, lat } = notifyPath(workload.users, { fill, makespan, trip, shared, x, xn, xnAfter });
  const widen = meanUncertaintyOf(model, bound.name);
  const { extrapolation, warnings } = extrapolationOf(model, workload);
  return {
    configuration,
    workload,
    makespanMs: { p50: round1(makespan), low: round1(makespan * (1 - widen)), high: round1(makespan * (1 + widen)) },
    notifyMakespanMs: { p50: round1(notifyMakespan), low: round1(notifyMakespan * (1 - widen)), high: round1(notifyMakespan * (1 + widen)) },
    notifyLatencyMs: { p50: round1(lat(0.5)), p99: round1(lat(0.99)), p99High: round1(lat(0.99) * (1 + widen)) },
    throughputUsersPerSecond: round1((workload.users / makespan) * 1000),
    bottleneck: bound.name,
    utilisation,
    method: 'closed-form',
    extrapolation,
    warnings: [...warnings],
  };
}

/**
 * On Google the write rate is shared FIFO: while settlements saturate it, notify and post-settle
 * writes pass only as fast as their slots turn over behind the queue (slots / (trip + wait)), and
 * the settlements take the rest of the rate, more than their share of a user's rows; the
 * notifications left behind drain after them (notifyPath).
 */
function settlementShare(model: CostModel, c: PlanConfiguration, s: Shape, bound: Capacity, settle: readonly Capacity[], shared: number): number {
  if (bound.name !== 'spanner.writes') return bound.perMs;
  const p = model.parallelism;
  const rate = (Math.max(1, c.spannerNodes ?? 1) * (p.writesPerSecondPerNode ?? 1) * (p.maxCpuShare ?? 1)) / 1000;
  const notifyRate = s.notifySlots / (notifyTripMs(s) + shared);
  const postSlots = Math.max(1, c.postSettleWorkers) * Math.max(1, c.maxInFlight);
  const postRate = postSlots / (s.ms('deliver.message', { messages: 1 }) + checkMs(s) + (1 + HIT_SHARE) * s.ms('postSettle.commit', { users: 1, writes: 1 }) + shared);
  const own = (rate - notifyRate - postRate * (1 + HIT_SHARE)) / writeRows('settle', { users: 1, tickets: s.t });
  const others = settle.filter((k) => k.name !== bound.name);
  return Math.max(bound.perMs, Math.min(own, ...others.map((k) => k.perMs)));
}

/** On Google, once settlements end: the FIFO write queue holds the post-settle and notify slots' writes. */
function drainWaitMs(model: CostModel, c: PlanConfiguration, s: Shape, bound: string): number {
  return bound === 'spanner.writes' ? fifoWaitMs(model, c, s, false) : 0;
}

/**
 * The wait in Google's FIFO write queue, found as a fixed point: each stage's slots cycle through
 * the time they spend elsewhere (delivery, the transaction's own latency, reads, publish) and the
 * wait, so a share wait / (wait + elsewhere) of them is queued; the wait is the queued rows over
 * the usable write rate. Zero when the rate keeps up with them all.
 */
function fifoWaitMs(model: CostModel, c: PlanConfiguration, s: Shape, settling: boolean): number {
  const p = model.parallelism;
  const rate = (Math.max(1, c.spannerNodes ?? 1) * (p.writesPerSecondPerNode ?? 1) * (p.maxCpuShare ?? 1)) / 1000;
  const readRate = (Math.max(1, c.spannerNodes ?? 1) * (p.readsPerSecondPerNode ?? 1) * (p.maxCpuShare ?? 1)) / 1000;
  const deliver = s.ms('deliver.message', { messages: 1 });
  const classes = [
    { slots: s.notifySlots, rows: 1, elsewhere: notifyTripMs(s) },
    { slots: Math.max(1, c.postSettleWorkers) * Math.max(1, c.maxInFlight), rows: 1 + HIT_SHARE, elsewhere: deliver + checkMs(s) + (1 + HIT_SHARE) * s.ms('postSettle.commit', { users: 1, writes: 1 }) },
  ];
  if (settling) classes.push({ slots: s.settleSlots, rows: writeRows('settle', { users: 1, tickets: s.t }), elsewhere: settleTripMs(s) + s.t / readRate });
  let wait = classes.reduce((a, k) => a + k.slots * k.rows, 0) / rate;
  for (let i = 0; i < 100; i++) wait = classes.reduce((a, k) => a + (k.slots * k.rows * wait) / (wait + k.elsewhere + k.rows / rate), 0) / rate;
  return wait;
}

interface NotifyRates {
  readonly fill: number;
  readonly makespan: number;
  /** A notification's trip without waiting at a shared database; `shared` is that wait. */
  readonly trip: number;
  readonly shared: number;
  /** Settlements per ms; notifications per ms while settlements run, and after they end. */
  readonly x: number;
  readonly xn: number;
  readonly xnAfter: number;
}

/**
 * When notify keeps up with the settlements (90% of their rate or more), the user at quantile q
 * is notified after fill + trip + q U / xn. When it lags (its appends wait behind settlements at a
 * shared database), it shows xn per ms until the settlements end, then drains the backlog at
 * xnAfter, the rate it has once the database is its own.
 */
function notifyPath(users: number, r: NotifyRates): { notifyMakespan: number; lat: (q: number) => number } {
  const during = r.fill + r.trip + r.shared;
  if (r.xn >= 0.9 * r.x) return { notifyMakespan: during + users / r.xn, lat: (q) => during + (q * users) / r.xn };
  const shownBy = Math.min(users, r.xn * (r.makespan - r.fill));
  const after = r.makespan + r.trip;
  const at = (k: number): number => (k <= shownBy ? during + k / r.xn : after + (k - shownBy) / r.xnAfter);
  return { notifyMakespan: at(users), lat: (q) => at(q * users) };
}

/**
 * How long a notification's append waits at a saturated database it shares with the settlements:
 * on the emulators about one settlement commit (the rest of the one in progress, then its turn in
 * the normal lane, which alternates the notification and settlement batchers: each queues one
 * request at a time); on Google every transaction queues FIFO at the write rate (fifoWaitMs).
 */
function sharedWaitMs(model: CostModel, c: PlanConfiguration, s: Shape, bound: string): number {
  if (isDatabase(bound)) return s.ms('settle.commit', { users: s.batch, tickets: s.batch * s.t });
  return bound === 'spanner.writes' ? fifoWaitMs(model, c, s, true) : 0;
}

/** Post-settle slots: full while their writes wait behind saturated settlements (the background lane, or the FIFO write rate). */
function postSlotsUtilisation(c: PlanConfiguration, s: Shape, bound: string, x: number, shared: number): number {
  if (isDatabase(bound) || bound === 'spanner.writes') return 1;
  const slots = Math.max(1, c.postSettleWorkers) * Math.max(1, c.maxInFlight);
  const trip = s.ms('deliver.message', { messages: 1 }) + checkMs(s) + (1 + HIT_SHARE) * s.ms('postSettle.commit', { users: 1, writes: 1 }) + shared;
  return round3(Math.min(1, (x * trip) / slots));
}

const RESOURCE_OP: Readonly<Record<string, OperationName>> = { fanout: 'fanout.page', 'settle.slots': 'settle.commit', 'notify.slots': 'notify.append', gateway: 'gateway.message' };

function meanUncertaintyOf(model: CostModel, resource: string): number {
  const c = model.operations[RESOURCE_OP[resource] ?? 'settle.commit'];
  const mean = c === undefined || c.samples < 1 ? 0 : (2 * c.cv) / Math.sqrt(c.samples);
  return Math.min(0.9, mean + 2 * (model.runSpread ?? 0));
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
