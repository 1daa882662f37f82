// Proves the swarm's histogram merge is exact: two real worker threads record halves of a set of
// latencies and post them encoded; the driver's merge equals one histogram that recorded the union,
// percentile for percentile. A lossy merge (e.g. averaging the workers' percentiles) would differ.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createHistogramSet, mergeEncoded, recordLatency, type EncodedHistograms } from './histograms.ts';

function runWorker(key: string, valuesMs: number[]): Promise<EncodedHistograms> {
  const w = new Worker(new URL('../_fixtures/hdr-worker.ts', import.meta.url), { workerData: { key, valuesMs } });
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

describe('HDR merge across workers', () => {
  it('two workers merged equal one histogram of the union', async () => {
    // Skewed halves: one worker sees the fast deliveries, the other a long tail.
    const a = Array.from({ length: 5000 }, (_, i) => 0.2 + (i % 97) * 0.13);
    const b = Array.from({ length: 3000 }, (_, i) => 5 + ((i * 7919) % 4000) * 0.5);
    const [ea, eb] = await Promise.all([runWorker('healthy/notification', a), runWorker('healthy/notification', b)]);
    const merged = createHistogramSet();
    mergeEncoded(merged, ea);
    mergeEncoded(merged, eb);
    const single = createHistogramSet();
    for (const v of [...a, ...b]) recordLatency(single, 'healthy/notification', v);
    const m = merged.get('healthy/notification');
    const s = single.get('healthy/notification');
    expect(m?.totalCount).toBe(8000);
    expect(m?.outputPercentileDistribution()).toBe(s?.outputPercentileDistribution());
    expect(m?.maxValue).toBe(s?.maxValue);
    // The halves alone do not look like the union: the comparison can fail.
    const onlyA = createHistogramSet();
    mergeEncoded(onlyA, ea);
    expect(onlyA.get('healthy/notification')?.outputPercentileDistribution()).not.toBe(s?.outputPercentileDistribution());
  });

  it('negative latencies count as zero, so no delivery is left out', () => {
    const set = createHistogramSet();
    recordLatency(set, 'k', -3);
    expect(set.get('k')?.totalCount).toBe(1);
    expect(set.get('k')?.maxValue).toBe(0);
  });
});
