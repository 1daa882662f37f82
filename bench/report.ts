// `raceday bench report`: how big report.html is, how long it takes to render, and how long
// Chromium takes to draw it, for a synthetic replayed day (bench/report-data.ts, built with the
// RunRecorder on a virtual clock): one hour at 1 s intervals, 3 stages × 4 percentiles and 8
// timelines = 20 series of 3,600 points. Targets: at most 2 MB, drawn in under 500 ms (from
// navigation start to every chart drawn: the page's window.__raceday_drawn).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, UsageError, withUsage } from '../cmdline/args.ts';
import { renderReportHtml } from '../reports/html/index.ts';
import { synthesizeDayRecord } from './report-data.ts';

export const usage = `usage: raceday bench report [--duration-s N] [--interval-ms N] [--variants N] [--loads N] [--renders N] [--seed N] [--keep FILE] [--json]

Synthesises a replayed day with the run recorder (default one hour at 1 s intervals: 20 series),
renders report.html from it --renders times (default 3) and opens it in headless Chromium --loads
times (default 5), each in a fresh page. Prints htmlBytes, renderMs (first and median), drawMs
(window.__raceday_drawn: navigation start to every chart drawn; median and max) and the targets
(htmlBytes <= 2 MB, drawMs < 500). --variants adds N design variants with 8 samples each (default
2). --keep writes the report there. Needs Chromium (RACEDAY_CHROMIUM or chromium on PATH;
.ci/install-tools installs it). Exit 1 when the page does not draw cleanly.`;

const HTML_BYTES_MAX = 2 * 1024 * 1024;
const DRAW_MS_MAX = 500;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const ms = (x: number): number => Math.round(x * 10) / 10;

function renderTimes(record: ReturnType<typeof synthesizeDayRecord>, renders: number): { html: string; times: number[] } {
  let html = '';
  const times: number[] = [];
  for (let i = 0; i < renders; i++) {
    const t = performance.now();
    html = renderReportHtml([record]);
    times.push(performance.now() - t);
  }
  return { html, times };
}

async function drawTimes(path: string, loads: number): Promise<{ times: number[]; charts: number; problems: string[]; chromium: string }> {
  const { launchChromium, checkReportPage } = await import('../reports/html/_fixtures/chromium.ts');
  const browser = await launchChromium();
  try {
    const times: number[] = [];
    const problems: string[] = [];
    let charts = 0;
    for (let i = 0; i < loads; i++) {
      const c = await checkReportPage(browser, path);
      charts = c.charts.length;
      const blank = c.charts.filter((x) => !x.hasCanvas || x.colouredPixels === 0).map((x) => x.id);
      problems.push(...c.consoleErrors, ...c.pageErrors, ...c.requests.map((r) => `request ${r}`), ...blank.map((id) => `chart ${id} did not draw`));
      if (c.drawnMs === null) problems.push('the page never reported its charts drawn');
      else times.push(c.drawnMs);
    }
    return { times, charts, problems: [...new Set(problems)], chromium: await browser.version() };
  } finally {
    await browser.close();
  }
}

export async function runBench(argv: readonly string[]): Promise<number> {
  return withUsage(usage, async () => {
    const { flags, positionals } = parseArgs(argv, {
      'duration-s': { type: 'int', min: 10, max: 86_400 },
      'interval-ms': { type: 'int', min: 100, max: 60_000 },
      variants: { type: 'int', min: 0, max: 10 },
      loads: { type: 'int', min: 1, max: 50 },
      renders: { type: 'int', min: 1, max: 20 },
      seed: { type: 'int', min: 0, max: 2 ** 32 - 1 },
      keep: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const durationS = (flags['duration-s'] as number | undefined) ?? 3_600;
    const intervalMs = (flags['interval-ms'] as number | undefined) ?? 1_000;
    const variantCount = (flags.variants as number | undefined) ?? 2;
    const variants = Array.from({ length: variantCount }, (_, i) => ({ name: `variant-${i + 1}`, settings: { workers: 2 ** (i + 1) }, slowdown: i * 0.1 }));
    const t0 = performance.now();
    const record = synthesizeDayRecord({ durationS, intervalMs, variants, seed: (flags.seed as number | undefined) ?? 1 });
    const synthMs = performance.now() - t0;
    const { html, times: renders } = renderTimes(record, (flags.renders as number | undefined) ?? 3);
    const dir = mkdtempSync(join(tmpdir(), 'raceday-bench-report-'));
    const path = typeof flags.keep === 'string' ? flags.keep : join(dir, 'report.html');
    writeFileSync(path, html);
    try {
      const draw = await drawTimes(path, (flags.loads as number | undefined) ?? 5);
      const series = record.stages.length * 4 + record.series.length;
      const htmlBytes = Buffer.byteLength(html);
      const drawMsMedian = draw.times.length === 0 ? null : ms(median(draw.times));
      const result = {
        bench: 'report',
        data: 'synthetic replayed day (bench/report-data.ts, RunRecorder on a virtual clock)',
        durationS,
        intervalMs,
        series,
        pointsPerSeries: Math.ceil((durationS * 1000) / intervalMs),
        variants: variantCount,
        recordBytes: Buffer.byteLength(JSON.stringify(record)),
        synthMs: ms(synthMs),
        htmlBytes,
        renderMsFirst: ms(renders[0] as number),
        renderMsMedian: ms(median(renders)),
        charts: draw.charts,
        drawMsMedian,
        drawMsMax: draw.times.length === 0 ? null : ms(Math.max(...draw.times)),
        drawMsAll: draw.times.map(ms),
        problems: draw.problems,
        targets: { htmlBytesMax: HTML_BYTES_MAX, drawMsMax: DRAW_MS_MAX, htmlBytesOk: htmlBytes <= HTML_BYTES_MAX, drawMsOk: drawMsMedian !== null && drawMsMedian < DRAW_MS_MAX },
        chromium: draw.chromium,
        node: process.version,
        /** A busy machine (load above its cores) slows every timing here. */
        loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
        kept: typeof flags.keep === 'string' ? path : null,
      };
      if (flags.json === true) process.stdout.write(`${JSON.stringify(result)}\n`);
      else process.stdout.write(`report: ${series} series × ${result.pointsPerSeries} points, ${(htmlBytes / 1e6).toFixed(2)} MB, rendered in ${result.renderMsMedian} ms, drawn in ${drawMsMedian ?? '–'} ms (median of ${draw.times.length})${draw.problems.length > 0 ? `; problems: ${draw.problems.join('; ')}` : ''}\n`);
      return draw.problems.length === 0 ? 0 : 1;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
