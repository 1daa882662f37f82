// `--out DIR` of the measuring commands: a run recorder started with the run, fed from what the run
// measured, and every output written from the record at the end (metrics.json, summary.md,
// junit.xml, metrics.prom, report.html). Kept out of the command files so each only adds a flag
// and a call.
import { writeOutputs, type HtmlRenderer, type WrittenOutputs } from '../reports/record/outputs.ts';
import { RunRecorder, type RecorderOptions } from '../reports/record/recorder.ts';
import type { RunRecord } from '../reports/record/schema.ts';
import type { OpenedBackend } from '../sim/open-backend.ts';
import { recordRealtime, startBacklogSampler } from '../sim/record-run.ts';
import type { RunDayOptions, RunDayResult } from '../sim/run-day.ts';
import { createProgress, defaultProgressMode, type ProgressMode } from '../cmdline/progress.ts';

/** The HTML report's renderer, once the report page is built (undefined: report.html is not written). */
export const htmlRenderer: HtmlRenderer | undefined = undefined;

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

/** A `raceday run` day (runDay) into the recorder: latencies, invariants, counters, figures. */
export function recordDayRun(rec: RunRecorder, r: RunDayResult, summary: DayRunSummary): void {
  recordRealtime(rec, r.realtime.timeline);
  for (const inv of r.invariants) rec.invariant(inv);
  for (const e of r.realtime.errors) rec.error(e);
  rec.counters(summary.counters as Record<string, unknown>);
  const { counters: _counters, settleLatencyMs: _latency, where, seed: _seed, workers, maxInFlight, spannerShards, variants, ...rest } = summary;
  rec.configure(JSON.parse(JSON.stringify({ workers, maxInFlight, spannerShards, variants, where })) as RunRecord['configuration']);
  // Every other number of the printed summary is a figure: makespans, counts, backlog maxima, phases.
  rec.figures(numbers(rest));
}

/** Stops the recorder and writes the record and every output into `dir`; says so on stderr. */
export async function finishRecording(rec: RunRecorder, ok: boolean, dir: string, log: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)): Promise<{ record: RunRecord; written: WrittenOutputs }> {
  const record = rec.stop(ok);
  const written = await writeOutputs(dir, { records: [record] }, htmlRenderer, record);
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
