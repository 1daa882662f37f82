// The recommender: for U users, T tickets and an SLO of S seconds, the cheapest configuration
// (workers per stage, subscriber clients, flow control, group commit, shards or Spanner nodes,
// gateway instances) whose predicted makespan, high bound included, meets the SLO, and, when a
// notification-latency SLO is given, whose notify latency p99 (high bound) meets that too. The fast
// closed-form predictor searches (recommend-search.ts); the virtual-time pipeline confirms the
// chosen configuration and its neighbours on the main knob. Limits no configuration can pass
// (the publish quota, the mutations per commit, the USL peak) are stated plainly with their numbers.
import { CLOUD_PARAMETER_NAMES, type CloudParameterName, type CloudParameters } from './cloud-parameters.ts';
import type { CostModel, PlanConfiguration, PlanTarget, Prediction, Predict, Workload } from './contracts.ts';
import { hardInfeasibilities, planLimits, type Infeasibility, type PlanLimits } from './plan-limits.ts';
import { applyFloors, candidates, cheapestMeeting, COST_WEIGHTS, Evaluator, goalRatio, meetsGoal, nearest, scaledGoal, searchSpace, step, walk, type Evaluated, type Goal, type Knob, type SearchSpace } from './recommend-search.ts';
import { unpricedOperations } from './service-times.ts';

export interface PlanQuestion {
  readonly users: number;
  readonly tickets: number;
  readonly sloSeconds: number;
  /** A notification-latency SLO: the notify latency p99's high bound (result published -> user's notification stored) within it, seconds. */
  readonly notifyP99Seconds?: number;
  readonly target: PlanTarget;
  readonly model: CostModel;
  readonly params: CloudParameters;
  /**
   * A cost model measured on the memory backend: its service times are a worker process's CPU,
   * which bounds what one settle, post-settle or notify worker handles per second on the other
   * targets (whose predictors do not model a worker's CPU). Without it, workers are not CPU-bound.
   */
  readonly workerCpu?: CostModel;
  /** One line per step of long work (the search, each virtual-time run and its progress). */
  readonly progress?: (line: string) => void;
}

export interface Predictors {
  /** Fast: searches the knobs. */
  readonly closedForm: Predict;
  /** The virtual-time pipeline: confirms the chosen configuration and its neighbours. */
  readonly virtual: Predict;
}

export interface CurvePoint {
  readonly knob: number;
  /** Closed-form makespan p50 and high bound, ms. */
  readonly makespanMs: number;
  readonly makespanHighMs: number;
  /** The virtual-time pipeline's makespan p50, ms, where it was run (the chosen one and its neighbours). */
  readonly virtualMakespanMs: number | null;
  readonly cost: number;
  readonly meetsSlo: boolean;
}

export interface Headroom {
  readonly sloMs: number;
  readonly predictedHighMs: number;
  /** SLO minus the predicted high bound, ms (negative when it misses). */
  readonly marginMs: number;
  /** marginMs / sloMs. */
  readonly marginShare: number;
  readonly bottleneck: string;
  readonly bottleneckUtilisation: number;
  /** Against the notification-latency SLO, when one was given: its limit, the predicted notify p99 high bound, and the margin. */
  readonly notify?: { readonly sloMs: number; readonly predictedHighMs: number; readonly marginMs: number; readonly marginShare: number };
}

export interface ParameterUsed {
  readonly name: CloudParameterName;
  readonly value: number;
  readonly unit: string;
  readonly kind: 'published' | 'assumed';
  readonly source: string;
  readonly url: string;
  readonly asOf: string;
  readonly overridden: boolean;
}

export interface PlanAnswer {
  readonly question: { readonly users: number; readonly tickets: number; readonly sloSeconds: number; readonly notifyP99Seconds?: number; readonly target: PlanTarget };
  readonly feasible: boolean;
  /** Why no configuration meets the SLO (empty when feasible), each with its stable code. */
  readonly infeasible: readonly Infeasibility[];
  /** The recommendation; when infeasible, the fastest configuration found (best effort). */
  readonly configuration: PlanConfiguration;
  readonly cost: number;
  /** The virtual-time pipeline's prediction of the configuration (closed form when the pipeline could not run). */
  readonly prediction: Prediction;
  readonly closedForm: Prediction;
  readonly headroom: Headroom;
  readonly mainKnob: { readonly name: Knob; readonly label: string };
  readonly curve: readonly CurvePoint[];
  readonly limits: PlanLimits;
  readonly assumptions: readonly string[];
  readonly parameters: readonly ParameterUsed[];
  readonly warnings: readonly string[];
  /** Configurations the search predicted. */
  readonly searched: number;
}

const fmt = (n: number, digits = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: digits });

function parametersUsed(p: CloudParameters): ParameterUsed[] {
  return CLOUD_PARAMETER_NAMES.map((name) => {
    const x = p[name];
    return { name, value: x.value, unit: x.unit, kind: x.kind, source: x.source.title, url: x.source.url, asOf: x.asOf, overridden: x.overridden === true };
  });
}

function assumptionsOf(q: PlanQuestion, limits: PlanLimits): string[] {
  const p = q.params;
  const out = [
    `Per-operation service times come from the cost model measured on ${q.model.target} at ${q.model.measuredAt} (${q.model.sources.join('; ')}).`,
    `Cost is in relative units: a ${q.target === 'google' ? 'Spanner node' : 'Spanner emulator shard'} ${COST_WEIGHTS.unit}, a gateway instance ${COST_WEIGHTS.gatewayInstance}, a stage worker ${COST_WEIGHTS.worker}.`,
    `Subscriber clients follow the workers: one client per ${fmt(p.workersPerSubscriberClient.value, 0)} workers of the busiest stage; gateway instances at least one per ${fmt(p.socketsPerGatewayInstance.value, 0)} users.`,
    `Group commit is capped at ${fmt(limits.settlementsPerCommitMax, 0)} users per commit: ${fmt(limits.mutationsPerUser, 0)} mutations per user (${fmt(p.mutationsPerUser.value, 0)} + ${fmt(p.mutationsPerTicket.value, 0)} per ticket) under Spanner's ${fmt(limits.mutationsPerCommitMax, 0)} per commit.`,
    'The SLO is met when the high bound of the predicted makespan (result published -> last user settled) is within it.',
  ];
  if (q.notifyP99Seconds !== undefined) out.push(`The notification-latency SLO (${fmt(q.notifyP99Seconds)} s) is met when the high bound of the predicted notify latency p99 (result published -> a user's notification stored) is within it; the search raises, step by step, the knob that most shortens whichever of the two figures is further over its limit.`);
  const unpriced = unpricedOperations(q.model);
  if (unpriced.length > 0) out.push(`The cost model prices no ${unpriced.join(', ')}: each costs 0 here (the calibration predates it or never measured it), so the prediction is too fast by its share; recalibrate to price it.`);
  const aging = q.model.startupPerPairRunMs;
  if (aging !== undefined && q.target === 'emulators') {
    out.push(`The start-up (${fmt(q.model.startupMs ?? 0, 0)} ms) is that of an emulator pair that served no run before (after its warm-up): the Spanner emulator's reads slow with every transaction it has served, measured as ${fmt(aging, 1)} ms more start-up for each run a pair served before.`);
  }
  const cpu = limits.workerCpuUsPerUser;
  if (cpu !== undefined && q.target !== 'memory') {
    out.push(
      `A worker process's CPU per user is the memory backend's measured cost (${q.workerCpu?.measuredAt ?? '?'}): settle ${fmt(cpu.settle, 0)} µs, post-settle ${fmt(cpu.postSettle, 0)} µs, notify ${fmt(cpu.notify, 0)} µs, so one worker handles at most ${fmt(1e6 / Math.max(1, cpu.settle), 0)}, ${fmt(1e6 / Math.max(1, cpu.postSettle), 0)} and ${fmt(1e6 / Math.max(1, cpu.notify), 0)} users/s (a lower bound on its CPU: a real client adds gRPC work).`,
    );
  }
  if (q.target === 'google') {
    out.push(
      `Spanner nodes: ${fmt(limits.rowWrites, 0)} row writes and ${fmt(limits.rowReads, 0)} row reads at ${fmt(limits.writesPerNodePerSecond, 0)} writes/s and ${fmt(limits.readsPerNodePerSecond, 0)} reads/s per node (the rated ${fmt(p.spannerWritesPerSecondPerNode.value, 0)} / ${fmt(p.spannerReadsPerSecondPerNode.value, 0)} under the ${fmt(100 * (limits.writesPerNodePerSecond / p.spannerWritesPerSecondPerNode.value), 0)}% CPU ceiling) floor the makespan; rated writes are counted as row writes (conservative: no throughput-optimised writes).`,
      `Pub/Sub: ${fmt(limits.publishedMessages, 0)} published messages, each counted at max(${fmt(p.pubsubMinBilledBytes.value, 0)} B, ${fmt(p.notificationBytes.value, 0)} B), against ${fmt(limits.publishQuotaBytesPerSecond / 1e6)} MB/s: at least ${fmt(limits.publishSeconds)} s of publishing.`,
      'Real Spanner commit and Pub/Sub delivery latencies are not measured here: the emulator-measured service times stand in for them (an assumption; Google publishes no per-operation latency).',
    );
  }
  return out;
}

function headroomOf(pred: Prediction, goal: Goal): Headroom {
  const entries = Object.entries(pred.utilisation);
  const util = pred.utilisation[pred.bottleneck] ?? (entries.length === 0 ? 0 : Math.max(...entries.map(([, v]) => v)));
  const sloMs = goal.makespanMs;
  const marginMs = sloMs - pred.makespanMs.high;
  const n = goal.notifyP99Ms;
  const notifyMarginMs = n === undefined ? 0 : n - pred.notifyLatencyMs.p99High;
  const notify = n === undefined ? {} : { notify: { sloMs: n, predictedHighMs: pred.notifyLatencyMs.p99High, marginMs: notifyMarginMs, marginShare: notifyMarginMs / n } };
  return { sloMs, predictedHighMs: pred.makespanMs.high, marginMs, marginShare: marginMs / sloMs, bottleneck: pred.bottleneck, bottleneckUtilisation: util, ...notify };
}

/** What a question asks, in ms. */
const goalOf = (q: PlanQuestion): Goal => ({ makespanMs: q.sloSeconds * 1000, ...(q.notifyP99Seconds === undefined ? {} : { notifyP99Ms: q.notifyP99Seconds * 1000 }) });

/** The SLO or SLOs a question sets, named. */
const sloName = (q: PlanQuestion): string => (q.notifyP99Seconds === undefined ? 'the SLO' : 'the SLOs');

/** The SLOs a question sets, in words with their figures. */
function slosOf(q: PlanQuestion): string {
  return q.notifyP99Seconds === undefined ? `the SLO's ${fmt(q.sloSeconds)} s` : `the SLOs (makespan ${fmt(q.sloSeconds)} s, notify latency p99 ${fmt(q.notifyP99Seconds)} s)`;
}

/** A prediction's figures against the goal, for the reasons a plan gives. */
function figuresOf(p: Prediction, goal: Goal): string {
  const makespan = `makespan ${fmt(p.makespanMs.high / 1000)} s`;
  return goal.notifyP99Ms === undefined ? makespan : `${makespan}, notify p99 ${fmt(p.notifyLatencyMs.p99High / 1000)} s`;
}

/**
 * Why nothing meets the SLOs when the hard limits allow it: the notification-latency SLO when the
 * makespan alone could be met, else the USL peak or the search's bounds.
 */
function softInfeasibility(q: PlanQuestion, best: Evaluated, all: readonly Evaluated[]): Infeasibility {
  const goal = goalOf(q);
  if (goal.notifyP99Ms !== undefined && cheapestMeeting(all, { makespanMs: goal.makespanMs }) !== undefined) {
    const lowest = all.reduce((a, b) => (b.prediction.notifyLatencyMs.p99High < a.prediction.notifyLatencyMs.p99High ? b : a));
    const p = lowest.prediction;
    return {
      code: 'PLAN.NOTIFY_SLO',
      reason: `the makespan SLO of ${fmt(q.sloSeconds)} s can be met, but no searched configuration meets the notify latency p99 SLO of ${fmt(goal.notifyP99Ms / 1000)} s: the lowest found is ${fmt(p.notifyLatencyMs.p99High / 1000)} s (high bound; p99 ${fmt(p.notifyLatencyMs.p99 / 1000)} s, makespan ${fmt(p.makespanMs.high / 1000)} s, bottleneck ${p.bottleneck}, ${lowest.configuration.notifyWorkers} notify workers), with every knob up to its searched bound`,
    };
  }
  const got = `the configuration nearest ${slosOf(q)} is predicted at ${figuresOf(best.prediction, goal)} (high bounds; bottleneck ${best.prediction.bottleneck})`;
  const peaked = q.model.usl.filter((u) => Number.isFinite(u.peakN));
  if (peaked.length > 0) {
    const peaks = peaked.map((u) => `N = ${fmt(u.peakN)} ${u.concurrency} (sigma ${fmt(u.sigma, 4)}, kappa ${fmt(u.kappa, 6)})`).join('; ');
    return { code: 'PLAN.USL_PEAK', reason: `${got}: beyond the USL peak (${peaks}) adding workers lowers throughput, so more of them cannot help` };
  }
  return { code: 'PLAN.SEARCH_BOUND', reason: `${got}, with every knob up to its searched bound` };
}

/** The SLO covers settlement; notifications that end after it are said, with how late. */
function notifyLateWarning(p: Prediction, sloSeconds: number): string {
  const n = p.notifyMakespanMs;
  return `notifications are predicted to end at ${fmt(n.p50 / 1000)} s (high bound ${fmt(n.high / 1000)} s), after the SLO's ${fmt(sloSeconds)} s, which covers settlement (result published -> last user settled); notify latency p99 ${fmt(p.notifyLatencyMs.p99 / 1000)} s (the plan's bottleneck: ${p.bottleneck}; notification writes queue behind settlement's where they share it)`;
}

/** Virtual-time runs of configurations, each run once (floors applied); a run that cannot be made is a warning, not a failure. */
class Confirmer {
  readonly warnings: string[] = [];
  private readonly done = new Map<string, Prediction | null>();
  private readonly q: PlanQuestion;
  private readonly predictors: Predictors;
  private readonly limits: PlanLimits;

  constructor(q: PlanQuestion, predictors: Predictors, limits: PlanLimits) {
    this.q = q;
    this.predictors = predictors;
    this.limits = limits;
  }

  async run(c: PlanConfiguration, why: string): Promise<Prediction | undefined> {
    const key = JSON.stringify(c);
    if (this.done.has(key)) return this.done.get(key) ?? undefined;
    this.q.progress?.(`virtual-time pipeline run ${this.done.size + 1} (${why})`);
    let p: Prediction | null = null;
    try {
      p = applyFloors(await this.predictors.virtual(this.q.model, c, { users: this.q.users, tickets: this.q.tickets }), this.q.target, this.limits);
    } catch (e) {
      this.warnings.push(`the virtual-time pipeline could not run ${why}: ${(e as Error).message}; the closed form stands alone there`);
    }
    this.done.set(key, p);
    return p ?? undefined;
  }
}

/** Closed-form choices the virtual-time pipeline is asked to confirm before the plan gives up on them. */
const CONFIRM_ROUNDS = 4;

interface Confirmed {
  readonly chosen: Evaluated;
  readonly prediction: Prediction;
  readonly infeasible?: Infeasibility;
  readonly warnings: readonly string[];
}

/**
 * The cheapest closed-form candidate, confirmed by the virtual-time pipeline. When the pipeline
 * predicts more than the SLO, the closed form is corrected by the ratio seen (virtual high bound
 * over closed-form high bound) and the cheapest candidate meeting the corrected SLO is tried
 * next, a few times; a plan the pipeline never confirms is infeasible, with the figures.
 */
async function confirmChoice(q: PlanQuestion, all: readonly Evaluated[], first: Evaluated, confirm: Confirmer): Promise<Confirmed> {
  const goal = goalOf(q);
  const why = (e: Evaluated): string => `the closed form's choice at cost ${fmt(e.cost, 2)}`;
  let chosen = first;
  let ratio = 1;
  const tried: string[] = [];
  for (let round = 0; round < CONFIRM_ROUNDS; round++) {
    const v = await confirm.run(chosen.configuration, why(chosen));
    if (v === undefined) return { chosen, prediction: chosen.prediction, warnings: [] };
    if (meetsGoal(v, goal)) {
      const note = tried.length === 0 ? [] : [`the virtual-time pipeline missed ${sloName(q)} for ${tried.join('; ')}; the closed form was corrected by x${fmt(ratio, 2)} and this configuration is the cheapest it confirms`];
      return { chosen, prediction: v, warnings: note };
    }
    tried.push(`cost ${fmt(chosen.cost, 2)} (${figuresOf(v, goal)} against the closed form's ${figuresOf(chosen.prediction, goal)})`);
    ratio = Math.max(ratio * 1.05, goalRatio(v, goal) / Math.max(1e-9, goalRatio(chosen.prediction, goal)));
    const next = cheapestMeeting(all, scaledGoal(goal, ratio));
    if (next === undefined || next === chosen) {
      const reason = `the closed form finds configurations meeting ${sloName(q)}, but the virtual-time pipeline, which runs the real pipeline, predicts more than ${slosOf(q)} for ${tried.join('; ')}; corrected by x${fmt(ratio, 2)} no searched configuration meets it`;
      return { chosen, prediction: v, infeasible: { code: 'PLAN.NOT_CONFIRMED', reason }, warnings: [] };
    }
    chosen = next;
  }
  const last = (await confirm.run(chosen.configuration, why(chosen))) ?? chosen.prediction;
  if (meetsGoal(last, goal)) return { chosen, prediction: last, warnings: [`the virtual-time pipeline missed ${sloName(q)} for ${tried.join('; ')}; this configuration is the cheapest it confirmed`] };
  return { chosen, prediction: last, infeasible: { code: 'PLAN.NOT_CONFIRMED', reason: `the virtual-time pipeline predicts more than ${slosOf(q)} for every configuration the closed form offered (${tried.join('; ')})` }, warnings: [] };
}

async function curveOf(q: PlanQuestion, ev: Evaluator, space: SearchSpace, chosen: Evaluated, knob: Knob, confirm: Confirmer): Promise<CurvePoint[]> {
  const ladder = space.ladder(knob);
  const chosenValue = (chosen.configuration[knob] ?? 1) as number;
  const upTo = Math.max(2 * chosenValue, ladder[Math.min(ladder.length - 1, 4)] as number);
  const virtualAt = new Map<number, Prediction>();
  for (const c of [chosen.configuration, step(chosen.configuration, knob, -1, space), step(chosen.configuration, knob, 1, space)]) {
    if (c === undefined) continue;
    const v = await confirm.run(c, `${knob} = ${String(c[knob])}, for the curve`);
    if (v !== undefined) virtualAt.set((c[knob] ?? 1) as number, v);
  }
  const goal = goalOf(q);
  const curve: CurvePoint[] = [];
  for (const v of ladder.filter((x) => x <= upTo)) {
    const e = await ev.evaluate({ ...chosen.configuration, [knob]: v });
    const virtual = virtualAt.get(v);
    curve.push({ knob: v, makespanMs: e.prediction.makespanMs.p50, makespanHighMs: e.prediction.makespanMs.high, virtualMakespanMs: virtual?.makespanMs.p50 ?? null, cost: e.cost, meetsSlo: meetsGoal(virtual ?? e.prediction, goal) });
  }
  return curve;
}

/** The recommendation with explicit predictors (tests give fixtures; `recommend` gives the planner's own). */
export async function recommendWith(q: PlanQuestion, predictors: Predictors): Promise<PlanAnswer> {
  const workload: Workload = { users: q.users, tickets: q.tickets };
  const goal = goalOf(q);
  const sloMs = goal.makespanMs;
  const limits = planLimits(q.target, workload, q.sloSeconds, q.params, q.workerCpu);
  const space = searchSpace(q.target, workload, limits, q.params);
  const ev = new Evaluator(predictors.closedForm, q.model, workload, q.target, limits);
  const started = performance.now();
  // With a notification-latency SLO the walk shortens whichever of the two figures is further
  // over its limit, so it also raises what the makespan never needs (notify workers).
  const all = await candidates(ev, space, await walk(ev, space, goal));
  q.progress?.(`searched ${ev.seen.size} configurations with the closed form in ${Math.round(performance.now() - started)} ms`);
  const hard = hardInfeasibilities(limits, workload, q.sloSeconds, q.params);
  const meeting = hard.length === 0 ? cheapestMeeting(all, goal) : undefined;
  const confirm = new Confirmer(q, predictors, limits);
  const best = nearest(all, goal);
  const c: Confirmed =
    meeting !== undefined ? await confirmChoice(q, all, meeting, confirm) : { chosen: best, prediction: (await confirm.run(best.configuration, 'the fastest configuration found')) ?? best.prediction, warnings: [] };
  const infeasible = meeting !== undefined ? (c.infeasible === undefined ? [] : [c.infeasible]) : hard.length > 0 ? hard : [softInfeasibility(q, c.chosen, all)];
  const knob: Knob = q.target === 'google' ? 'spannerNodes' : 'spannerShards';
  const curve = await curveOf(q, ev, space, c.chosen, knob, confirm);
  const late = c.prediction.notifyMakespanMs.high > sloMs ? [notifyLateWarning(c.prediction, q.sloSeconds)] : [];
  return {
    question: { users: q.users, tickets: q.tickets, sloSeconds: q.sloSeconds, ...(q.notifyP99Seconds === undefined ? {} : { notifyP99Seconds: q.notifyP99Seconds }), target: q.target },
    feasible: infeasible.length === 0,
    infeasible,
    configuration: c.chosen.configuration,
    cost: c.chosen.cost,
    prediction: c.prediction,
    closedForm: c.chosen.prediction,
    headroom: headroomOf(c.prediction, goal),
    mainKnob: { name: knob, label: knob === 'spannerNodes' ? 'Spanner nodes' : 'Spanner shards (emulator databases)' },
    curve,
    limits,
    assumptions: assumptionsOf(q, limits),
    parameters: parametersUsed(q.params),
    warnings: [...new Set([...late, ...c.prediction.warnings, ...c.chosen.prediction.warnings, ...c.warnings, ...confirm.warnings])],
    searched: ev.seen.size,
  };
}

/** The planner's own predictors: the closed-form queueing model searches, the virtual-time pipeline confirms. */
async function defaultPredictors(progress?: (line: string) => void): Promise<Predictors> {
  const [{ predictClosedForm }, { predictVirtual }] = await Promise.all([import('./queueing.ts'), import('./virtual.ts')]);
  if (progress === undefined) return { closedForm: predictClosedForm, virtual: predictVirtual };
  return {
    closedForm: predictClosedForm,
    virtual: (model, configuration, workload) => {
      let shown = -1;
      // A virtual run of a large race takes seconds: a line every 25% of its users.
      const onProgress = (done: number, total: number): void => {
        const quarter = Math.floor((4 * done) / Math.max(1, total));
        if (quarter > shown && quarter < 4) progress(`  virtual-time run ${Math.round((100 * done) / Math.max(1, total))}% (${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} users)`);
        shown = Math.max(shown, quarter);
      };
      return predictVirtual(model, configuration, workload, { onProgress });
    },
  };
}

/** The recommendation for a question, with the planner's own predictors unless others are given. */
export async function recommend(question: PlanQuestion, predictors?: Predictors): Promise<PlanAnswer> {
  return recommendWith(question, predictors ?? (await defaultPredictors(question.progress)));
}
