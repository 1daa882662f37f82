// Worker thread of the parallel generator: turns jobs (columnar event batches or ranges of user
// lines) into JSON Lines bytes with the same functions as the main thread. It rebuilds the day's
// plan from (spec, seed) for the race and combination segments; the draws stay on the main thread,
// so bytes do not depend on how many workers there are. Results go to a dedicated port the main
// thread polls synchronously, and a shared counter wakes it (it never yields to the event loop).
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { userLines } from './generate.ts';
import { buildPlan } from './plan.ts';
import type { ScenarioSpec } from './spec.ts';
import { raceSegments, serializeColumns, type SegmentCache } from './ticket-lines.ts';
import type { Job, JobResult } from './parallel.ts';

const { spec, seed, port, signal } = workerData as { spec: ScenarioSpec; seed: number; port: MessagePort; signal: Int32Array };
const plan = buildPlan(spec, seed);
const cache: SegmentCache = new Map();
const segs = plan.races.map((r) => raceSegments(r, cache));

function run(job: Job): Uint8Array {
  return job.kind === 'users' ? userLines(plan, job.from, job.to) : serializeColumns(job, segs, plan.userDigits, job.reuse);
}

// Until this arrives the main thread serializes everything itself instead of queueing behind the start-up.
port.postMessage({ ready: true });
Atomics.add(signal, 0, 1);
Atomics.notify(signal, 0);

parentPort?.on('message', (job: Job) => {
  let r: JobResult;
  try {
    const bytes = run(job);
    r = { id: job.id, bytes: bytes.buffer as ArrayBuffer, offset: bytes.byteOffset, length: bytes.length };
    port.postMessage(r, [r.bytes]);
  } catch (e) {
    r = { id: job.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
    port.postMessage(r);
  }
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
});
