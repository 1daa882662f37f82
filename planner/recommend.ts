// The recommender: for U users, T tickets and an SLO of S seconds, the cheapest configuration
// (workers per stage, subscriber clients, flow control, group commit, shards or Spanner nodes,
// gateway instances) whose predicted makespan, high bound included, meets the SLO. The fast
// closed-form predictor searches (recommend-search.ts); the virtual-time pipeline confirms the
// chosen configuration and its neighbours on the main knob. Limits no configuration can pass
// (the publish quota, the mutations per commit, the USL peak) are stated plainly with their numbers.
import { CLOUD_PARAMETER_NAMES, type CloudParameterName, type CloudParameters } from './cloud-parameters.ts';
import type { CostModel, PlanConfiguration, PlanTarget, Prediction, Predict, Workload } from './contracts.ts';
import { hardInfeasibilities, planLimits, type Infeasibility, type PlanLimits } from './plan-limits.ts';
import { applyFloors, candidates, cheapestMeeting, COST_WEIGHTS, Evaluator, fastest, searchSpace, step, walk, type Evaluated, type Knob, type SearchSpace } from './recommend-search.ts';

export interface PlanQuestion {
  readonly users: number;
  readonly tickets: number;
  readonly sloSeconds: number;
  readonly target: PlanTarget;
  readonly model: CostModel;
  readonly params: CloudParameters;
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
  readonly question: { readonly users: number; readonly tickets: number; readonly sloSeconds: number; readonly target: PlanTarget };
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
  if (q.target === 'google') {
    out.push(
      `Spanner nodes: ${fmt(limits.rowWrites, 0)} row writes and ${fmt(limits.rowReads, 0)} row reads at ${fmt(limits.writesPerNodePerSecond, 0)} writes/s and ${fmt(limits.readsPerNodePerSecond, 0)} reads/s per node (the rated ${fmt(p.spannerWritesPerSecondPerNode.value, 0)} / ${fmt(p.spannerReadsPerSecondPerNode.value, 0)} under the ${fmt(100 * (limits.writesPerNodePerSecond / p.spannerWritesPerSecondPerNode.value), 0)}% CPU ceiling) floor the makespan; rated writes are counted as row writes (conservative: no throughput-optimised writes).`,
      `Pub/Sub: ${fmt(limits.publishedMessages, 0)} published messages, each counted at max(${fmt(p.pubsubMinBilledBytes.value, 0)} B, ${fmt(p.notificationBytes.value, 0)} B), against ${fmt(limits.publishQuotaBytesPerSecond / 1e6)} MB/s: at least ${fmt(limits.publishSeconds)} s of publishing.`,
      'Real Spanner commit and Pub/Sub delivery latencies are not measured here: the emulator-measured service times stand in for them (an assumption; Google publishes no per-operation latency).',
    );
  }
  return out;
}

function headroomOf(pred: Prediction, sloMs: number): Headroom {
  const entries = Object.entries(pred.utilisation);
  const util = pred.utilisation[pred.bottleneck] ?? (entries.length === 0 ? 0 : Math.max(...entries.map(([, v]) => v)));
  const marginMs = sloMs - pred.makespanMs.high;
  return { sloMs, predictedHighMs: pred.makespanMs.high, marginMs, marginShare: marginMs / sloMs, bottleneck: pred.bottleneck, bottleneckUtilisation: util };
}

/** Why nothing meets the SLO when the hard limits allow it: the USL peak or the search's bounds. */
function softInfeasibility(q: PlanQuestion, best: Evaluated, sloMs: number): Infeasibility {
  const got = `the fastest configuration found is predicted at ${fmt(best.prediction.makespanMs.high / 1000)} s (high bound; bottleneck ${best.prediction.bottleneck}), more than the SLO's ${fmt(q.sloSeconds)} s`;
  const peaked = q.model.usl.filter((u) => Number.isFinite(u.peakN));
  if (peaked.length > 0) {
    const peaks = peaked.map((u) => `N = ${fmt(u.peakN)} ${u.concurrency} (sigma ${fmt(u.sigma, 4)}, kappa ${fmt(u.kappa, 6)})`).join('; ');
    return { code: 'PLAN.USL_PEAK', reason: `${got}: beyond the USL peak (${peaks}) adding workers lowers throughput, so more of them cannot help` };
  }
  void sloMs;
  return { code: 'PLAN.SEARCH_BOUND', reason: `${got}, with every knob up to its searched bound` };
}

async function curveOf(q: PlanQuestion, predictors: Predictors, ev: Evaluator, space: SearchSpace, chosen: Evaluated, knob: Knob, limits: PlanLimits, workload: Workload): Promise<{ curve: CurvePoint[]; confirmed: Prediction; warnings: string[] }> {
  const ladder = space.ladder(knob);
  const chosenValue = (chosen.configuration[knob] ?? 1) as number;
  const upTo = Math.max(2 * chosenValue, ladder[Math.min(ladder.length - 1, 4)] as number);
  const values = ladder.filter((v) => v <= upTo);
  const below = step(chosen.configuration, knob, -1, space);
  const above = step(chosen.configuration, knob, 1, space);
  const virtualAt = new Map<number, Prediction>();
  const warnings: string[] = [];
  const runs = [chosen.configuration, below, above].filter((c): c is PlanConfiguration => c !== undefined);
  for (const [i, c] of runs.entries()) {
    q.progress?.(`confirming with the virtual-time pipeline ${i + 1}/${runs.length}: ${knob} = ${String(c[knob])}`);
    try {
      virtualAt.set((c[knob] ?? 1) as number, applyFloors(await predictors.virtual(q.model, c, workload), q.target, limits));
    } catch (e) {
      warnings.push(`the virtual-time pipeline could not run ${knob} = ${String(c[knob])}: ${(e as Error).message}; the closed form stands alone there`);
    }
  }
  const sloMs = q.sloSeconds * 1000;
  const curve: CurvePoint[] = [];
  for (const v of values) {
    const e = await ev.evaluate({ ...chosen.configuration, [knob]: v });
    const virtual = virtualAt.get(v);
    curve.push({ knob: v, makespanMs: e.prediction.makespanMs.p50, makespanHighMs: e.prediction.makespanMs.high, virtualMakespanMs: virtual?.makespanMs.p50 ?? null, cost: e.cost, meetsSlo: (virtual ?? e.prediction).makespanMs.high <= sloMs });
  }
  return { curve, confirmed: virtualAt.get(chosenValue) ?? chosen.prediction, warnings };
}

/** The recommendation with explicit predictors (tests give fixtures; `recommend` gives the planner's own). */
export async function recommendWith(q: PlanQuestion, predictors: Predictors): Promise<PlanAnswer> {
  const workload: Workload = { users: q.users, tickets: q.tickets };
  const sloMs = q.sloSeconds * 1000;
  const limits = planLimits(q.target, workload, q.sloSeconds, q.params);
  const space = searchSpace(q.target, workload, limits, q.params);
  const ev = new Evaluator(predictors.closedForm, q.model, workload, q.target, limits);
  const started = performance.now();
  const all = await candidates(ev, space, await walk(ev, space));
  q.progress?.(`searched ${ev.seen.size} configurations with the closed form in ${Math.round(performance.now() - started)} ms`);
  const hard = hardInfeasibilities(limits, workload, q.sloSeconds, q.params);
  const meeting = hard.length === 0 ? cheapestMeeting(all, sloMs) : undefined;
  const chosen = meeting ?? fastest(all);
  const infeasible = meeting !== undefined ? [] : hard.length > 0 ? hard : [softInfeasibility(q, chosen, sloMs)];
  const knob: Knob = q.target === 'google' ? 'spannerNodes' : 'spannerShards';
  const { curve, confirmed, warnings } = await curveOf(q, predictors, ev, space, chosen, knob, limits, workload);
  // The confirmation may disagree with the search: say so rather than hide it.
  if (meeting !== undefined && confirmed.makespanMs.high > sloMs) {
    warnings.push(`the virtual-time pipeline predicts ${fmt(confirmed.makespanMs.high / 1000)} s (high bound) for the chosen configuration, above the SLO the closed form met (${fmt(chosen.prediction.makespanMs.high / 1000)} s); take the next step of ${knob} in the curve`);
  }
  return {
    question: { users: q.users, tickets: q.tickets, sloSeconds: q.sloSeconds, target: q.target },
    feasible: infeasible.length === 0,
    infeasible,
    configuration: chosen.configuration,
    cost: chosen.cost,
    prediction: confirmed,
    closedForm: chosen.prediction,
    headroom: headroomOf(confirmed, sloMs),
    mainKnob: { name: knob, label: knob === 'spannerNodes' ? 'Spanner nodes' : 'Spanner shards (emulator databases)' },
    curve,
    limits,
    assumptions: assumptionsOf(q, limits),
    parameters: parametersUsed(q.params),
    warnings: [...new Set([...confirmed.warnings, ...chosen.prediction.warnings, ...warnings])],
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
