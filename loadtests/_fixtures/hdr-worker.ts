// A worker thread for the merge test: records the latencies it is given into the swarm's
// histogram set, exactly as a swarm worker does, and posts them encoded.
import { parentPort, workerData } from 'node:worker_threads';
import { createHistogramSet, encodeHistograms, recordLatency } from '../swarm/histograms.ts';

const { key, valuesMs } = workerData as { key: string; valuesMs: number[] };
const set = createHistogramSet();
for (const v of valuesMs) recordLatency(set, key, v);
parentPort?.postMessage(encodeHistograms(set));
