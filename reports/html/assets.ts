// The files report.html inlines, read at render time: uPlot's minified build and stylesheet from
// the installed package, and this folder's client script. Nothing is fetched when the page opens,
// so the report works offline, from an artifact, or from a mail attachment.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inlineSource } from './escape.ts';

export interface ReportAssets {
  readonly uplotJs: string;
  readonly uplotCss: string;
  readonly clientJs: string;
}

/**
 * uPlot's banner names its home page; the report must hold no external address at all, so the
 * banner becomes a plain attribution with the same version and licence.
 */
function withoutBannerUrl(source: string): string {
  return source.replace(/^\/\*!\s*https?:\/\/\S+\s*(\(v[\d.]+\))?\s*\*\//, (_m, version: string | undefined) => `/*! uPlot ${version ?? ''} (MIT licence, Leon Sorokin) */`);
}

let cached: ReportAssets | undefined;

export function loadReportAssets(): ReportAssets {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('uplot'));
  const here = dirname(fileURLToPath(import.meta.url));
  cached = {
    uplotJs: inlineSource(withoutBannerUrl(readFileSync(join(dist, 'uPlot.iife.min.js'), 'utf8')), 'script'),
    uplotCss: inlineSource(readFileSync(join(dist, 'uPlot.min.css'), 'utf8'), 'style'),
    clientJs: inlineSource(readFileSync(join(here, 'client.js'), 'utf8'), 'script'),
  };
  return cached;
}
