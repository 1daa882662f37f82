// Every output generated from run records, in one place: what `raceday run --out DIR` writes at
// the end of a run and `raceday report` rebuilds later, byte for byte the same from the same
// records (nothing here reads the clock or the machine).
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { GateResult } from '../gate/result.ts';
import { renderReportHtml } from '../html/index.ts';
import { renderJunit } from '../junit.ts';
import { renderOpenMetrics } from '../openmetrics.ts';
import { renderSummary } from '../summary.ts';
import type { RunRecord } from './schema.ts';
import { writeRunRecord } from './write.ts';

export interface OutputsInput {
  readonly records: readonly RunRecord[];
  readonly baseline?: RunRecord;
  /** Results of a gate that just ran; by default the records' stored gates. */
  readonly gates?: readonly GateResult[];
}

/** The files of an output folder besides metrics.json, in the order they are written. */
export const OUTPUT_FILES = ['summary.md', 'junit.xml', 'metrics.prom', 'report.html'] as const;
export type OutputFile = (typeof OUTPUT_FILES)[number];

export type HtmlRenderer = (records: readonly RunRecord[], baseline?: RunRecord) => string;

/** Each output's text; report.html by the report page's renderer unless another (or none: null) is given. */
export function renderOutputs(i: OutputsInput, html: HtmlRenderer | null = renderReportHtml): Partial<Record<OutputFile, string>> {
  const gates = i.gates === undefined ? {} : { gates: i.gates };
  const out: Partial<Record<OutputFile, string>> = {
    'summary.md': renderSummary({ records: i.records, ...(i.baseline === undefined ? {} : { baseline: i.baseline }), ...gates }),
    'junit.xml': renderJunit({ records: i.records, ...gates }),
    'metrics.prom': renderOpenMetrics({ records: i.records, ...gates }),
  };
  if (html !== null) out['report.html'] = html(i.records, i.baseline);
  return out;
}

export interface WrittenOutputs {
  readonly dir: string;
  readonly files: readonly string[];
  /** Time to render and write them, ms. */
  readonly ms: number;
}

/** Writes the outputs into `dir` (created); with `record`, metrics.json first. */
export async function writeOutputs(dir: string, i: OutputsInput, html: HtmlRenderer | null = renderReportHtml, record?: RunRecord): Promise<WrittenOutputs> {
  const start = performance.now();
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  if (record !== undefined) {
    await writeRunRecord(join(dir, 'metrics.json'), record);
    files.push('metrics.json');
  }
  for (const [name, text] of Object.entries(renderOutputs(i, html))) {
    await writeFile(join(dir, name), text);
    files.push(name);
  }
  return { dir, files, ms: Math.round(performance.now() - start) };
}
