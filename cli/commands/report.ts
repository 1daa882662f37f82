// `raceday report RUN.json... [--baseline B.json] --out DIR`: rebuilds every output of one or more
// run records (summary.md, junit.xml, metrics.prom, report.html) without running anything: the
// same text the run wrote at its end, or a comparison of several runs against a baseline.
import { join } from 'node:path';
import { mergeRecords, MergeError } from '../../reports/record/merge.ts';
import { writeOutputs } from '../../reports/record/outputs.ts';
import type { RunRecord } from '../../reports/record/schema.ts';
import { verdictOf, gatesOf } from '../../reports/record/verdict.ts';
import { readRunRecord, writeRunRecord } from '../../reports/record/write.ts';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import type { CommandModule } from '../main.ts';

/** Records one report takes: each is read whole, and the summary's tables list every run. */
const RECORDS_MAX = 64;

const usage = `usage: raceday report RUN.json... [--baseline B.json] [--merge] --out DIR [--json]

Rebuilds every output from run records (metrics.json files written by raceday run, sim or bench
with --out): summary.md (verdict and delta table first, under 256 KB), junit.xml (a test case per
gate and per invariant), metrics.prom (OpenMetrics text) and report.html. Each record is validated
on read; a bad one is refused with the field that is wrong. Nothing is run.

  RUN.json...        one or more run records (up to ${RECORDS_MAX}); several are compared side by side
  --baseline B.json  a record to compare against: the delta table shows each figure's change
  --merge            merge the records into one first (histograms added interval by interval:
                     repeats or workers of one run); also writes the merged DIR/metrics.json
  --out DIR          where the outputs go (created)
  --json             print {"dir","files","ms","verdict"} as one JSON object

Exit code 0 when the outputs were written (whatever the verdict: raceday gate decides pass or
fail), 2 for a usage error or a record that is missing or invalid.`;

async function read(path: string, what: string): Promise<RunRecord> {
  const r = await readRunRecord(path);
  if (!r.ok) throw new UsageError(`${what} ${r.error.message} [${r.error.code}]`);
  return r.value;
}

export const command: CommandModule = {
  summary: 'rebuild summary.md, junit.xml, metrics.prom and report.html from run records',
  usage,
  run: (argv) =>
    withUsage(usage, async () => {
      const { flags, positionals } = parseArgs(argv, { baseline: { type: 'string' }, out: { type: 'string' }, merge: { type: 'boolean' }, json: { type: 'boolean' } }, { positionals: RECORDS_MAX });
      if (positionals.length === 0) throw new UsageError('give at least one run record (RUN.json)');
      const out = flags['out'];
      if (typeof out !== 'string') throw new UsageError('--out DIR is required: the folder the outputs are written to');
      let records: RunRecord[] = [];
      for (const p of positionals) records.push(await read(p, 'run record'));
      const baseline = typeof flags['baseline'] === 'string' ? await read(flags['baseline'], 'baseline') : undefined;
      let merged: RunRecord | undefined;
      if (flags['merge'] === true) {
        try {
          merged = mergeRecords(records);
        } catch (e) {
          if (e instanceof MergeError) throw new UsageError(`--merge: ${e.message}`);
          throw e;
        }
        records = [merged];
        await writeRunRecord(join(out, 'metrics.json'), merged);
      }
      const written = await writeOutputs(out, { records, ...(baseline === undefined ? {} : { baseline }) });
      const files = merged === undefined ? written.files : ['metrics.json', ...written.files];
      const v = verdictOf(records, gatesOf(records));
      if (flags['json'] === true) process.stdout.write(`${JSON.stringify({ dir: out, files, ms: written.ms, verdict: v.verdict })}\n`);
      else process.stdout.write(`raceday report: ${v.verdict} (${v.reasons.join(', ')}); wrote ${files.join(', ')} to ${out} in ${written.ms} ms\n`);
      return 0;
    }),
};
