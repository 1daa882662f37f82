// Proves the percentiles a report prints match the recorded latencies: on 1..1000 ms recorded
// once each, p50 is about 500 ms, p99 about 990 ms, max exactly 1000 ms, within HDR's 3 digits.
import { describe, expect, it } from 'vitest';
import { createLatencyHistogram, percentilesOf } from './latency.ts';

describe('percentilesOf', () => {
  it('reports p50/p90/p99/p99.9/max in ms from microsecond recordings', () => {
    const h = createLatencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) h.recordValue(ms * 1000);
    const p = percentilesOf(h);
    expect(p.count).toBe(1000);
    expect(p.p50).toBeCloseTo(500, -0.5);
    expect(p.p90).toBeCloseTo(900, -0.5);
    expect(p.p99).toBeCloseTo(990, -0.5);
    expect(p.max).toBe(1000);
    expect(p['p99.9']).toBeLessThanOrEqual(p.max);
  });

  it('never reports a percentile above the true maximum', () => {
    const h = createLatencyHistogram();
    h.recordValue(123_457);
    const p = percentilesOf(h);
    expect(p.max).toBe(123.457);
    expect(p.p50).toBe(123.457);
  });
});
