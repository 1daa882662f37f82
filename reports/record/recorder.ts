// RunRecorder: what a command uses to build its run record while it runs. start() stamps the
// start (wall clock, load average); recordLatency puts a latency into its stage's histogram for
// the interval in which it completed; point() appends to a timeline; invariants, counters and
// figures are set as they become known; stop() stamps the end and returns the record.
//
// Memory: a 32-bit HDR histogram over 1 µs..1 h holds ~94 KB of counts, so only the last few
// intervals of a stage stay open; older ones are encoded (a few hundred bytes) and reopened only
// if a late latency lands in them. An hour at 1 s intervals costs kilobytes per stage, not GBs.
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, release, totalmem } from 'node:os';
import type * as hdr from 'hdr-histogram-js';
import { stageFigures } from './histograms.ts';
import { createStageHistogram, decodeHistogram, encodeHistogram, RUN_RECORD_SCHEMA_VERSION, type EnvironmentRecord, type GateRecord, type InvariantRecord, type RunRecord, type SampleRecord, type SeriesKind, type SeriesRecord, type VariantRecord } from './schema.ts';

export interface RecorderOptions {
  readonly command: string;
  readonly argv: readonly string[];
  readonly scenario: string;
  readonly backend: string;
  readonly seed: number | null;
  readonly clock?: 'wall' | 'virtual';
  /** Latency interval length, ms (default 1000). */
  readonly intervalMs?: number;
  /** Monotonic ms (default performance.now). */
  readonly now?: () => number;
  readonly configuration?: RunRecord['configuration'];
}

/** Intervals of a stage kept open (decoded) at once. */
const OPEN_INTERVALS = 4;
/** The highest latency a stage histogram tracks: one hour in µs. */
const LATENCY_US_MAX = 3_600_000_000;

interface StageState {
  description: string;
  /** Every latency of the stage: the whole-run histogram, kept as it goes (no sum of intervals at stop). */
  readonly total: hdr.Histogram;
  readonly open: Map<number, hdr.Histogram>;
  readonly closed: Map<number, string>;
}

/** A run id that sorts by time and does not collide: 2026-12-01T16-30-00Z-a1b2c3. */
export function newRunId(at: Date = new Date()): string {
  return `${at.toISOString().slice(0, 19).replace(/:/g, '-')}Z-${randomBytes(3).toString('hex')}`;
}

/** A stage or series name as the schema wants it (kebab-case): "Settle Requests" -> "settle-requests". */
export function kebabName(name: string): string {
  const k = name.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z]+/, '').replace(/-+$/, '');
  return k === '' ? 'unnamed' : k;
}

export function captureEnvironment(): Omit<EnvironmentRecord, 'loadAverage'> {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpuCount: list.length,
    totalMemoryBytes: totalmem(),
    node: process.version,
    os: `${process.platform} ${release()}`,
    arch: process.arch,
    ci: process.env['CI'] !== undefined && process.env['CI'] !== '' && process.env['CI'] !== 'false',
    emulators: {},
  };
}

const load3 = (): [number, number, number] => {
  const [a = 0, b = 0, c = 0] = loadavg();
  return [a, b, c];
};

export class RunRecorder {
  private readonly o: RecorderOptions;
  private readonly now: () => number;
  readonly intervalMs: number;
  private t0 = 0;
  private startedAt = new Date();
  private loadStart: [number, number, number] = [0, 0, 0];
  private started = false;
  private readonly stages = new Map<string, StageState>();
  private readonly series = new Map<string, SeriesRecord>();
  private readonly invariantList: InvariantRecord[] = [];
  private readonly counterMap: Record<string, number> = {};
  private readonly figureMap: Record<string, number> = {};
  private readonly configuration: Record<string, RunRecord['configuration'][string]>;
  private readonly emulators: Record<string, string> = {};
  private readonly variantMap = new Map<string, VariantRecord>();
  private readonly gateList: GateRecord[] = [];
  private readonly errorList: string[] = [];
  private sampleOrder = 0;

  constructor(o: RecorderOptions) {
    this.o = o;
    this.now = o.now ?? (() => performance.now());
    this.intervalMs = o.intervalMs ?? 1000;
    if (!(this.intervalMs > 0)) throw new Error(`invariant violated: intervalMs must be positive, got ${this.intervalMs}`);
    this.configuration = { ...(o.configuration ?? {}) };
  }

  /** Stamps the start: every tMs and interval is measured from here. */
  start(): this {
    this.t0 = this.now();
    this.startedAt = new Date();
    this.loadStart = load3();
    this.started = true;
    return this;
  }

  /** The start, in the recorder's clock (performance.now() by default): converts other readings of it to run time. */
  get originMs(): number {
    return this.t0;
  }

  /** ms since start(). */
  elapsedMs(): number {
    return this.now() - this.t0;
  }

  /** Names what a stage measures (from which event to which); shown in every report. */
  describeStage(stage: string, description: string): void {
    this.stageState(kebabName(stage)).description = description;
  }

  /**
   * One latency (ms, kept in µs) of a stage, in the interval where it completed: `atMs` since
   * start(), default now. Latencies below 1 µs count as 1 µs, above an hour as an hour.
   */
  recordLatency(stage: string, latencyMs: number, atMs: number = this.elapsedMs()): void {
    if (!Number.isFinite(latencyMs) || !Number.isFinite(atMs)) return;
    const us = Math.min(LATENCY_US_MAX, Math.max(1, Math.round(latencyMs * 1000)));
    const st = this.stageState(kebabName(stage));
    this.histogramAt(st, Math.max(0, Math.floor(atMs / this.intervalMs))).recordValue(us);
    st.total.recordValue(us);
  }

  /** Declares a timeline (kind and unit); point() declares one as `other` when it was not. */
  defineSeries(series: string, kind: SeriesKind, unit: string): void {
    const name = kebabName(series);
    if (!this.series.has(name)) this.series.set(name, { name, kind, unit, points: [] });
  }

  /** A point of a timeline at `tMs` since start() (default now). */
  point(series: string, value: number, tMs: number = this.elapsedMs()): void {
    if (!Number.isFinite(value)) return;
    const name = kebabName(series);
    this.defineSeries(name, 'other', 'value');
    (this.series.get(name) as SeriesRecord).points.push({ tMs: Math.round(tMs * 1000) / 1000, value });
  }

  invariant(result: Omit<InvariantRecord, 'violations'> & { readonly violations: readonly string[] }): void {
    this.invariantList.push({ name: result.name, ok: result.ok, violations: [...result.violations] });
  }

  count(name: string, delta = 1): void {
    this.counterMap[name] = (this.counterMap[name] ?? 0) + delta;
  }

  /** Copies a counter object's finite numbers (nested objects become `outer.inner`). */
  counters(values: Readonly<Record<string, unknown>>, prefix = ''): void {
    for (const [k, v] of Object.entries(values)) {
      if (typeof v === 'number' && Number.isFinite(v)) this.counterMap[`${prefix}${k}`] = v;
      else if (typeof v === 'object' && v !== null && !Array.isArray(v)) this.counters(v as Record<string, unknown>, `${prefix}${k}.`);
    }
  }

  figure(name: string, value: number): void {
    if (Number.isFinite(value)) this.figureMap[name] = value;
  }

  figures(values: Readonly<Record<string, number | undefined>>): void {
    for (const [k, v] of Object.entries(values)) if (v !== undefined) this.figure(k, v);
  }

  configure(values: RunRecord['configuration']): void {
    Object.assign(this.configuration, JSON.parse(JSON.stringify(values)) as RunRecord['configuration']);
  }

  emulatorVersion(name: string, version: string): void {
    this.emulators[name] = version;
  }

  /** One sample of a variant; `order` counts samples across all variants in the order they ran. */
  sample(variant: string, settings: VariantRecord['settings'], s: Omit<SampleRecord, 'order'> & { order?: number }): void {
    let v = this.variantMap.get(variant);
    if (v === undefined) {
      v = { name: variant, settings: { ...settings }, samples: [] };
      this.variantMap.set(variant, v);
    }
    v.samples.push({ repeat: s.repeat, order: s.order ?? this.sampleOrder, figures: { ...s.figures } });
    this.sampleOrder = Math.max(this.sampleOrder, (s.order ?? this.sampleOrder) + 1);
  }

  gate(g: GateRecord): void {
    this.gateList.push(g);
  }

  error(message: string): void {
    this.errorList.push(message);
  }

  /** Stamps the end and returns the record. The recorder can keep recording and stop again. */
  stop(ok: boolean): RunRecord {
    if (!this.started) throw new Error('invariant violated: RunRecorder.stop() before start()');
    const wallMs = Math.round(this.elapsedMs() * 1000) / 1000;
    const stages = [...this.stages.entries()].map(([name, st]) => ({ name, unit: 'us' as const, description: st.description, intervals: this.intervalsOf(st), total: encodeHistogram(st.total) }));
    const environment: EnvironmentRecord = { ...captureEnvironment(), emulators: { ...this.emulators }, loadAverage: { start: this.loadStart, end: load3() } };
    return {
      schemaVersion: RUN_RECORD_SCHEMA_VERSION,
      runId: newRunId(this.startedAt),
      command: this.o.command,
      argv: [...this.o.argv],
      scenario: this.o.scenario,
      backend: this.o.backend,
      seed: this.o.seed,
      startedAt: this.startedAt.toISOString(),
      wallMs,
      clock: this.o.clock ?? 'wall',
      ok,
      configuration: { ...this.configuration },
      environment,
      intervalMs: this.intervalMs,
      stages,
      series: [...this.series.values()].map((s) => ({ ...s, points: [...s.points].sort((a, b) => a.tMs - b.tMs) })),
      invariants: [...this.invariantList],
      counters: { ...this.counterMap },
      figures: { ...this.figureMap, ...stageFigures(stages) },
      variants: [...this.variantMap.values()].map((v) => ({ ...v, samples: [...v.samples] })),
      gates: [...this.gateList],
      errors: [...this.errorList],
    };
  }

  private stageState(name: string): StageState {
    let st = this.stages.get(name);
    if (st === undefined) {
      st = { description: '', total: createStageHistogram(), open: new Map(), closed: new Map() };
      this.stages.set(name, st);
    }
    return st;
  }

  private histogramAt(st: StageState, index: number): hdr.Histogram {
    let h = st.open.get(index);
    if (h !== undefined) return h;
    h = createStageHistogram();
    const closed = st.closed.get(index);
    if (closed !== undefined) {
      h.add(decodeHistogram(closed));
      st.closed.delete(index);
    }
    st.open.set(index, h);
    if (st.open.size > OPEN_INTERVALS) {
      // Close the oldest open interval (the one least likely to get another latency).
      // Never the one just opened, which the caller is about to record into.
      const oldest = Math.min(...[...st.open.keys()].filter((k) => k !== index));
      st.closed.set(oldest, encodeHistogram(st.open.get(oldest) as hdr.Histogram));
      st.open.delete(oldest);
    }
    return h;
  }

  private intervalsOf(st: StageState): StageRecord['intervals'] {
    const all = new Map(st.closed);
    for (const [i, h] of st.open) all.set(i, encodeHistogram(h));
    return [...all.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([i, histogram]) => ({ startMs: i * this.intervalMs, endMs: (i + 1) * this.intervalMs, histogram }));
  }
}

type StageRecord = RunRecord['stages'][number];
