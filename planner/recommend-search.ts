// The knob search of the recommender. Every configuration is priced in relative cost units and
// predicted with the fast (closed-form) predictor; the search walks from the smallest
// configuration, each step raising the one knob that buys the most makespan per cost unit, until
// nothing helps, and keeps every configuration it predicted plus each one's one-step-cheaper
// neighbours. For a makespan SLO alone the walk's objective is the makespan's high bound (over
// the SLO: a constant), so the candidate set does not depend on the SLO and the cheapest candidate
// meeting a tighter SLO can never be cheaper than the one meeting a looser SLO. With a
// notification-latency SLO the objective is whichever of the two figures is further over its
// limit, so the walk also raises what the makespan never needs (notify workers).
import type { CloudParameters } from './cloud-parameters.ts';
import type { CostModel, PlanConfiguration, PlanTarget, Prediction, Predict, Workload } from './contracts.ts';
import { nodeFloorMs, publishFloorMs, type PlanLimits } from './plan-limits.ts';

export type Knob = 'settleWorkers' | 'postSettleWorkers' | 'notifyWorkers' | 'maxInFlight' | 'settlementsPerCommit' | 'spannerShards' | 'spannerNodes' | 'gatewayInstances';

const doubling = (max: number): number[] => {
  const out: number[] = [];
  for (let v = 1; v <= max; v *= 2) out.push(v);
  return out;
};

/** The values each knob may take, in increasing order. */
export const LADDERS: Readonly<Record<Knob, readonly number[]>> = {
  settleWorkers: doubling(1024),
  postSettleWorkers: doubling(1024),
  notifyWorkers: doubling(1024),
  maxInFlight: [1, 2, 4, 8, 16, 32, 64, 100, 250, 500, 1000],
  settlementsPerCommit: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
  spannerShards: doubling(64),
  spannerNodes: [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 125, 150, 200, 250, 300, 400, 500, 750, 1000],
  gatewayInstances: doubling(256),
};

/** Relative cost units: a Spanner node or an emulator shard ~ ten small machines; a gateway instance one; a worker an eighth. */
export const COST_WEIGHTS = { unit: 10, gatewayInstance: 1, worker: 0.125 } as const;

export interface Evaluated {
  readonly configuration: PlanConfiguration;
  readonly cost: number;
  readonly prediction: Prediction;
}

export interface SearchSpace {
  readonly target: PlanTarget;
  readonly knobs: readonly Knob[];
  readonly ladder: (k: Knob) => readonly number[];
  readonly minGateways: number;
  readonly workersPerClient: number;
}

export function searchSpace(target: PlanTarget, workload: Workload, limits: PlanLimits, p: CloudParameters): SearchSpace {
  const unitKnob: Knob = target === 'google' ? 'spannerNodes' : 'spannerShards';
  const knobs: Knob[] = ['settleWorkers', 'postSettleWorkers', 'notifyWorkers', 'maxInFlight', 'settlementsPerCommit', unitKnob, 'gatewayInstances'];
  const minGateways = Math.max(1, Math.ceil(workload.users / p.socketsPerGatewayInstance.value));
  const ladder = (k: Knob): readonly number[] => {
    const all = LADDERS[k];
    if (k === 'settlementsPerCommit') return all.filter((v) => v <= Math.max(1, limits.settlementsPerCommitMax));
    if (k === 'maxInFlight') return all.filter((v) => v <= p.subscriberMaxOutstandingMessages.value);
    if (k === 'gatewayInstances') return [minGateways, ...all.filter((v) => v > minGateways)];
    return all;
  };
  return { target, knobs, ladder, minGateways, workersPerClient: p.workersPerSubscriberClient.value };
}

export function costOf(c: PlanConfiguration, target: PlanTarget): number {
  const units = target === 'google' ? (c.spannerNodes ?? 1) : c.spannerShards;
  const workers = c.settleWorkers + c.postSettleWorkers + c.notifyWorkers;
  return units * COST_WEIGHTS.unit + c.gatewayInstances * COST_WEIGHTS.gatewayInstance + workers * COST_WEIGHTS.worker;
}

/** Subscriber clients follow the workers: the busiest stage's workers over the workers one client serves. */
function withClients(c: PlanConfiguration, space: SearchSpace): PlanConfiguration {
  const busiest = Math.max(c.settleWorkers, c.postSettleWorkers, c.notifyWorkers);
  return { ...c, subscriberClients: Math.max(1, Math.ceil(busiest / space.workersPerClient)) };
}

export function smallestConfiguration(space: SearchSpace): PlanConfiguration {
  return withClients(
    {
      settleWorkers: 1,
      postSettleWorkers: 1,
      notifyWorkers: 1,
      maxInFlight: 1,
      spannerShards: 1,
      ...(space.target === 'google' ? { spannerNodes: 1 } : {}),
      settlementsPerCommit: 1,
      fanout: 'per-user',
      gatewayInstances: space.minGateways,
      subscriberClients: 1,
    },
    space,
  );
}

function knobValue(c: PlanConfiguration, k: Knob): number {
  return (c[k] ?? 1) as number;
}

/** The configuration with one knob one ladder step up (dir 1) or down (dir -1); undefined at the end of the ladder. */
export function step(c: PlanConfiguration, k: Knob, dir: 1 | -1, space: SearchSpace): PlanConfiguration | undefined {
  const ladder = space.ladder(k);
  const at = ladder.findIndex((v) => v >= knobValue(c, k));
  const next = ladder[(at === -1 ? ladder.length : at) + dir];
  if (next === undefined) return undefined;
  return withClients({ ...c, [k]: next }, space);
}

const keyOf = (c: PlanConfiguration): string => JSON.stringify(c);

/** The floors of a configuration, ms, by resource: what no predictor here models. */
export function floorsOf(c: PlanConfiguration, users: number, target: PlanTarget, limits: PlanLimits): Record<string, number> {
  const floors: Record<string, number> = {};
  if (target === 'google') {
    floors['spanner-nodes'] = nodeFloorMs(target, c, limits);
    floors['pubsub-publish-quota'] = publishFloorMs(limits);
  }
  // A worker process's own CPU, priced from the memory backend's measured costs (a lower bound of
  // what a worker spends per user); the memory target's own predictor already has its CPU.
  const cpu = limits.workerCpuUsPerUser;
  if (cpu !== undefined && target !== 'memory') {
    floors['settle-worker-cpu'] = (users * cpu.settle) / 1000 / Math.max(1, c.settleWorkers);
    floors['post-settle-worker-cpu'] = (users * cpu.postSettle) / 1000 / Math.max(1, c.postSettleWorkers);
    floors['notify-worker-cpu'] = (users * cpu.notify) / 1000 / Math.max(1, c.notifyWorkers);
  }
  return floors;
}

/**
 * Applies the limits the predictors do not model: on Google the nodes' rated rates and the
 * publish quota, and on every target but memory the CPU of each stage's worker processes. When a
 * floor is above the prediction, the prediction (makespans, latencies) is scaled up to it and
 * the floor's resource becomes the bottleneck.
 */
export function applyFloors(pred: Prediction, target: PlanTarget, limits: PlanLimits): Prediction {
  const floors = floorsOf(pred.configuration, pred.workload.users, target, limits);
  const names = Object.keys(floors);
  if (names.length === 0) return pred;
  const top = names.reduce((a, b) => ((floors[b] as number) > (floors[a] as number) ? b : a));
  const floor = floors[top] as number;
  const m = pred.makespanMs;
  const over = Math.max(floor, m.p50);
  const utilisation = { ...pred.utilisation, ...Object.fromEntries(names.map((n) => [n, Math.round((1000 * Math.min(1, (floors[n] as number) / over))) / 1000])) };
  if (floor <= m.p50) return { ...pred, utilisation };
  const k = floor / Math.max(1e-9, m.p50);
  const l = pred.notifyLatencyMs;
  return {
    ...pred,
    makespanMs: { p50: m.p50 * k, low: m.low * k, high: m.high * k },
    notifyMakespanMs: { p50: pred.notifyMakespanMs.p50 * k, low: pred.notifyMakespanMs.low * k, high: pred.notifyMakespanMs.high * k },
    notifyLatencyMs: { p50: l.p50 * k, p99: l.p99 * k, p99High: l.p99High * k },
    throughputUsersPerSecond: pred.workload.users / ((m.p50 * k) / 1000),
    bottleneck: top,
    utilisation,
  };
}

export class Evaluator {
  readonly seen = new Map<string, Evaluated>();
  private readonly predict: Predict;
  private readonly model: CostModel;
  private readonly workload: Workload;
  private readonly target: PlanTarget;
  private readonly limits: PlanLimits;

  constructor(predict: Predict, model: CostModel, workload: Workload, target: PlanTarget, limits: PlanLimits) {
    this.predict = predict;
    this.model = model;
    this.workload = workload;
    this.target = target;
    this.limits = limits;
  }

  async evaluate(c: PlanConfiguration): Promise<Evaluated> {
    const key = keyOf(c);
    const found = this.seen.get(key);
    if (found !== undefined) return found;
    const prediction = applyFloors(await this.predict(this.model, c, this.workload), this.target, this.limits);
    const e: Evaluated = { configuration: c, cost: costOf(c, this.target), prediction };
    this.seen.set(key, e);
    return e;
  }
}

/**
 * What a plan must meet: the makespan's high bound within `makespanMs` and, when given, the
 * notification latency p99's high bound within `notifyP99Ms`.
 */
export interface Goal {
  readonly makespanMs: number;
  readonly notifyP99Ms?: number;
}

/** How far a prediction is from the goal, as the largest of its figures over their limits: at most 1 meets it. */
export function goalRatio(p: Prediction, goal: Goal): number {
  const makespan = p.makespanMs.high / goal.makespanMs;
  return goal.notifyP99Ms === undefined ? makespan : Math.max(makespan, p.notifyLatencyMs.p99High / goal.notifyP99Ms);
}

export const meetsGoal = (p: Prediction, goal: Goal): boolean => goalRatio(p, goal) <= 1;

/** The goal with every limit divided by `k` (a stricter goal for k above 1). */
export const scaledGoal = (goal: Goal, k: number): Goal => ({ makespanMs: goal.makespanMs / k, ...(goal.notifyP99Ms === undefined ? {} : { notifyP99Ms: goal.notifyP99Ms / k }) });

/** A step must shorten the walk's objective by at least this share to count as help. */
const MIN_GAIN = 0.005;
const STEPS_MAX = 400;

/** Every way to raise one knob, or two at once, or all of them (in that order of preference). */
function moves(c: PlanConfiguration, space: SearchSpace): PlanConfiguration[][] {
  const singles = space.knobs.map((k) => step(c, k, 1, space)).filter((x): x is PlanConfiguration => x !== undefined);
  const pairs: PlanConfiguration[] = [];
  for (let i = 0; i < space.knobs.length; i++) {
    for (let j = i + 1; j < space.knobs.length; j++) {
      const a = step(c, space.knobs[i] as Knob, 1, space);
      const b = a === undefined ? undefined : step(a, space.knobs[j] as Knob, 1, space);
      if (b !== undefined) pairs.push(b);
    }
  }
  let all: PlanConfiguration | undefined = c;
  for (const k of space.knobs) all = step(all, k, 1, space) ?? all;
  return [singles, pairs, all === c ? [] : [all]];
}

/**
 * The greedy walk: from the smallest configuration, the step that shortens the prediction's
 * distance to the goal (goalRatio) the most per cost unit each time. For a makespan SLO alone
 * that is the makespan's high bound over a constant, so the walk is the same whatever the SLO.
 * When two resources bind together (settle workers and nodes, say), no single knob helps, so two
 * knobs at once are tried, then every knob. Returns the path.
 */
export async function walk(ev: Evaluator, space: SearchSpace, goal: Goal): Promise<Evaluated[]> {
  const objective = (p: Prediction): number => goalRatio(p, goal);
  let at = await ev.evaluate(smallestConfiguration(space));
  const path = [at];
  for (let i = 0; i < STEPS_MAX; i++) {
    let best: { e: Evaluated; score: number } | undefined;
    const now = objective(at.prediction);
    for (const tier of moves(at.configuration, space)) {
      for (const next of tier) {
        const e = await ev.evaluate(next);
        const gain = now - objective(e.prediction);
        if (gain < now * MIN_GAIN) continue;
        const score = gain / Math.max(1e-9, e.cost - at.cost);
        if (best === undefined || score > best.score) best = { e, score };
      }
      if (best !== undefined) break;
    }
    if (best === undefined) break;
    at = best.e;
    path.push(at);
  }
  return path;
}

/** Every configuration on the path and its one-step-cheaper neighbours, predicted. */
export async function candidates(ev: Evaluator, space: SearchSpace, path: readonly Evaluated[]): Promise<Evaluated[]> {
  for (const e of path) {
    for (const k of space.knobs) {
      const down = step(e.configuration, k, -1, space);
      if (down !== undefined) await ev.evaluate(down);
    }
  }
  return [...ev.seen.values()];
}

/** The cheapest candidate whose predicted high bounds meet the goal (ties: the nearer within it). */
export function cheapestMeeting(all: readonly Evaluated[], goal: Goal): Evaluated | undefined {
  let best: Evaluated | undefined;
  for (const e of all) {
    if (!meetsGoal(e.prediction, goal)) continue;
    if (best === undefined || e.cost < best.cost || (e.cost === best.cost && goalRatio(e.prediction, goal) < goalRatio(best.prediction, goal))) best = e;
  }
  return best;
}

/** The candidate nearest the goal: the fastest when the goal is the makespan alone. */
export function nearest(all: readonly Evaluated[], goal: Goal): Evaluated {
  return all.reduce((a, b) => (goalRatio(b.prediction, goal) < goalRatio(a.prediction, goal) ? b : a));
}
