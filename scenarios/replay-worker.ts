// `raceday run --scenario S` replays in a worker thread with a bounded JavaScript heap. V8 lets an
// uncapped heap grow toward its default limit (4 GB here) before collecting hard, so the same
// grand-prix replay peaked anywhere from 2.5 to 3.6 GB of RSS from one run to the next; its live
// heap stays near 1 GB, and a 2 GB old generation makes the collector work before the process
// outgrows its memory budget. The report comes back as a message.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { BetPath, ReplayReport } from './replay.ts';
import type { ProgressMode } from './replay-progress.ts';
import type { ScenarioSpec } from './spec.ts';

/** Old-generation heap of the replay worker (the store's columns live outside it, in array buffers). */
export const REPLAY_HEAP_MB = 2_048;

export interface WorkerReplayOptions {
  readonly spec: ScenarioSpec;
  readonly seed: number;
  readonly speed: number;
  readonly bets: BetPath;
  /** Decided by the caller: a worker's stderr is never a terminal. */
  readonly progress: ProgressMode;
  /** Build the replay's run record (report.record). */
  readonly record?: boolean;
}

interface Job extends WorkerReplayOptions {
  readonly kind: 'raceday-replay';
}

export function replayInWorker(o: WorkerReplayOptions): Promise<ReplayReport> {
  return new Promise((resolve, reject) => {
    const job: Job = { kind: 'raceday-replay', ...o };
    const worker = new Worker(new URL(import.meta.url), { workerData: job, resourceLimits: { maxOldGenerationSizeMb: REPLAY_HEAP_MB } });
    let report: ReplayReport | undefined;
    worker.once('message', (r: ReplayReport) => (report = r));
    worker.once('error', (e: Error & { code?: string }) =>
      reject(e.code === 'ERR_WORKER_OUT_OF_MEMORY' ? new Error(`the replay needed more than its ${REPLAY_HEAP_MB} MB heap (REPLAY_HEAP_MB in scenarios/replay-worker.ts)`) : e),
    );
    worker.once('exit', (code) => (report !== undefined ? resolve(report) : reject(new Error(`the replay worker exited with code ${code} before reporting`))));
  });
}

async function runJob(job: Job): Promise<void> {
  const { replayOnMemory } = await import('./replay-memory.ts');
  const report = await replayOnMemory({ spec: job.spec, seed: job.seed, speed: job.speed, bets: job.bets, progress: { mode: job.progress }, ...(job.record === true ? { record: true } : {}) });
  parentPort?.postMessage(report);
}

if (!isMainThread && (workerData as Partial<Job> | undefined)?.kind === 'raceday-replay') await runJob(workerData as Job);
