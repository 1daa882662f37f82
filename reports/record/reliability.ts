// The run record's `reliability` section: what `raceday chaos` measured, per run and in total,
// and a soak's drift. The chaos runs build it (chaos/record.ts, which checks it against the
// seam's ReliabilityFigures); the report pages read it through this schema. It lives with the
// record because the reports may read the record's sections but not the code that writes them.
import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const count = z.number().int().nonnegative();
const counts = z.record(z.string().min(1), count);

export const faultEventSchema = z.object({
  kind: z.string().min(1),
  target: z.string(),
  phase: z.string(),
  atMs: finite,
  durationMs: finite.pipe(z.number().nonnegative()),
  recoveredAfterMs: finite.pipe(z.number().nonnegative()).nullable(),
});

const recovery = z.object({ p50: finite, max: finite });

/** What a run settled and delivered, the same fields per run and in total. */
const outcomeFields = {
  tickets: count,
  settledExactlyOnce: count,
  lost: count,
  doubled: count,
  deadLettered: counts,
  notificationsLostAfterRecovery: count,
  notificationsDuplicatedAfterRecovery: count,
  /** The reconciler's re-drives (absent in records made before it existed). */
  redriven: z.object({ fanouts: count, races: count, users: count }).optional(),
};

/** One chaos run (one seed): chaos/contracts.ts ReliabilityFigures. */
export const reliabilityFiguresSchema = z.object({
  seed: count,
  scenario: z.string(),
  faultsByKind: counts,
  faults: z.array(faultEventSchema),
  ...outcomeFields,
  users: count,
  recoveryMs: recovery,
  ok: z.boolean(),
  violations: z.array(z.string()),
});

/** Every run added up; recovery over every fault of every run. */
export const reliabilityTotalsSchema = z.object({
  runs: count,
  faultsByKind: counts,
  faults: count,
  ...outcomeFields,
  /** Faults whose recovery was measured, and those after which the stage had nothing left to do. */
  recoveryMeasured: count,
  recoveryNotNeeded: count,
  recoveryMs: recovery,
  failedRuns: count,
  ok: z.boolean(),
});

export const driftSchema = z.object({
  metric: z.string().min(1),
  unit: z.string().min(1),
  samples: count,
  warmupSamples: count,
  slopePerMin: finite,
  lowPerMin: finite,
  highPerMin: finite,
  thresholdPerMin: finite,
  median: finite,
  verdict: z.enum(['no unbounded growth', 'growing', 'inconclusive', 'too few samples']),
});

const soakPoint = z.object({ tMs: finite, value: finite, group: z.string().optional() });

export const soakSchema = z.object({
  minutes: finite,
  days: count,
  windowMs: finite,
  /** Every metric's samples over the soak (ms since it began): what the drift chart draws. */
  samples: z.array(z.object({ metric: z.string().min(1), unit: z.string().min(1), points: z.array(soakPoint) })),
  drift: z.array(driftSchema),
  /** "no unbounded growth" only when every metric says so. */
  verdict: z.string(),
});

export const reliabilitySectionSchema = z.object({
  runs: z.array(reliabilityFiguresSchema),
  totals: reliabilityTotalsSchema,
  soak: soakSchema.optional(),
});

export type ReliabilitySection = z.infer<typeof reliabilitySectionSchema>;
export type ReliabilityRun = z.infer<typeof reliabilityFiguresSchema>;
export type ReliabilityTotals = z.infer<typeof reliabilityTotalsSchema>;
export type SoakSection = z.infer<typeof soakSchema>;
export type DriftRecord = z.infer<typeof driftSchema>;

/** The section of a record, validated; a message naming the field when it is not one. */
export function parseReliability(value: unknown): { ok: true; value: ReliabilitySection } | { ok: false; message: string } {
  const r = reliabilitySectionSchema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  const path = (issue?.path ?? []).map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  return { ok: false, message: `reliability${path}: ${issue?.message ?? 'invalid'}` };
}
