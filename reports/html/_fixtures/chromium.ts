// Opens a report.html in headless Chromium (Debian's `chromium`, driven by puppeteer-core) and
// says what happened: every chart placeholder and whether it drew, console errors, page errors,
// and every network request other than the file itself (each is aborted and listed: the report
// must work offline). Used by the browser test and by `raceday bench report`.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';

export const CHROMIUM_MISSING =
  'CHROMIUM.MISSING: no Chromium found (RACEDAY_CHROMIUM is unset or not executable, and no chromium or chromium-browser on PATH); .ci/install-tools installs it (apt-get install chromium)';

const executable = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** RACEDAY_CHROMIUM if set, else `chromium` or `chromium-browser` on PATH; throws CHROMIUM_MISSING otherwise. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env['RACEDAY_CHROMIUM'];
  if (chosen !== undefined && chosen !== '') {
    if (executable(chosen)) return chosen;
    throw new Error(`${CHROMIUM_MISSING} (RACEDAY_CHROMIUM=${chosen})`);
  }
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    for (const name of ['chromium', 'chromium-browser']) if (executable(join(dir, name))) return join(dir, name);
  }
  throw new Error(CHROMIUM_MISSING);
}

export async function launchChromium(): Promise<Browser> {
  const args = ['--headless=new', '--disable-gpu', '--no-first-run', '--no-default-browser-check', '--disable-extensions', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  // Chromium refuses to start its sandbox as root (CI containers); the page is our own file.
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  return puppeteer.launch({ executablePath: findChromium(), headless: true, args, timeout: 60_000 });
}

export interface ChartCheck {
  readonly id: string;
  readonly hasCanvas: boolean;
  readonly widthPx: number;
  readonly heightPx: number;
  /** Pixels that are neither transparent nor grey: drawn series (axes and grid are grey or black). */
  readonly colouredPixels: number;
}

export interface PageCheck {
  readonly charts: readonly ChartCheck[];
  readonly consoleErrors: readonly string[];
  readonly pageErrors: readonly string[];
  /** Requests other than the report file itself (all aborted). */
  readonly requests: readonly string[];
  /** window.__raceday_drawn: ms from navigation start to every chart drawn; null if never set. */
  readonly drawnMs: number | null;
  /** The chart-error box's text, when the page showed one. */
  readonly shownError: string | null;
  /** The value of each probe expression, evaluated in the page once the charts drew. */
  readonly probes: Readonly<Record<string, unknown>>;
}

/**
 * Browser-side code, as text: the project compiles without the DOM's types, and this runs in the
 * page. Reads every chart canvas: size, and pixels that are neither transparent nor grey (drawn
 * series; axes, grid and labels are grey or black).
 */
const INSPECT_CHARTS = `(() => Array.from(document.querySelectorAll('.chart[data-chart]')).map((el) => {
  const canvas = el.querySelector('.uplot canvas');
  if (canvas === null) return { id: el.id, hasCanvas: false, widthPx: 0, heightPx: 0, colouredPixels: 0 };
  let coloured = 0;
  if (canvas.width > 0 && canvas.height > 0) {
    const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < px.length; i += 4) {
      if (px[i + 3] > 0 && Math.max(px[i], px[i + 1], px[i + 2]) - Math.min(px[i], px[i + 1], px[i + 2]) > 40) coloured++;
    }
  }
  return { id: el.id, hasCanvas: true, widthPx: canvas.width, heightPx: canvas.height, colouredPixels: coloured };
}))()`;

const DRAWN_OR_FAILED = `typeof window.__raceday_drawn === 'number' || !document.getElementById('chart-error').hidden`;
const DRAWN_MS = `typeof window.__raceday_drawn === 'number' ? window.__raceday_drawn : null`;
const SHOWN_ERROR = `(() => { const box = document.getElementById('chart-error'); return box === null || box.hidden ? null : box.textContent; })()`;

/** Opens the file, waits until the charts report drawn (or `timeoutMs`), and inspects the page. */
export async function checkReportPage(browser: Browser, htmlPath: string, probes: Readonly<Record<string, string>> = {}, timeoutMs = 20_000): Promise<PageCheck> {
  const page = await browser.newPage();
  const fileUrl = pathToFileURL(htmlPath).href;
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const requests: string[] = [];
  try {
    await page.setRequestInterception(true);
    page.on('request', (req) => {
      if (req.url() === fileUrl) return void req.continue();
      requests.push(req.url());
      void req.abort('blockedbyclient');
    });
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => pageErrors.push(err instanceof Error ? err.message : String(err)));
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(fileUrl, { waitUntil: 'load', timeout: timeoutMs });
    await page.waitForFunction(DRAWN_OR_FAILED, { timeout: timeoutMs }).catch(() => undefined);
    const drawnMs = (await page.evaluate(DRAWN_MS)) as number | null;
    const charts = (await page.evaluate(INSPECT_CHARTS)) as ChartCheck[];
    const shownError = (await page.evaluate(SHOWN_ERROR)) as string | null;
    const values: Record<string, unknown> = {};
    for (const [name, expression] of Object.entries(probes)) values[name] = await page.evaluate(expression);
    return { charts, consoleErrors, pageErrors, requests, drawnMs, shownError, probes: values };
  } finally {
    await page.close();
  }
}
