// The hard limits of a plan, worked out from the cloud parameters before any prediction: the
// Pub/Sub publish quota (no configuration publishes faster than the region allows), the
// mutations per commit (a group commit may not exceed it; a single user that does cannot be
// settled at all), and on Google the Spanner nodes' rated rates, which floor the makespan of a
// configuration whatever its workers do. Each limit is a sentence with its numbers, so a plan can
// say plainly why a target is infeasible.
import { mutationsPerUser, publishQuotaBytesPerSecond, rowWritesPerUser, spannerCpuCeiling, type CloudParameters } from './cloud-parameters.ts';
import type { CostModel, OperationName, PlanConfiguration, PlanTarget, Workload } from './contracts.ts';

export interface PlanLimits {
  /** Messages the race publishes (users x messages per user). */
  readonly publishedMessages: number;
  /** Bytes the publish quota counts: every message at least the minimum billed size. */
  readonly publishBytes: number;
  readonly publishQuotaBytesPerSecond: number;
  /** The least time publishing takes under the quota, s (Google only; 0 on the emulators). */
  readonly publishSeconds: number;
  readonly mutationsPerUser: number;
  readonly mutationsPerCommitMax: number;
  /** The most users one commit may settle under the mutation limit (0: not even one). */
  readonly settlementsPerCommitMax: number;
  readonly rowWrites: number;
  readonly rowReads: number;
  /** Row writes per second one node sustains under the CPU ceiling (Google). */
  readonly writesPerNodePerSecond: number;
  readonly readsPerNodePerSecond: number;
  /** Nodes the writes need to finish within the SLO (Google; 0 on the emulators). */
  readonly nodesForSlo: number;
  /** CPU one worker process spends per user in each stage, µs (from the memory backend's measured costs), when known. */
  readonly workerCpuUsPerUser?: { readonly settle: number; readonly postSettle: number; readonly notify: number };
}

const costUs = (model: CostModel, op: OperationName, sizes: Readonly<Record<string, number>>): number => {
  const c = model.operations[op];
  if (c === undefined) return 0;
  return c.baseUs + Object.entries(c.perUs).reduce((sum, [k, per]) => sum + per * (sizes[k] ?? 0), 0);
};

/**
 * The CPU a worker process spends per user in each stage, from a cost model measured on the
 * memory backend (where a service time is CPU and nothing else): the settlement and its publish,
 * the post-settle writes, the notification append. A lower bound: a real client adds gRPC work.
 */
export function workerCpuOf(memory: CostModel, ticketsPerUser: number): NonNullable<PlanLimits['workerCpuUsPerUser']> {
  const deliver = costUs(memory, 'deliver.message', { messages: 1 });
  return {
    settle: costUs(memory, 'settle.commit', { users: 1, tickets: ticketsPerUser }) + costUs(memory, 'publish.batch', { messages: 1 }) + deliver,
    postSettle: costUs(memory, 'postSettle.commit', { users: 1, writes: 2 }) + deliver,
    notify: costUs(memory, 'notify.append', { notifications: 1 }) + costUs(memory, 'publish.batch', { messages: 1 }) + deliver,
  };
}

export interface Infeasibility {
  readonly code: 'PLAN.PUBLISH_QUOTA' | 'PLAN.MUTATION_LIMIT' | 'PLAN.USL_PEAK' | 'PLAN.SEARCH_BOUND' | 'PLAN.NOT_CONFIRMED' | 'PLAN.NOTIFY_SLO';
  readonly reason: string;
}

const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: digits });

export function planLimits(target: PlanTarget, workload: Workload, sloSeconds: number, p: CloudParameters, workerCpu?: CostModel): PlanLimits {
  const perUser = workload.users === 0 ? 0 : workload.tickets / workload.users;
  const publishedMessages = workload.users * p.publishedMessagesPerUser.value;
  const publishBytes = publishedMessages * Math.max(p.pubsubMinBilledBytes.value, p.notificationBytes.value);
  const quota = publishQuotaBytesPerSecond(p);
  const mutations = mutationsPerUser(p, perUser);
  const cpu = spannerCpuCeiling(p);
  const rowWrites = workload.users * rowWritesPerUser(p, perUser);
  const rowReads = workload.users * p.rowReadsPerUser.value;
  const writesPerNodePerSecond = p.spannerWritesPerSecondPerNode.value * cpu;
  const readsPerNodePerSecond = p.spannerReadsPerSecondPerNode.value * cpu;
  const google = target === 'google';
  return {
    publishedMessages,
    publishBytes,
    publishQuotaBytesPerSecond: quota,
    publishSeconds: google ? publishBytes / quota : 0,
    mutationsPerUser: mutations,
    mutationsPerCommitMax: p.spannerMutationsPerCommitMax.value,
    settlementsPerCommitMax: Math.floor(p.spannerMutationsPerCommitMax.value / Math.max(1, mutations)),
    rowWrites,
    rowReads,
    writesPerNodePerSecond,
    readsPerNodePerSecond,
    nodesForSlo: google ? Math.ceil(Math.max(rowWrites / writesPerNodePerSecond, rowReads / readsPerNodePerSecond) / sloSeconds) : 0,
    ...(workerCpu === undefined ? {} : { workerCpuUsPerUser: workerCpuOf(workerCpu, perUser) }),
  };
}

/** Limits no configuration can get past, as sentences with their numbers. */
export function hardInfeasibilities(limits: PlanLimits, workload: Workload, sloSeconds: number, p: CloudParameters): Infeasibility[] {
  const out: Infeasibility[] = [];
  if (limits.publishSeconds > sloSeconds) {
    const region = p.useLargeRegion.value === 1 ? 'a large region' : 'a region outside the large ones';
    out.push({
      code: 'PLAN.PUBLISH_QUOTA',
      reason: `the Pub/Sub publish quota cannot carry it: ${fmt(workload.users, 0)} users x ${fmt(p.publishedMessagesPerUser.value)} messages x max(${fmt(p.pubsubMinBilledBytes.value, 0)} B billed minimum, ${fmt(p.notificationBytes.value, 0)} B) = ${fmt(limits.publishBytes / 1e9, 2)} GB at ${fmt(limits.publishQuotaBytesPerSecond / 1e6)} MB/s (${region}) takes ${fmt(limits.publishSeconds)} s, more than the SLO's ${fmt(sloSeconds)} s (ask Google for a higher quota, or publish in a large region)`,
    });
  }
  if (limits.settlementsPerCommitMax < 1) {
    out.push({
      code: 'PLAN.MUTATION_LIMIT',
      reason: `one user's settlement alone needs ${fmt(limits.mutationsPerUser, 0)} mutations (${fmt(workload.tickets / Math.max(1, workload.users))} tickets per user), more than Spanner's ${fmt(limits.mutationsPerCommitMax, 0)} mutations per commit`,
    });
  }
  return out;
}

/**
 * The least makespan the Spanner nodes allow a configuration on Google: the row writes (and
 * reads) at the nodes' rated rates under the CPU ceiling, ms. 0 on the emulators, whose shards
 * the predictors model themselves.
 */
export function nodeFloorMs(target: PlanTarget, c: PlanConfiguration, limits: PlanLimits): number {
  if (target !== 'google') return 0;
  const nodes = Math.max(1, c.spannerNodes ?? 1);
  return 1000 * Math.max(limits.rowWrites / (nodes * limits.writesPerNodePerSecond), limits.rowReads / (nodes * limits.readsPerNodePerSecond));
}

/** The least makespan the publish quota allows, ms (Google only). */
export const publishFloorMs = (limits: PlanLimits): number => limits.publishSeconds * 1000;
