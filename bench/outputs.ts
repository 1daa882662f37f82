// `raceday bench outputs`: what writing every output costs a run, on the record of a long run (a
// synthetic replayed day built with the run recorder on a virtual clock: by default one hour at
// 1 s intervals, 3 stages and 8 timelines, 2 variants). Times stopping the recorder (encoding the
// open intervals, the stage figures), writing metrics.json, summary.md, junit.xml, metrics.prom
// and report.html, and reading the record back validated (what `raceday report` does first).
// Target: stop + write under 2 s.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, UsageError, withUsage } from '../cmdline/args.ts';
import { writeOutputs } from '../reports/record/outputs.ts';
import { readRunRecord } from '../reports/record/write.ts';
import { synthesizeDayRecord } from './report-data.ts';

export const usage = `usage: raceday bench outputs [--duration-s N] [--interval-ms N] [--repetitions N] [--json]

Builds the run record of a synthetic replayed day (default one hour at 1 s intervals: 3 stages,
8 timelines, 2 variants) and times, --repetitions times (default 3; medians printed): stopping the
recorder, writing metrics.json and every output made from it, and reading the record back
validated. Target: writing all outputs adds under 2 s to a run.`;

const WRITE_MS_MAX = 2_000;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const ms = (x: number): number => Math.round(x * 10) / 10;

export async function runBench(argv: readonly string[]): Promise<number> {
  return withUsage(usage, async () => {
    const { flags, positionals } = parseArgs(argv, {
      'duration-s': { type: 'int', min: 10, max: 86_400 },
      'interval-ms': { type: 'int', min: 100, max: 60_000 },
      repetitions: { type: 'int', min: 1, max: 20 },
      json: { type: 'boolean' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const durationS = (flags['duration-s'] as number | undefined) ?? 3_600;
    const intervalMs = (flags['interval-ms'] as number | undefined) ?? 1_000;
    const reps = (flags['repetitions'] as number | undefined) ?? 3;
    const variants = [{ name: 'variant-1', settings: { workers: 2 }, slowdown: 0 }, { name: 'variant-2', settings: { workers: 4 }, slowdown: 0.1 }];
    const dir = mkdtempSync(join(tmpdir(), 'raceday-bench-outputs-'));
    const stop: number[] = [];
    const write: number[] = [];
    const read: number[] = [];
    const files: Record<string, number> = {};
    try {
      for (let i = 0; i < reps; i++) {
        // synthesizeDayRecord ends with the recorder's stop(): timed here as part of finishing a run.
        const t0 = performance.now();
        const record = synthesizeDayRecord({ durationS, intervalMs, variants, seed: i + 1 });
        const stopped = performance.now();
        const out = join(dir, `run-${i}`);
        const w = await writeOutputs(out, { records: [record] }, undefined, record);
        write.push(w.ms);
        stop.push(stopped - t0);
        const r0 = performance.now();
        const back = await readRunRecord(join(out, 'metrics.json'));
        read.push(performance.now() - r0);
        if (!back.ok) throw new Error(`the written record does not read back: ${back.error.message}`);
        for (const name of w.files) files[name] = statSync(join(out, name)).size;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const writeMsMedian = ms(median(write));
    const result = {
      bench: 'outputs',
      data: 'synthetic replayed day (bench/report-data.ts, RunRecorder on a virtual clock)',
      durationS,
      intervalMs,
      repetitions: reps,
      synthAndStopMsMedian: ms(median(stop)),
      writeAllMsMedian: writeMsMedian,
      writeAllMsAll: write,
      readValidatedMsMedian: ms(median(read)),
      fileBytes: files,
      target: { writeAllMsMax: WRITE_MS_MAX, ok: writeMsMedian < WRITE_MS_MAX },
      node: process.version,
      loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    };
    process.stdout.write(flags['json'] === true ? `${JSON.stringify(result)}\n` : `writing every output of a ${durationS} s record at ${intervalMs} ms intervals: ${writeMsMedian} ms (median of ${reps}); read back validated ${result.readValidatedMsMedian} ms\n`);
    return result.target.ok ? 0 : 1;
  });
}
