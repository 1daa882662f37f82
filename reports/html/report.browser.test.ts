// Opens report.html in headless Chromium (Debian's `chromium`, or RACEDAY_CHROMIUM) and proves
// the page works offline: every chart drew (a uPlot canvas with a size and coloured pixels), no
// console error, no page error, no network request at all (each is intercepted and counted), and
// a hostile name rendered as text without running. Negative controls prove the checker sees a
// request, a broken data block and an empty chart. Without Chromium the suite FAILS, saying that
// .ci/install-tools installs it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeDayRecord } from '../../bench/report-data.ts';
import { reliabilityFixture } from '../_fixtures/reliability.ts';
import type { RunRecord } from '../record/schema.ts';
import { capacityPlanFixture } from './_fixtures/capacity-plan.ts';
import { CHROMIUM_MISSING, checkReportPage, findChromium, launchChromium, type PageCheck } from './_fixtures/chromium.ts';
import { renderReportHtml } from './index.ts';

const HOSTILE = '</script><script>window.__pwned=1</script>';

const dir = mkdtempSync(join(tmpdir(), 'raceday-report-'));
let browser: Browser;

function record(runId: string, slowdown: number): RunRecord {
  return synthesizeDayRecord({
    runId,
    durationS: 600,
    samplesPerVariant: 8,
    variants: [
      { name: 'per-user', settings: { fanout: 'per-user' }, slowdown: 0 },
      { name: 'user-batch', settings: { fanout: 'user-batch:100' }, slowdown },
    ],
  });
}

function write(name: string, html: string): string {
  const path = join(dir, name);
  writeFileSync(path, html);
  return path;
}

function expectClean(check: PageCheck): void {
  expect(check.consoleErrors).toEqual([]);
  expect(check.pageErrors).toEqual([]);
  expect(check.requests).toEqual([]);
  expect(check.shownError).toBeNull();
  expect(check.drawnMs).not.toBeNull();
}

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('report.html in Chromium', () => {
  it('draws every chart of a two-variant report with a baseline, offline, without an error', async () => {
    const html = renderReportHtml([record('candidate', 0.25)], record('baseline', 0));
    const check = await checkReportPage(browser, write('report.html', html));
    expectClean(check);
    // Two runs (candidate and baseline), each 3 latency charts and 3 timeline charts.
    expect(check.charts).toHaveLength(12);
    for (const c of check.charts) {
      expect(c.hasCanvas, c.id).toBe(true);
      expect(c.widthPx, c.id).toBeGreaterThan(300);
      expect(c.heightPx, c.id).toBeGreaterThan(100);
      expect(c.colouredPixels, c.id).toBeGreaterThan(500);
    }
  });

  it('draws a chaos run\'s soak drift charts next to its timelines, and its reliability tables are on the page', async () => {
    const chaos: RunRecord = { ...record('chaos', 0), command: 'chaos', reliability: reliabilityFixture({ soak: true }) as RunRecord['reliability'] };
    const check = await checkReportPage(browser, write('chaos.html', renderReportHtml([chaos])), {
      captions: "[...document.querySelectorAll('caption')].map((c) => c.textContent).filter((t) => /^(Exactly once|Soak drift|Dead letters|Recovery per fault)/.test(t)).length",
      soakRows: "document.querySelectorAll('[data-chart$=\"-soak-0\"]').length",
    });
    expectClean(check);
    const soak = check.charts.filter((c) => /-soak-\d$/.test(c.id));
    expect(soak.map((c) => c.id)).toEqual(['r0-soak-0', 'r0-soak-1']);
    for (const c of soak) {
      expect(c.hasCanvas, c.id).toBe(true);
      expect(c.colouredPixels, c.id).toBeGreaterThan(500);
    }
    expect(check.probes).toEqual({ captions: 4, soakRows: 1 });
  });

  it('renders a hostile run name as text: the page works and nothing it contains runs', async () => {
    const hostile = { ...record('x', 0.1), runId: HOSTILE };
    hostile.series[0] = { ...(hostile.series[0] as RunRecord['series'][number]), unit: HOSTILE };
    const check = await checkReportPage(browser, write('hostile.html', renderReportHtml([hostile])), {
      pwned: 'typeof window.__pwned',
      heading: "document.querySelector('main section[id^=run-] h2').textContent",
      scripts: 'document.scripts.length',
    });
    expectClean(check);
    expect(check.probes).toEqual({ pwned: 'undefined', heading: HOSTILE, scripts: 3 });
    expect(check.charts.every((c) => c.hasCanvas && c.colouredPixels > 0)).toBe(true);
  });

  it('draws the capacity plan chart: makespan against Spanner nodes, the knob on the x axis', async () => {
    const planned = { ...record('plan', 0), capacityPlan: capacityPlanFixture() } as RunRecord;
    const check = await checkReportPage(browser, write('plan.html', renderReportHtml([planned])), {
      labels: "[...document.querySelectorAll('#r0-capacity-plan .u-legend th, #r0-capacity-plan .u-label')].map((e) => e.textContent.trim()).filter((t) => t !== '').join('|')",
    });
    expectClean(check);
    const chart = check.charts.find((c) => c.id === 'r0-capacity-plan');
    expect(chart).toBeDefined();
    expect(chart?.hasCanvas).toBe(true);
    expect(chart?.widthPx).toBeGreaterThan(300);
    expect(chart?.colouredPixels).toBeGreaterThan(500);
    // The latency and timeline charts of the run draw as before, beside the plan's.
    expect(check.charts).toHaveLength(7);
    expect(String(check.probes['labels'])).toContain('Spanner nodes');
    expect(String(check.probes['labels'])).toContain('SLO (400 s)');
  });

  it('negative controls: the checker reports a request, a broken data block and an empty chart', async () => {
    const html = renderReportHtml([record('controls', 0)]);
    const withRequest = html.replace('</main>', '<img alt="" src="http://127.0.0.1:9/x.png"></main>');
    expect((await checkReportPage(browser, write('request.html', withRequest))).requests).toEqual(['http://127.0.0.1:9/x.png']);

    const broken = html.replace('<script id="report-data" type="application/json">{', '<script id="report-data" type="application/json">{,');
    const brokenCheck = await checkReportPage(browser, write('broken.html', broken), {}, 5_000);
    expect(brokenCheck.consoleErrors.join(' ')).toMatch(/charts failed/);
    expect(brokenCheck.drawnMs).toBeNull();
    expect(brokenCheck.charts.every((c) => !c.hasCanvas)).toBe(true);

    const empty = html.replace(/"values":\[[^\]]*\]/g, '"values":[]');
    const emptyCheck = await checkReportPage(browser, write('empty.html', empty));
    expect(emptyCheck.charts.length).toBeGreaterThan(0);
    expect(emptyCheck.charts.every((c) => c.colouredPixels === 0)).toBe(true);
  });
});

describe('findChromium', () => {
  it('fails with a message naming .ci/install-tools when no Chromium can be found', () => {
    expect(() => findChromium({ PATH: '' })).toThrow(CHROMIUM_MISSING);
    expect(() => findChromium({ PATH: '/usr/bin', RACEDAY_CHROMIUM: join(dir, 'no-such-chromium') })).toThrow(/\.ci\/install-tools/);
    expect(CHROMIUM_MISSING).toContain('.ci/install-tools installs it');
  });
});
