// `--out DIR` of the measuring commands: a run recorder started with the run, fed from what the run
// measured, and every output written from the record at the end (metrics.json, summary.md,
// junit.xml, metrics.prom, report.html). Kept out of the command files so each only adds a flag
// and a call.
import { readFileSync } from 'node:fs';
import { writeOutputs, type WrittenOutputs } from '../reports/record/outputs.ts';
import { CONTAINER_IMAGES } from '../emulators/limits.ts';
import { RunRecorder, type RecorderOptions } from '../reports/record/recorder.ts';
import type { RunRecord } from '../reports/record/schema.ts';
import type { OpenedBackend } from '../sim/open-backend.ts';
import { recordRealtime, setTimelineSink, startBacklogSampler } from '../sim/record-run.ts';
import type { RunDayOptions, RunDayResult } from '../sim/run-day.ts';
import { createProgress, defaultProgressMode, formatDuration, type ProgressMode } from '../cmdline/progress.ts';


const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies?: Record<string, string> };

/** A recorder started now, for a command writing `--out DIR`. */
export function startRecording(o: RecorderOptions): RunRecorder {
  return new RunRecorder(o).start();
}

/** Samples the backend's backlogs from now until `stop()`. */
export function sampleBackend(rec: RunRecorder, backend: Pick<OpenedBackend, 'backlogs'>, everyMs = 100): { stop(): void } {
  return startBacklogSampler(rec, () => backend.backlogs(), everyMs);
}

/** Whatever numbers an object holds, as `prefix.key` -> number (nested objects flattened). */
function numbers(values: Readonly<Record<string, unknown>>, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) {
    if (typeof v === 'number' && Number.isFinite(v)) out[`${prefix}${k}`] = v;
    else if (typeof v === 'object' && v !== null && !Array.isArray(v)) Object.assign(out, numbers(v as Record<string, unknown>, `${prefix}${k}.`));
  }
  return out;
}

export interface DayRunSummary {
  readonly counters: object;
  readonly [figure: string]: unknown;
}

/** The versions an emulator run used: the emulators raceday pins (images and local packages alike) and the client libraries. */
function recordVersions(rec: RunRecorder, backend: unknown): void {
  if (backend !== 'emulators' && backend !== 'google') return;
  if (backend === 'emulators') {
    rec.emulatorVersion('pubsub-emulator', CONTAINER_IMAGES.pubsub.split(':')[1] ?? CONTAINER_IMAGES.pubsub);
    rec.emulatorVersion('spanner-emulator', CONTAINER_IMAGES.spanner.split(':')[1] ?? CONTAINER_IMAGES.spanner);
  }
  for (const name of ['@google-cloud/pubsub', '@google-cloud/spanner']) {
    const v = pkg.dependencies?.[name];
    if (v !== undefined) rec.emulatorVersion(name, v);
  }
}

/** A `raceday run` day (runDay) into the recorder: latencies, invariants, counters, figures. */
export function recordDayRun(rec: RunRecorder, r: RunDayResult, summary: DayRunSummary): void {
  recordVersions(rec, summary['backend']);
  recordRealtime(rec, r.realtime.timeline);
  for (const inv of r.invariants) rec.invariant(inv);
  for (const e of r.realtime.errors) rec.error(e);
  rec.counters(summary.counters as Record<string, unknown>);
  const { counters: _counters, settleLatencyMs: _latency, backend: _backend, where, seed: _seed, workers, maxInFlight, spannerShards, variants, ...rest } = summary;
  rec.configure(JSON.parse(JSON.stringify({ workers, maxInFlight, spannerShards, variants, where })) as RunRecord['configuration']);
  // Every other number of the printed summary is a figure: makespans, counts, backlog maxima, phases.
  rec.figures(numbers(rest));
}

/** Stops the recorder and writes the record and every output into `dir`; says so on stderr. */
export async function finishRecording(rec: RunRecorder, ok: boolean, dir: string, log: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)): Promise<{ record: RunRecord; written: WrittenOutputs }> {
  const record = rec.stop(ok);
  const written = await writeOutputs(dir, { records: [record] }, undefined, record);
  log(`${record.command}: wrote ${written.files.join(', ')} to ${dir} in ${written.ms} ms`);
  return { record, written };
}

/** Progress of a day run on stderr (a bar on a terminal, lines in CI), phase by phase. */
export function dayProgress(label: string, mode: ProgressMode = defaultProgressMode()): { report: NonNullable<RunDayOptions['progress']>; done(): void } {
  const p = createProgress({ mode, label });
  let phase = '';
  return {
    report(name, done, total) {
      if (name !== phase) {
        phase = name;
        p.phase(name, { total });
      }
      p.update(done);
    },
    done: () => p.done(),
  };
}

/** What `raceday sim` found, into the recorder: one invariant per checker (violations named by seed) and the figures. */
export function recordSim(rec: RunRecorder, checkers: readonly string[], violations: readonly { seed: number; checker: string; message: string }[], figures: Readonly<Record<string, number>>): void {
  for (const name of checkers) {
    const found = violations.filter((v) => v.checker === name);
    rec.invariant({ name, ok: found.length === 0, violations: found.slice(0, SIM_VIOLATIONS_KEPT).map((v) => `seed ${v.seed}: ${v.message}`) });
  }
  const other = violations.filter((v) => !checkers.includes(v.checker));
  if (other.length > 0) rec.invariant({ name: 'other', ok: false, violations: other.slice(0, SIM_VIOLATIONS_KEPT).map((v) => `seed ${v.seed}: [${v.checker}] ${v.message}`) });
  rec.figures(figures);
}

/** Violations kept per checker in a record (the replay command reproduces any of them). */
const SIM_VIOLATIONS_KEPT = 100;

/** `--out DIR` (or `--out=DIR`) taken out of a bench target's arguments: the targets parse their own. */
export function takeOutOption(argv: readonly string[]): { argv: string[]; out?: string; error?: string } {
  const rest: string[] = [];
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--out' || a.startsWith('--out=')) {
      if (out !== undefined) return { argv: rest, error: 'option --out given more than once; give it once' };
      out = a === '--out' ? argv[++i] : a.slice('--out='.length);
      if (out === undefined || out === '' || out.startsWith('--')) return { argv: rest, error: 'option --out needs a folder' };
    } else rest.push(a);
  }
  return out === undefined ? { argv: rest } : { argv: rest, out };
}

/**
 * A bench target run with `--out DIR`: the target prints its JSON object as ever (--json is
 * added); every real-time run inside it reports its latencies to the recorder, and the printed
 * object's numbers become the record's figures, its strings and flags the configuration.
 */
export async function runBenchRecorded(target: string, argv: readonly string[], out: string, run: (argv: readonly string[]) => Promise<number>): Promise<number> {
  const rec = startRecording({ command: `bench ${target}`, argv: [...argv, '--out', out], scenario: target, backend: target === 'emulators' ? 'emulators' : 'memory', seed: null });
  const printed: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  setTimelineSink((t) => recordRealtime(rec, t));
  let code: number;
  try {
    code = await run(argv.includes('--json') ? argv : [...argv, '--json']);
  } finally {
    process.stdout.write = write;
    setTimelineSink(undefined);
  }
  const line = printed.join('').trim().split('\n').reverse().find((l) => l.startsWith('{'));
  const result = line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
  if (result === undefined) rec.error(`bench ${target} printed no JSON object`);
  else {
    rec.figures(numbers(result));
    rec.configure(Object.fromEntries(Object.entries(result).filter(([, v]) => typeof v === 'string' || typeof v === 'boolean')) as RunRecord['configuration']);
  }
  await finishRecording(rec, code === 0 && result !== undefined, out);
  return code;
}

/**
 * Progress of a run of samples (design variants, repeats): on a terminal the bar (done/total,
 * rate, ETA, the last sample); elsewhere one line per sample, each a unit of seconds worth
 * logging, with the ETA.
 */
export function sampleProgress(label: string, mode: ProgressMode = defaultProgressMode(), write: (text: string) => void = (t) => void process.stderr.write(t)): (s: { variant: string; repeat: number; ok: boolean; figures: Readonly<Record<string, number>> }, done: number, total: number) => void {
  const p = createProgress({ mode: mode === 'bar' ? 'bar' : 'off', label, write });
  p.phase('sampling');
  return (s, done, total) => {
    const last = `${s.variant} #${s.repeat} makespan ${s.figures['makespanMs']} ms${s.ok ? '' : ' (an invariant FAILED)'}`;
    p.update(done, `last: ${last}`, total);
    if (mode === 'lines') {
      const eta = p.state().etaS;
      write(`  sample ${done}/${total}: ${last}${eta === undefined || done >= total ? '' : ` (ETA ${formatDuration(eta)})`}\n`);
    }
    if (done >= total) p.done();
  };
}
