import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { fitDrift, t975, type DriftPoint } from './drift.ts';

const MIN = 60_000;

/** Samples every 10 s for `minutes`, value = f(t) + noise. */
function series(minutes: number, f: (tMs: number) => number, noise: number, seed = 1, group?: (tMs: number) => string): DriftPoint[] {
  const rng = createRng(seed);
  const out: DriftPoint[] = [];
  for (let t = 0; t <= minutes * MIN; t += 10_000) {
    const p = { tMs: t, value: f(t) + (rng.float() - 0.5) * 2 * noise };
    out.push(group === undefined ? p : { ...p, group: group(t) });
  }
  return out;
}

const opts = { metric: 'rss', unit: 'MB', thresholdPerMin: 1 };

describe('fitDrift', () => {
  it('recovers a known slope and says growing when it is well above the threshold', () => {
    const d = fitDrift(series(30, (t) => 100 + (5 * t) / MIN, 3), opts);
    expect(d.slopePerMin).toBeGreaterThan(4.8);
    expect(d.slopePerMin).toBeLessThan(5.2);
    expect(d.lowPerMin).toBeLessThan(d.slopePerMin);
    expect(d.highPerMin).toBeGreaterThan(d.slopePerMin);
    expect(d.verdict).toBe('growing');
  });

  it('a flat noisy series has no unbounded growth', () => {
    const d = fitDrift(series(30, () => 200, 10), opts);
    expect(Math.abs(d.slopePerMin)).toBeLessThan(0.5);
    expect(d.verdict).toBe('no unbounded growth');
    expect(d.median).toBeGreaterThan(190);
  });

  it('restarts are not growth: a sawtooth of flat incarnations is flat within each', () => {
    // Each 5-minute incarnation starts at 80 MB and stays flat; a plain regression over the
    // fresh starts would still be flat, so make later incarnations start higher: only the
    // pooled within-group slope reads them as flat.
    const inc = (t: number): number => Math.floor(t / (5 * MIN));
    const pts = series(30, (t) => 80 + 20 * inc(t), 1, 2, (t) => `pid-${inc(t)}`);
    expect(fitDrift(pts, opts).verdict).toBe('no unbounded growth');
    expect(fitDrift(pts.map(({ group: _g, ...p }) => p), opts).verdict).toBe('growing');
  });

  it('leaves warm-up out and says so', () => {
    const pts = series(30, (t) => (t < 3 * MIN ? (50 * t) / MIN : 150), 1);
    const d = fitDrift(pts, { ...opts, warmupMs: 3 * MIN });
    expect(d.warmupSamples).toBe(18);
    expect(d.verdict).toBe('no unbounded growth');
    expect(fitDrift(pts, opts).verdict).not.toBe('no unbounded growth');
  });

  it('one step up (the heap growing a chunk) is inconclusive, not growth: neighbouring samples share their error', () => {
    // Flat at 100 MB, one step to 140 MB halfway: least squares finds 2 MB/min, and with 181
    // samples taken as independent its interval would sit far above the threshold.
    const pts = series(30, (t) => (t < 15 * MIN ? 100 : 140), 1, 3);
    const d = fitDrift(pts, opts);
    expect(d.slopePerMin).toBeGreaterThan(1.5);
    expect(d.lowPerMin).toBeLessThan(opts.thresholdPerMin);
    expect(d.verdict).toBe('inconclusive');
    // The same slope as a steady climb is growth.
    expect(fitDrift(series(30, (t) => 100 + (2 * t) / MIN, 1, 3), opts).verdict).toBe('growing');
  });

  it('too few samples is said, not guessed', () => {
    expect(fitDrift([{ tMs: 0, value: 1 }, { tMs: 1, value: 2 }], opts).verdict).toBe('too few samples');
  });

  it('straddling the threshold is inconclusive', () => {
    // Slope exactly at the threshold under alternating noise: the interval holds the threshold.
    const pts = Array.from({ length: 13 }, (_, i) => ({ tMs: i * 10_000, value: 100 + (i * 10_000) / MIN + (i % 2 === 0 ? 20 : -20) }));
    const d = fitDrift(pts, opts);
    expect(d.lowPerMin).toBeLessThan(1);
    expect(d.highPerMin).toBeGreaterThan(1);
    expect(d.verdict).toBe('inconclusive');
  });
});

describe('t975', () => {
  it('matches the table and the normal limit', () => {
    expect(t975(1)).toBeCloseTo(12.706, 3);
    expect(t975(30)).toBeCloseTo(2.042, 3);
    expect(t975(40)).toBeCloseTo(2.021, 2);
    expect(t975(1e6)).toBeCloseTo(1.96, 2);
  });
});
