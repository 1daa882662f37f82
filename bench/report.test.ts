// `raceday bench report` end to end on a one-minute day: it prints one JSON object with the
// page's size, render and draw times, the 20 series and every chart drawn without a problem (no
// timing is asserted: figures come from the bench itself), and refuses a bad option with exit 2.
import { afterEach, expect, it, vi } from 'vitest';
import { runBench } from './report.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

function capture(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

it('prints the size, render time and draw time of a one-minute day as one JSON object', async () => {
  const out = capture();
  const code = await runBench(['--duration-s', '60', '--loads', '1', '--renders', '1', '--json']);
  vi.restoreAllMocks();
  expect(code).toBe(0);
  const result = JSON.parse(out.join('')) as Record<string, unknown>;
  expect(result).toMatchObject({ bench: 'report', durationS: 60, intervalMs: 1000, series: 20, pointsPerSeries: 60, variants: 2, charts: 6, problems: [] });
  expect(result['htmlBytes']).toBeGreaterThan(50_000);
  expect(typeof result['renderMsMedian']).toBe('number');
  expect(typeof result['drawMsMedian']).toBe('number');
  expect((result['targets'] as Record<string, unknown>)['htmlBytesOk']).toBe(true);
});

it('refuses an unknown option with exit 2', async () => {
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  expect(await runBench(['--minutes', '5'])).toBe(2);
});
