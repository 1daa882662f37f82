// The capacityPlan section of a run record, as `raceday plan --out DIR` writes it: the question,
// the recommended configuration, its predicted makespan and notification latency with their
// intervals, the bottleneck and headroom, the curve of makespan against the main knob, the
// assumptions and every cloud parameter used with its source. The record's schema keeps the
// section as free JSON (it only grows); this is the shape report.html draws from, checked on read
// so a section of another shape falls back to a plain key/value table instead of a broken chart.
import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const interval = z.object({ p50: finite, low: finite, high: finite });

export const capacityPlanSchema = z.object({
  version: z.literal(1),
  question: z.object({ users: finite, tickets: finite, sloSeconds: finite, notifyP99Seconds: finite.optional(), target: z.string() }),
  feasible: z.boolean(),
  infeasible: z.array(z.object({ code: z.string(), reason: z.string() })),
  /** The recommended configuration (the fastest found when infeasible), knob -> value. */
  configuration: z.record(z.string(), z.union([finite, z.string()])),
  cost: finite,
  predicted: z.object({
    method: z.string(),
    makespanMs: interval,
    notifyMakespanMs: interval,
    notifyLatencyMs: z.object({ p50: finite, p99: finite, p99High: finite }),
    throughputUsersPerSecond: finite,
    bottleneck: z.string(),
    utilisation: z.record(z.string(), finite),
    extrapolation: finite,
  }),
  headroom: z.object({
    sloMs: finite,
    predictedHighMs: finite,
    marginMs: finite,
    marginShare: finite,
    bottleneck: z.string(),
    bottleneckUtilisation: finite,
    /** Against the notification-latency SLO, when the plan was asked for one. */
    notify: z.object({ sloMs: finite, predictedHighMs: finite, marginMs: finite, marginShare: finite }).optional(),
  }),
  mainKnob: z.object({ name: z.string(), label: z.string() }),
  curve: z.array(z.object({ knob: finite, makespanMs: finite, makespanHighMs: finite, virtualMakespanMs: finite.nullable(), cost: finite, meetsSlo: z.boolean() })),
  assumptions: z.array(z.string()),
  parameters: z.array(z.object({ name: z.string(), value: finite, unit: z.string(), kind: z.string(), source: z.string(), url: z.string(), asOf: z.string(), overridden: z.boolean() })),
  warnings: z.array(z.string()),
  model: z.object({ target: z.string(), measuredAt: z.string(), sources: z.array(z.string()) }),
});

export type CapacityPlanSection = z.infer<typeof capacityPlanSchema>;

/** The section when it has the shape above; undefined otherwise (absent, or written by something else). */
export function capacityPlanOf(value: unknown): CapacityPlanSection | undefined {
  const r = capacityPlanSchema.safeParse(value);
  return r.success ? r.data : undefined;
}
