// mergeRecords: several run records (repeats of a run, or the workers of one run) as the record of
// their union. Latency is exact: a stage's histograms are added interval by interval, so the
// merged percentiles are those of every latency of every record together. The rest follows what
// "one run made of these parts" means (docs/run-record.md, Merging): counters add up; a figure
// named ...Ms is a time and takes the latest (a merged run ends when its last part ends); other
// figures add up, except a stage's percentiles, recomputed from the merged histograms; invariants hold only where they held in every part.
import { addEncoded, stageFigures } from './histograms.ts';
import { RUN_RECORD_SCHEMA_VERSION, type InvariantRecord, type RunRecord, type SeriesRecord, type StageRecord, type VariantRecord } from './schema.ts';
import { newRunId } from './recorder.ts';

export class MergeError extends Error {
  override readonly name = 'MergeError';
}

/** One value when every record agrees, else the distinct values joined with "+". */
function agreed(values: readonly string[]): string {
  return [...new Set(values)].join('+');
}

function mergeStages(records: readonly RunRecord[]): StageRecord[] {
  const byName = new Map<string, { description: string; totals: (string | undefined)[]; byStart: Map<number, { endMs: number; parts: string[] }> }>();
  for (const r of records) {
    for (const st of r.stages) {
      let m = byName.get(st.name);
      if (m === undefined) {
        m = { description: st.description, totals: [], byStart: new Map() };
        byName.set(st.name, m);
      }
      m.totals.push(st.total);
      for (const iv of st.intervals) {
        const slot = m.byStart.get(iv.startMs);
        if (slot === undefined) m.byStart.set(iv.startMs, { endMs: iv.endMs, parts: [iv.histogram] });
        else if (slot.endMs !== iv.endMs) throw new MergeError(`stage ${st.name}: the interval starting at ${iv.startMs} ms ends at ${slot.endMs} ms in one record and ${iv.endMs} ms in another`);
        else slot.parts.push(iv.histogram);
      }
    }
  }
  return [...byName.entries()].map(([name, m]) => ({
    name,
    unit: 'us' as const,
    description: m.description,
    intervals: [...m.byStart.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([startMs, slot]) => ({ startMs, endMs: slot.endMs, histogram: slot.parts.length === 1 ? (slot.parts[0] as string) : addEncoded(slot.parts) })),
    // The whole-run totals add like the intervals; a part without one leaves readers to add the intervals.
    ...(m.totals.every((t) => t !== undefined) ? { total: addEncoded(m.totals as string[]) } : {}),
  }));
}

function mergeSeries(records: readonly RunRecord[]): SeriesRecord[] {
  const byName = new Map<string, SeriesRecord>();
  for (const r of records) {
    for (const s of r.series) {
      const m = byName.get(s.name);
      if (m === undefined) byName.set(s.name, { ...s, points: [...s.points] });
      else m.points.push(...s.points);
    }
  }
  return [...byName.values()].map((s) => ({ ...s, points: s.points.sort((a, b) => a.tMs - b.tMs) }));
}

function mergeInvariants(records: readonly RunRecord[]): InvariantRecord[] {
  const byName = new Map<string, InvariantRecord>();
  for (const r of records) {
    for (const i of r.invariants) {
      const m = byName.get(i.name);
      byName.set(i.name, m === undefined ? { ...i, violations: [...i.violations] } : { name: i.name, ok: m.ok && i.ok, violations: [...m.violations, ...i.violations] });
    }
  }
  return [...byName.values()];
}

function mergeNumbers(records: readonly RunRecord[], pick: (r: RunRecord) => Readonly<Record<string, number>>, isTime: (name: string) => boolean): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of records) {
    for (const [k, v] of Object.entries(pick(r))) {
      const prev = out[k];
      out[k] = prev === undefined ? v : isTime(k) ? Math.max(prev, v) : prev + v;
    }
  }
  return out;
}

function mergeVariants(records: readonly RunRecord[]): VariantRecord[] {
  const byName = new Map<string, VariantRecord>();
  for (const r of records) {
    for (const v of r.variants) {
      const m = byName.get(v.name);
      if (m === undefined) byName.set(v.name, { ...v, samples: [...v.samples] });
      else m.samples.push(...v.samples);
    }
  }
  return [...byName.values()];
}

const isTimeFigure = (name: string): boolean => /Ms$/.test(name);

/** The record of the union of `records` (at least one; all of schemaVersion 1 and the same intervalMs). */
export function mergeRecords(records: readonly RunRecord[]): RunRecord {
  const first = records[0];
  if (first === undefined) throw new MergeError('nothing to merge: give at least one run record');
  if (records.length === 1) return first;
  const interval = records.find((r) => r.intervalMs !== first.intervalMs);
  if (interval !== undefined) throw new MergeError(`run ${interval.runId} has ${interval.intervalMs} ms intervals and run ${first.runId} ${first.intervalMs} ms: only records with the same intervalMs merge exactly`);
  const seeds = new Set(records.map((r) => r.seed));
  const starts = records.map((r) => r.startedAt).sort();
  const clocks = new Set(records.map((r) => r.clock));
  const stages = mergeStages(records);
  return {
    schemaVersion: RUN_RECORD_SCHEMA_VERSION,
    runId: `merged-${newRunId()}`,
    command: agreed(records.map((r) => r.command)),
    argv: [...first.argv],
    scenario: agreed(records.map((r) => r.scenario)),
    backend: agreed(records.map((r) => r.backend)),
    seed: seeds.size === 1 ? first.seed : null,
    startedAt: starts[0] as string,
    wallMs: Math.max(...records.map((r) => r.wallMs)),
    clock: clocks.size === 1 ? first.clock : 'wall',
    ok: records.every((r) => r.ok),
    configuration: { ...first.configuration, mergedFrom: records.map((r) => r.runId) },
    environment: first.environment,
    intervalMs: first.intervalMs,
    stages,
    series: mergeSeries(records),
    invariants: mergeInvariants(records),
    counters: mergeNumbers(records, (r) => r.counters, () => false),
    // A stage's percentiles are recomputed from the merged histograms, never combined.
    figures: { ...mergeNumbers(records, (r) => r.figures, isTimeFigure), ...stageFigures(stages) },
    variants: mergeVariants(records),
    gates: records.flatMap((r) => r.gates),
    errors: records.flatMap((r) => r.errors),
  };
}
