// A plan as the run record's capacityPlan section (reports/record/capacity-plan.ts) and as a run
// record of command "plan": the figures gates and tables compare (predicted makespan, notify
// latency, nodes or shards, headroom), the configuration asked, and the section report.html draws.
import { RunRecorder } from '../reports/record/recorder.ts';
import type { CapacityPlanSection } from '../reports/record/capacity-plan.ts';
import type { RunRecord } from '../reports/record/schema.ts';
import type { CostModel } from './contracts.ts';
import type { PlanAnswer } from './recommend.ts';

/** A JSON-safe number: an unbounded figure (a USL peak of Infinity) is not one. */
const safe = (n: number): number => (Number.isFinite(n) ? n : 0);

export function capacityPlanSection(a: PlanAnswer, model: CostModel): CapacityPlanSection {
  const p = a.prediction;
  const configuration: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(a.configuration)) if (typeof v === 'number' || typeof v === 'string') configuration[k] = v;
  return {
    version: 1,
    question: { ...a.question },
    feasible: a.feasible,
    infeasible: a.infeasible.map((i) => ({ code: i.code, reason: i.reason })),
    configuration,
    cost: a.cost,
    predicted: {
      method: p.method,
      makespanMs: { ...p.makespanMs },
      notifyMakespanMs: { ...p.notifyMakespanMs },
      notifyLatencyMs: { ...p.notifyLatencyMs },
      throughputUsersPerSecond: safe(p.throughputUsersPerSecond),
      bottleneck: p.bottleneck,
      utilisation: Object.fromEntries(Object.entries(p.utilisation).map(([k, v]) => [k, safe(v)])),
      extrapolation: safe(p.extrapolation),
    },
    headroom: { ...a.headroom },
    mainKnob: { name: a.mainKnob.name, label: a.mainKnob.label },
    curve: a.curve.map((c) => ({ ...c })),
    assumptions: [...a.assumptions],
    parameters: a.parameters.map((x) => ({ ...x })),
    warnings: [...a.warnings],
    model: { target: model.target, measuredAt: model.measuredAt, sources: [...model.sources] },
  };
}

export interface PlanRecordInput {
  readonly answer: PlanAnswer;
  readonly model: CostModel;
  readonly argv: readonly string[];
  readonly scenario: string;
  readonly recorder?: RunRecorder;
}

/** The run record of one `raceday plan`: ok when the plan is feasible. */
export function planRecord(i: PlanRecordInput): RunRecord {
  const a = i.answer;
  const rec = i.recorder ?? new RunRecorder({ command: 'plan', argv: i.argv, scenario: i.scenario, backend: a.question.target, seed: null, clock: 'virtual' }).start();
  rec.configure({ plan: { ...a.question }, recommendation: capacityPlanSection(a, i.model).configuration });
  const p = a.prediction;
  rec.figures({
    'capacity.makespanP50Ms': p.makespanMs.p50,
    'capacity.makespanHighMs': p.makespanMs.high,
    'capacity.notifyLatencyP50Ms': p.notifyLatencyMs.p50,
    'capacity.notifyLatencyP99Ms': p.notifyLatencyMs.p99,
    'capacity.headroomMs': a.headroom.marginMs,
    ...(a.headroom.notify === undefined ? {} : { 'capacity.notifyLatencyHeadroomMs': a.headroom.notify.marginMs }),
    'capacity.cost': a.cost,
    [`capacity.${a.mainKnob.name}`]: (a.configuration[a.mainKnob.name] ?? 1) as number,
    'capacity.searched': a.searched,
  });
  for (const i2 of a.infeasible) rec.error(`${i2.code}: ${i2.reason}`);
  return { ...rec.stop(a.feasible), capacityPlan: capacityPlanSection(a, i.model) };
}
