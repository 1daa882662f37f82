// The run record (metrics.json): everything a run measured, in one versioned, documented JSON
// document (docs/run-record.md), from which every output (summary.md, junit.xml, metrics.prom,
// report.html) is generated, now or later by `raceday report`. Latencies are kept as encoded HDR
// histograms per time interval, never as percentiles, so records of several runs or workers merge
// exactly and percentiles over time are computed from whole intervals, not rolling windows.
//
// Stability: version 1 only grows. New fields are optional and announced; a field never changes
// meaning or type without a new schemaVersion. A record is validated whenever it is read.
import { inflateSync } from 'node:zlib';
import * as hdr from 'hdr-histogram-js';
import { z } from 'zod';
import type { Result } from '../../core/result.ts';

export const RUN_RECORD_SCHEMA_VERSION = 1;

/** Stage names the commands use; a record may carry others (kebab-case). */
export const KNOWN_STAGES = ['settle', 'notify', 'ranking', 'e2e', 'gateway-delivery'] as const;

/** What a timeline measures: tells a report how to draw and name it. */
export const SERIES_KINDS = ['throughput', 'backlog', 'oldest-unacked-age', 'buffer-occupancy', 'memory', 'progress', 'other'] as const;

export const GATE_STATUSES = ['pass', 'fail', 'inconclusive', 'breach', 'error'] as const;

const kebab = z.string().regex(/^[a-z][a-z0-9.-]*$/, 'must be kebab-case: lower-case letters, digits, "-" and "."');
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const nonNegInt = z.number().int().nonnegative();
const figures = z.record(z.string().min(1), finite);

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
const json: z.ZodType<Json> = z.lazy(() => z.union([z.string(), finite, z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]));

/** An HDR histogram as hdr-histogram-js encodes it (compressed, base64): always starts "HIST". */
const encodedHistogram = z.string().regex(/^HIST[A-Za-z0-9+/]*={0,2}$/, 'must be an HDR histogram encoded with encodeIntoCompressedBase64 (base64 starting "HIST")');

const interval = z.object({
  /** Interval start, ms since the run's start (inclusive). */
  startMs: finite.pipe(z.number().nonnegative()),
  /** Interval end, ms since the run's start (exclusive). */
  endMs: finite,
  /** Latencies that completed in [startMs, endMs), in the stage's unit. */
  histogram: encodedHistogram,
});

const stage = z.object({
  name: kebab,
  /** Microseconds for every stage a command writes. */
  unit: z.literal('us'),
  /** What is measured, from which event to which (one sentence). */
  description: z.string(),
  intervals: z.array(interval),
  /**
   * Every interval added: the stage over the whole run (added in version 1, optional). Saves
   * readers decoding every interval for the run's percentiles; without it they add the intervals.
   */
  total: encodedHistogram.optional(),
});

const point = z.object({ tMs: finite, value: finite });

const series = z.object({
  name: kebab,
  kind: z.enum(SERIES_KINDS),
  /** e.g. "messages", "messages/s", "ms", "bytes". */
  unit: z.string().min(1),
  points: z.array(point),
});

const invariantResult = z.object({
  name: z.string().min(1),
  ok: z.boolean(),
  violations: z.array(z.string()),
});

const loadAverage = z.tuple([finite, finite, finite]);

const environment = z.object({
  cpuModel: z.string(),
  cpuCount: nonNegInt,
  totalMemoryBytes: nonNegInt,
  node: z.string(),
  os: z.string(),
  arch: z.string(),
  ci: z.boolean(),
  /** Emulator or service versions where known (name -> version). */
  emulators: z.record(z.string(), z.string()),
  /** os.loadavg() when the run started and when it ended (1, 5, 15 minutes; [0,0,0] on Windows). */
  loadAverage: z.object({ start: loadAverage, end: loadAverage }),
});

const sample = z.object({
  /** Which repeat of the variant this is (0-based). */
  repeat: nonNegInt,
  /** Position in the interleaved run order across all variants (0-based), for ABBA analysis. */
  order: nonNegInt,
  figures,
});

const variant = z.object({
  name: z.string().min(1),
  settings: z.record(z.string(), z.union([z.string(), finite, z.boolean()])),
  samples: z.array(sample),
});

const gate = z.object({
  name: z.string().min(1),
  status: z.enum(GATE_STATUSES),
  /** The figure the gate judged (e.g. "makespanMs"), where one. */
  metric: z.string().optional(),
  /** One sentence with the numbers: observed, threshold, interval. */
  message: z.string(),
  /** The numbers behind the verdict (observed, baseline, threshold, ciLow, ciHigh, pValue...). */
  values: figures.optional(),
});

export const runRecordSchema = z.object({
  schemaVersion: z.literal(RUN_RECORD_SCHEMA_VERSION),
  runId: z.string().min(1),
  /** The command that produced the record, e.g. "run", "bench memory", "sim". */
  command: z.string().min(1),
  argv: z.array(z.string()),
  scenario: z.string(),
  backend: z.string(),
  seed: nonNegInt.nullable(),
  /** ISO 8601 wall-clock time the run started. */
  startedAt: z.iso.datetime({ offset: true }),
  wallMs: finite.pipe(z.number().nonnegative()),
  /** Time figures measured in virtual (simulated) time are exactly reproducible; wall ones are not. */
  clock: z.enum(['wall', 'virtual']),
  /** The command's own verdict: invariants held and the run completed. */
  ok: z.boolean(),
  configuration: z.record(z.string(), json),
  environment,
  /** The nominal length of a latency interval, ms. */
  intervalMs: finite.pipe(z.number().positive()),
  stages: z.array(stage),
  series: z.array(series),
  invariants: z.array(invariantResult),
  counters: z.record(z.string().min(1), finite),
  /** Scalar results of the run (makespanMs, settledTickets, ...): what gates and tables compare. */
  figures,
  variants: z.array(variant),
  gates: z.array(gate),
  errors: z.array(z.string()),
  /**
   * Optional sections later commands add, kept as JSON whose shape their owners define:
   * operation service-time samples for the capacity planner (planner/), the capacity plan of
   * `raceday plan`, and the reliability figures of `raceday chaos`.
   */
  profile: json.optional(),
  capacityPlan: json.optional(),
  reliability: json.optional(),
});

export type RunRecord = z.infer<typeof runRecordSchema>;
export type StageRecord = RunRecord['stages'][number];
export type IntervalRecord = StageRecord['intervals'][number];
export type SeriesRecord = RunRecord['series'][number];
export type SeriesKind = (typeof SERIES_KINDS)[number];
export type InvariantRecord = RunRecord['invariants'][number];
export type EnvironmentRecord = RunRecord['environment'];
export type VariantRecord = RunRecord['variants'][number];
export type SampleRecord = VariantRecord['samples'][number];
export type GateRecord = RunRecord['gates'][number];
export type GateStatus = (typeof GATE_STATUSES)[number];

export type RecordErrorCode = 'RECORD.NOT_JSON' | 'RECORD.UNREADABLE' | 'RECORD.SCHEMA_VERSION' | 'RECORD.INVALID' | 'RECORD.HISTOGRAM';

export interface RecordError {
  readonly code: RecordErrorCode;
  /** One sentence naming the field, e.g. `stages[0].intervals[3].endMs: must be a finite number`. */
  readonly message: string;
  /** The field, e.g. `stages[0].intervals[3].endMs`. */
  readonly path?: string;
}

/** `stages.0.name` -> `stages[0].name`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out === '' ? '' : '.'}${String(p)}`;
  return out;
}

function fail(code: RecordErrorCode, message: string, path?: string): { ok: false; error: RecordError } {
  return { ok: false, error: path === undefined ? { code, message } : { code, message, path } };
}

export interface ParseOptions {
  /** Check every histogram is whole: its headers and its compressed payload (default true; ~20 µs each). */
  readonly decodeHistograms?: boolean;
}

/**
 * Validates a run record: a JSON text or an already parsed value. Every error names the field.
 * A record of another schemaVersion is refused with RECORD.SCHEMA_VERSION before anything else.
 */
export function parseRunRecord(input: unknown, options: ParseOptions = {}): Result<RunRecord, RecordError> {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (e) {
      return fail('RECORD.NOT_JSON', `run record is not JSON: ${(e as Error).message}`);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('RECORD.INVALID', 'run record must be a JSON object');
  const version = (value as Record<string, unknown>)['schemaVersion'];
  if (version !== RUN_RECORD_SCHEMA_VERSION) {
    return fail('RECORD.SCHEMA_VERSION', `schemaVersion: this raceday reads run records of version ${RUN_RECORD_SCHEMA_VERSION}, got ${JSON.stringify(version ?? null)}`, 'schemaVersion');
  }
  const parsed = runRecordSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = fieldPath(issue?.path ?? []);
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problems)` : '';
    return fail('RECORD.INVALID', `${path === '' ? 'run record' : path}: ${issue?.message ?? 'invalid'}${more}`, path);
  }
  const record = parsed.data;
  const order = checkIntervals(record);
  if (order !== undefined) return order;
  if (options.decodeHistograms !== false) {
    for (const [s, st] of record.stages.entries()) {
      const all: (readonly [string, string])[] = st.intervals.map((iv, i) => [`stages[${s}].intervals[${i}].histogram`, iv.histogram] as const);
      if (st.total !== undefined) all.push([`stages[${s}].total`, st.total]);
      for (const [path, encoded] of all) {
        const problem = encodedHistogramProblem(encoded);
        if (problem !== undefined) return fail('RECORD.HISTOGRAM', `${path}: not a whole HDR histogram (${problem})`, path);
      }
    }
  }
  return { ok: true, value: record };
}

/** Intervals of a stage are ordered, non-overlapping and each ends after it starts; stage names are unique. */
function checkIntervals(record: RunRecord): { ok: false; error: RecordError } | undefined {
  const names = new Set<string>();
  for (const [s, st] of record.stages.entries()) {
    if (names.has(st.name)) return fail('RECORD.INVALID', `stages[${s}].name: stage "${st.name}" appears twice`, `stages[${s}].name`);
    names.add(st.name);
    let lastEnd = 0;
    for (const [i, iv] of st.intervals.entries()) {
      const path = `stages[${s}].intervals[${i}]`;
      if (iv.endMs <= iv.startMs) return fail('RECORD.INVALID', `${path}.endMs: must be after startMs (${iv.startMs}), got ${iv.endMs}`, `${path}.endMs`);
      if (iv.startMs < lastEnd) return fail('RECORD.INVALID', `${path}.startMs: intervals must be in order without overlap, ${iv.startMs} starts before the previous end ${lastEnd}`, `${path}.startMs`);
      lastEnd = iv.endMs;
    }
  }
  return undefined;
}

/** The histogram shape every stage uses: 1 µs to one hour, 3 significant digits. */
export function createStageHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

export function encodeHistogram(h: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Throws when the text is not a whole encoded histogram. */
export function decodeHistogram(encoded: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(encoded);
}

/** HdrHistogram's V2 cookies (the low nibble of the wordsize byte is masked off). */
const COMPRESSED_COOKIE = 0x1c849304;
const PAYLOAD_COOKIE = 0x1c849303;
/** The V2 payload header: cookie, payload length, offset, digits, lowest unit, highest, ratio. */
const PAYLOAD_HEADER_BYTES = 40;

/**
 * Why an encoded histogram is not whole, or undefined when it is: both V2 cookies, the lengths
 * they declare, and a compressed payload that inflates. About ten times cheaper than decoding
 * (which allocates the whole count array), so a long run's record is checked in well under a second.
 */
export function encodedHistogramProblem(encoded: string): string | undefined {
  const b = Buffer.from(encoded, 'base64');
  if (b.length < 8 || (b.readInt32BE(0) & ~0xf0) !== COMPRESSED_COOKIE) return 'no compressed-encoding cookie';
  if (b.readInt32BE(4) !== b.length - 8) return `declares ${b.readInt32BE(4)} compressed bytes, holds ${b.length - 8}`;
  let p: Buffer;
  try {
    p = inflateSync(b.subarray(8));
  } catch (e) {
    return `payload does not inflate: ${(e as Error).message}`;
  }
  if (p.length < PAYLOAD_HEADER_BYTES || (p.readInt32BE(0) & ~0xf0) !== PAYLOAD_COOKIE) return 'no encoding cookie in the payload';
  if (p.readInt32BE(4) !== p.length - PAYLOAD_HEADER_BYTES) return `payload declares ${p.readInt32BE(4)} bytes, holds ${p.length - PAYLOAD_HEADER_BYTES}`;
  return undefined;
}
