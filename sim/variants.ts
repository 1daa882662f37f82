// Design variants side by side: the same seeded race day settled once per variant and repeat, in
// interleaved ABBA order (A B B A A B B A ...; with more variants, forward then backward rounds),
// so a machine that drifts (thermal throttling, a neighbour's job) drifts every variant alike and
// the gate's statistics compare like with like. Each sample opens a fresh backend.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRng } from '../core/rng.ts';
import { interleavedOrder } from '../reports/gate/adaptive.ts';
import { err, ok, type Result } from '../core/result.ts';
import { DEFAULT_VARIANTS, formatFanoutVariant, parseFanoutVariant, parseNotifyVariant, type PipelineVariants } from '../pipeline/settings.ts';
import type { StrategyChoice } from '../emulators/index.ts';
import { openBackend, type BackendName, type BackendOptions, type OpenedBackend } from './open-backend.ts';
import { runDay, type InvariantResult, type RunDayResult } from './run-day.ts';
import { startSlowdown, TEST_SLOWDOWN_MAX } from './slowdown.ts';
import { smokeRaceDay } from './workload.ts';
import type { RaceDay } from '../scenarios/model.ts';

/** What a variant may change: the pipeline's design choices, its capacity, and the test knob. */
export interface VariantSettings {
  readonly fanout?: string;
  readonly notify?: string;
  readonly settlePath?: 'objects' | 'columns';
  readonly workers?: number;
  readonly maxInFlight?: number;
  /** Ack deadline of the settle, post-settle and notify subscriptions, ms. */
  readonly ackDeadlineMs?: number;
  readonly spannerShards?: number;
  readonly settlementsPerCommit?: number;
  /** TEST KNOB: the process does this fraction of extra busy work (sim/slowdown.ts). */
  readonly testSlowdown?: number;
}

export type SettingValue = string | number | boolean;

export interface VariantSpec {
  readonly name: string;
  /** As given (for the run record). */
  readonly settings: Readonly<Record<string, SettingValue>>;
  readonly parsed: VariantSettings;
}

const INT_SETTINGS = { workers: [1, 256], maxInFlight: [1, 10_000], ackDeadlineMs: [1_000, 600_000], spannerShards: [1, 64], settlementsPerCommit: [1, 1_000] } as const;
export const VARIANT_SETTING_NAMES = ['fanout', 'notify', 'settlePath', ...Object.keys(INT_SETTINGS), 'testSlowdown'] as const;

function parseSetting(key: string, value: string): Result<[keyof VariantSettings, SettingValue]> {
  const bad = (why: string) => err('INPUT.INVALID', `variant setting ${key}=${value}: ${why}`, key);
  if (key === 'fanout') {
    const r = parseFanoutVariant(value);
    return r.ok ? ok(['fanout', value]) : bad(r.error.message);
  }
  if (key === 'notify') {
    const r = parseNotifyVariant(value);
    return r.ok ? ok(['notify', value]) : bad(r.error.message);
  }
  if (key === 'settlePath') return value === 'objects' || value === 'columns' ? ok(['settlePath', value]) : bad('must be objects or columns');
  if (key === 'testSlowdown') {
    const f = Number(value);
    return /^\d+(\.\d+)?$/.test(value) && f <= TEST_SLOWDOWN_MAX ? ok(['testSlowdown', f]) : bad(`must be a fraction within 0..${TEST_SLOWDOWN_MAX} (0.25 is 25% more work)`);
  }
  if (Object.hasOwn(INT_SETTINGS, key)) {
    const [min, max] = INT_SETTINGS[key as keyof typeof INT_SETTINGS];
    const n = Number(value);
    return /^\d+$/.test(value) && n >= min && n <= max ? ok([key as keyof VariantSettings, n]) : bad(`must be an integer within ${min}..${max}`);
  }
  return bad(`unknown setting; the settings are ${VARIANT_SETTING_NAMES.join(', ')}`);
}

/** `NAME=key=value,key=value` (settings may be empty: `base=`). */
export function parseVariant(text: string): Result<VariantSpec> {
  const eq = text.indexOf('=');
  const name = eq === -1 ? text : text.slice(0, eq);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) return err('INPUT.INVALID', `variant "${text}" must start with a name (letters, digits, . _ -) then =SETTINGS, e.g. batch=fanout=user-batch:50,workers=4`, 'variant');
  const settings: Record<string, SettingValue> = {};
  const parsed: Record<string, SettingValue> = {};
  const body = eq === -1 ? '' : text.slice(eq + 1);
  for (const part of body === '' ? [] : body.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) return err('INPUT.INVALID', `variant ${name}: "${part}" must be key=value`, 'variant');
    const key = part.slice(0, i);
    if (Object.hasOwn(settings, key)) return err('INPUT.INVALID', `variant ${name}: setting ${key} given twice`, 'variant');
    const r = parseSetting(key, part.slice(i + 1));
    if (!r.ok) return err('INPUT.INVALID', `variant ${name}: ${r.error.message}`, 'variant');
    settings[key] = r.value[1];
    parsed[r.value[0]] = r.value[1];
  }
  return ok({ name, settings, parsed: parsed as VariantSettings });
}

/** The run's own settings every variant starts from (the command's flags). */
export interface BaseSettings {
  readonly backend: BackendName;
  readonly seed: number;
  readonly users: number;
  readonly variants: PipelineVariants;
  readonly workers: number;
  readonly maxInFlight: number;
  readonly spannerShards: number;
  readonly settlementsPerCommit?: number;
  readonly strategy: StrategyChoice;
  readonly timeoutMs: number;
}

export interface SampleResult {
  readonly variant: string;
  readonly repeat: number;
  readonly order: number;
  readonly figures: Readonly<Record<string, number>>;
  readonly invariants: readonly InvariantResult[];
  readonly ok: boolean;
}

function pipelineOf(base: BaseSettings, s: VariantSettings): PipelineVariants {
  let v: PipelineVariants = base.variants;
  if (s.fanout !== undefined) v = { ...v, fanout: (parseFanoutVariant(s.fanout) as { ok: true; value: PipelineVariants['fanout'] }).value };
  if (s.notify !== undefined) v = { ...v, notify: s.notify as PipelineVariants['notify'] };
  if (s.settlePath !== undefined) v = { ...v, settlePath: s.settlePath };
  return v;
}

/** A sample's scalar results: wall-clock times (vary run to run) and counts (fixed by the seed). */
export function figuresOf(r: RunDayResult, backend: OpenedBackend, m: { wallMs: number; cpuMs: number; slowdownMs: number }): Record<string, number> {
  const rt = r.realtime;
  const stats = backend.stats();
  const figures: Record<string, number> = {
    makespanMs: rt.makespanMs,
    notifyMakespanMs: rt.notifyMakespanMs,
    rankingMakespanMs: rt.rankingMakespanMs,
    ingestMs: rt.ingestMs,
    settleP50Ms: rt.settleLatencyMs.p50,
    settleP99Ms: rt.settleLatencyMs.p99,
    sampleWallMs: m.wallMs,
    sampleCpuMs: m.cpuMs,
    testSlowdownMs: Math.round(m.slowdownMs * 1000) / 1000,
    ticketsLoaded: r.ticketsLoaded,
    settledTickets: r.settledTickets,
    settledUsers: rt.settledUsers,
    usersWithTickets: r.usersWithTickets,
    invariantsFailed: r.invariants.filter((i) => !i.ok).length,
    transactionsAborted: stats.transactionsAborted,
    redeliveries: stats.redeliveries,
  };
  for (const [k, v] of Object.entries(rt.counters)) if (typeof v === 'number') figures[k] = v;
  for (const [sub, v] of Object.entries(stats.backlogMax)) figures[`backlogPeak.${sub}`] = v;
  return figures;
}

/**
 * A full garbage collection before every sample: otherwise a sample inherits the garbage of the
 * one before and pays for collecting it, which adds noise that depends on the run order.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * Optional instruments on one sample (e.g. the planner's profilers): `wrap` gets the sample's
 * freshly opened backend and returns the one the day runs on; `finished` gets the day's result
 * before the backend closes.
 */
export interface SampleInstrument {
  wrap(backend: OpenedBackend, day: RaceDay, knobs: { workers: number; maxInFlight: number; shards: number }): OpenedBackend;
  finished(r: RunDayResult): void;
}

/** One sample of one variant: a fresh backend, the seeded day settled, its figures. */
export async function runSample(base: BaseSettings, spec: VariantSpec, log: (line: string) => void, instrument?: SampleInstrument): Promise<Omit<SampleResult, 'repeat' | 'order'>> {
  const s = spec.parsed;
  const day = smokeRaceDay(base.seed, createRng(`raceday-run/smoke/${base.seed}`).fork('workload'), { usersMin: base.users, usersMax: base.users, ticketsPerUserMax: 4, stakeUnitsMax: 10 });
  const perCommit = s.settlementsPerCommit ?? base.settlementsPerCommit;
  const options: BackendOptions = {
    spannerShards: s.spannerShards ?? base.spannerShards,
    ...(perCommit === undefined ? {} : { settlementsPerCommitMax: perCommit }),
    strategy: base.strategy,
    log,
  };
  const opened = await openBackend(base.backend, options);
  const workers = s.workers ?? base.workers;
  const maxInFlight = s.maxInFlight ?? base.maxInFlight;
  const backend = instrument === undefined ? opened : instrument.wrap(opened, day, { workers, maxInFlight, shards: options.spannerShards ?? 1 });
  try {
    collectGarbage();
    const slowdown = startSlowdown(s.testSlowdown ?? 0);
    const start = performance.now();
    const cpuStart = process.threadCpuUsage();
    let r: RunDayResult;
    try {
      r = await runDay({ day, backend, variants: pipelineOf(base, s), workers, maxInFlight, ...(s.ackDeadlineMs === undefined ? {} : { ackDeadlineMs: s.ackDeadlineMs }), timeoutMs: base.timeoutMs });
    } finally {
      slowdown.stop();
    }
    const wallMs = Math.round((performance.now() - start) * 1000) / 1000;
    const cpu = process.threadCpuUsage(cpuStart);
    const cpuMs = Math.round(cpu.user + cpu.system) / 1000; // the main thread: where every handler runs
    instrument?.finished(r);
    return { variant: spec.name, figures: figuresOf(r, backend, { wallMs, cpuMs, slowdownMs: slowdown.spentMs() }), invariants: r.invariants, ok: r.ok };
  } finally {
    await backend.close();
  }
}

export interface RunVariantsOptions {
  readonly base: BaseSettings;
  readonly specs: readonly VariantSpec[];
  readonly repeat: number;
  /**
   * Unrecorded rounds run first (every variant once per round): the first run in a process pays
   * for compiling the code, which would otherwise count against whichever variant runs first.
   */
  readonly warmup?: number;
  /** Instruments for a recorded sample (not the warm-up rounds), e.g. the planner's profilers. */
  readonly instrument?: (spec: VariantSpec, repeat: number) => SampleInstrument | undefined;
  /** Called after every sample (progress, recording). */
  readonly onSample?: (s: SampleResult, done: number, total: number) => void;
  readonly log?: (line: string) => void;
}

/** Runs every variant `repeat` times in interleaved order; returns the samples in run order. */
export async function runVariants(o: RunVariantsOptions): Promise<SampleResult[]> {
  const names = new Set<string>();
  for (const s of o.specs) {
    if (names.has(s.name)) throw new RangeError(`variant name "${s.name}" is given twice`);
    names.add(s.name);
  }
  for (const step of interleavedOrder(o.specs.length, o.warmup ?? 0)) await runSample(o.base, o.specs[step.variant] as VariantSpec, o.log ?? (() => undefined));
  const order = interleavedOrder(o.specs.length, o.repeat);
  const out: SampleResult[] = [];
  for (const [i, step] of order.entries()) {
    const spec = o.specs[step.variant] as VariantSpec;
    const s = { ...(await runSample(o.base, spec, o.log ?? (() => undefined), o.instrument?.(spec, step.repeat))), repeat: step.repeat, order: i };
    out.push(s);
    o.onSample?.(s, i + 1, order.length);
  }
  return out;
}

/** The settings a variant ran with, all of them (the base filled in), for the record's configuration. */
export function effectiveSettings(base: BaseSettings, spec: VariantSpec): Record<string, SettingValue> {
  const s = spec.parsed;
  const v = pipelineOf(base, s);
  return {
    fanout: formatFanoutVariant(v.fanout),
    notify: v.notify,
    settlePath: v.settlePath ?? DEFAULT_VARIANTS.settlePath ?? 'objects',
    workers: s.workers ?? base.workers,
    maxInFlight: s.maxInFlight ?? base.maxInFlight,
    ackDeadlineMs: s.ackDeadlineMs ?? 'topology default',
    ...(base.backend === 'memory' ? {} : { spannerShards: s.spannerShards ?? base.spannerShards, settlementsPerCommit: s.settlementsPerCommit ?? base.settlementsPerCommit ?? 'backend default' }),
    testSlowdown: s.testSlowdown ?? 0,
  };
}
