// The parallel generator: the main thread draws the day (the only place randomness is consumed)
// into columnar event batches; worker threads serialize them, and so does the main thread itself
// whenever every worker already has enough queued (so no core idles whichever side is slower).
// Results are written strictly in job order, so the bytes are those of generateJsonl for the same
// seed whatever the worker count. The user lines are jobs too. The main thread polls the workers'
// result ports synchronously (receiveMessageOnPort) and sleeps on a shared counter they bump.
import { availableParallelism } from 'node:os';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { generateJsonl, raceEventLine, summarize, writeHeader, line, userLines, type GenerateOptions, type GenerateSummary } from './generate.ts';
import { LineWriter } from './jsonl.ts';
import { LIMITS } from './limits.ts';
import { buildPlan, type DayPlan } from './plan.ts';
import type { ScenarioSpec } from './spec.ts';
import { EVENT_TICKET, openDayStream } from './stream.ts';
import { RACE_TEXT, raceSegments, serializeColumns, type RaceSegments, type SegmentCache, type TicketColumns } from './ticket-lines.ts';

/** Events per batch (about 6 MB of output each). */
const BATCH_EVENTS = 32_768;
/** User lines per job (about 4 MB). */
const USERS_PER_JOB = 65_536;
/** Jobs queued per worker: enough that it never idles while the main thread serializes one itself. */
const IN_FLIGHT_PER_WORKER = 3;
/** Jobs started but not yet written (waiting for an earlier one): bounds memory. */
const UNWRITTEN_JOBS_MAX = 16;
/** Written output buffers kept for reuse. */
const SPARE_BUFFERS_MAX = 8;
/** Longest sleep between checks for a dead worker while waiting for results. */
const WAIT_SLICE_MS = 50;

export interface EventBatch extends TicketColumns {
  readonly kind: 'events';
  readonly id: number;
  count: number;
  readonly texts: string[];
  /** An output buffer already written out, handed back for reuse. */
  reuse?: ArrayBuffer;
}

export interface UsersJob {
  readonly kind: 'users';
  readonly id: number;
  readonly from: number;
  readonly to: number;
}

export type Job = EventBatch | UsersJob;

export type JobResult = { readonly id: number; readonly bytes: ArrayBuffer; readonly offset: number; readonly length: number } | { readonly id: number; readonly error: string };

function newBatch(id: number): EventBatch {
  return {
    kind: 'events',
    id,
    count: 0,
    race: new Uint16Array(BATCH_EVENTS),
    seq: new Uint32Array(BATCH_EVENTS),
    user: new Uint32Array(BATCH_EVENTS),
    comboFlat: new Uint16Array(BATCH_EVENTS),
    medal: new Uint8Array(BATCH_EVENTS),
    stake: new Uint32Array(BATCH_EVENTS),
    placedAtMs: new Uint32Array(BATCH_EVENTS),
    texts: [],
  };
}

/** Workers to use by default: the cores beyond the drawing thread (none on a single core). */
export function defaultWorkers(): number {
  return Math.max(0, Math.min(4, availableParallelism() - 1)) || (availableParallelism() > 1 ? 1 : 0);
}

interface Slot {
  readonly worker: Worker;
  readonly port: MessagePort;
  inFlight: number;
  /** Set when the worker has built its plan: jobs queued before would wait behind its start-up. */
  ready: boolean;
}

function startPool(n: number, spec: ScenarioSpec, seed: number) {
  const url = new URL('./serialize-worker.ts', import.meta.url);
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const failed: unknown[] = [];
  const slots: Slot[] = Array.from({ length: n }, () => {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(url, { workerData: { spec, seed, port: port2, signal }, transferList: [port2] });
    // Seen only when the main thread yields (see wait): a dead worker leaves a hole in the output.
    worker.on('error', (e) => failed.push(e));
    return { worker, port: port1, inFlight: 0, ready: false };
  });
  return {
    /** Hands the job to the least busy worker, or returns false if all have enough queued. */
    trySubmit(job: Job): boolean {
      let best: Slot | undefined;
      for (const s of slots) if (s.ready && s.inFlight < IN_FLIGHT_PER_WORKER && (best === undefined || s.inFlight < best.inFlight)) best = s;
      if (best === undefined) return false;
      best.inFlight++;
      const transfer = job.kind === 'users' ? [] : ([job.race.buffer, job.seq.buffer, job.user.buffer, job.comboFlat.buffer, job.medal.buffer, job.stake.buffer, job.placedAtMs.buffer] as ArrayBuffer[]);
      if (job.kind === 'events' && job.reuse !== undefined) transfer.push(job.reuse);
      best.worker.postMessage(job, transfer);
      return true;
    },
    poll(accept: (r: JobResult) => void): void {
      for (const s of slots) {
        for (let m = receiveMessageOnPort(s.port); m !== undefined; m = receiveMessageOnPort(s.port)) {
          const r = m.message as JobResult | { ready: true };
          if ('ready' in r) s.ready = true;
          else {
            s.inFlight--;
            accept(r);
          }
        }
      }
    },
    allReady: (): boolean => slots.every((s) => s.ready),
    signalValue: (): number => Atomics.load(signal, 0),
    /** Sleeps until a worker posts a result after `seen` was read (or a slice passes, to check for dead workers). */
    async wait(seen: number): Promise<void> {
      if (Atomics.wait(signal, 0, seen, WAIT_SLICE_MS) !== 'timed-out') return;
      await yieldToEventLoop();
      if (failed.length > 0) throw failed[0];
    },
    stop: async () => {
      for (const s of slots) s.port.close();
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

/** Writes job results in job order; jobs run on a worker when one has room, else right here. */
function jobQueue(plan: DayPlan, pool: ReturnType<typeof startPool>, write: (bytes: Uint8Array) => void, onJobPlaced?: (onWorker: boolean) => void) {
  let segs: RaceSegments[] | undefined;
  /** Output buffers already written, for the next batches (wherever they are serialized). */
  const spare: ArrayBuffer[] = [];
  const runHere = (job: Job): Uint8Array => {
    if (job.kind === 'users') return userLines(plan, job.from, job.to);
    if (segs === undefined) {
      const cache: SegmentCache = new Map();
      segs = plan.races.map((r) => raceSegments(r, cache));
    }
    const out = serializeColumns(job, segs, plan.userDigits, job.reuse);
    job.reuse = undefined;
    return out;
  };
  const done = new Map<number, Uint8Array>();
  let started = 0;
  let written = 0;
  const accept = (r: JobResult): void => {
    if ('error' in r) throw new Error(`invariant violated: serializer worker failed: ${r.error}`);
    done.set(r.id, new Uint8Array(r.bytes, r.offset, r.length));
  };
  const writeDone = (): void => {
    pool.poll(accept);
    for (let b = done.get(written); b !== undefined; b = done.get(written)) {
      done.delete(written);
      written++;
      write(b);
      if (spare.length < SPARE_BUFFERS_MAX) spare.push(b.buffer as ArrayBuffer);
    }
  };
  /** Waits until at most `unwritten` jobs are not yet written. */
  const settle = async (unwritten: number): Promise<void> => {
    for (;;) {
      const seen = pool.signalValue();
      writeDone();
      if (started - written <= unwritten) return;
      await pool.wait(seen);
    }
  };
  return {
    nextId: (): number => started++,
    async run(job: Job): Promise<void> {
      if (job.kind === 'events') job.reuse = spare.pop();
      const onWorker = pool.trySubmit(job);
      onJobPlaced?.(onWorker);
      if (!onWorker) done.set(job.id, runHere(job));
      await settle(UNWRITTEN_JOBS_MAX);
    },
    finish: () => settle(0),
    async workersReady(): Promise<void> {
      for (;;) {
        const seen = pool.signalValue();
        pool.poll(accept);
        if (pool.allReady()) return;
        await pool.wait(seen);
      }
    },
  };
}

export interface ParallelOptions extends GenerateOptions {
  readonly workers?: number;
  /** Waits for every worker to start before the first job (tests: small days would finish first). */
  readonly startWhenWorkersReady?: boolean;
  /** Told where each job runs (tests: both paths must be taken). */
  readonly onJobPlaced?: (onWorker: boolean) => void;
}

/** Like generateJsonl; with `workers` 0 it is generateJsonl. */
export async function generateJsonlParallel(spec: ScenarioSpec, seed: number, opts: ParallelOptions): Promise<GenerateSummary> {
  const n = opts.workers ?? defaultWorkers();
  if (n === 0) return generateJsonl(spec, seed, opts);
  const startedMs = performance.now();
  const plan = buildPlan(spec, seed);
  const pool = startPool(n, spec, seed);
  let bytes = 0;
  const write = (b: Uint8Array): void => {
    opts.sink(b);
    bytes += b.length;
  };
  const head = new LineWriter(write, LIMITS.outputBufferBytes);
  writeHeader(head, plan);
  head.flush();
  const jobs = jobQueue(plan, pool, write, opts.onJobPlaced);
  let tickets = 0;
  let cash = 0;
  const every = opts.progressEveryTickets ?? 1 << 20;
  try {
    if (opts.startWhenWorkersReady === true) await jobs.workersReady();
    for (let from = 0; from < plan.users; from += USERS_PER_JOB) await jobs.run({ kind: 'users', id: jobs.nextId(), from, to: Math.min(plan.users, from + USERS_PER_JOB) });
    const stream = openDayStream(plan);
    const cur = stream.cursor;
    let batch = newBatch(jobs.nextId());
    while (stream.next()) {
      const i = batch.count++;
      if (cur.kind !== EVENT_TICKET) {
        batch.race[i] = RACE_TEXT;
        batch.texts.push(raceEventLine(cur.race, cur.kind, cur.atMs, spec.returnRates));
      } else {
        batch.race[i] = cur.race.race.index;
        batch.seq[i] = cur.ticketSeq;
        batch.user[i] = cur.userIndex;
        batch.comboFlat[i] = cur.comboFlat;
        batch.medal[i] = cur.medal ? 1 : 0;
        batch.stake[i] = cur.stake;
        batch.placedAtMs[i] = cur.placedAtMs;
        tickets++;
        if (!cur.medal) cash++;
        if (tickets % every === 0) opts.onProgress?.(tickets, plan.tickets);
      }
      if (batch.count === BATCH_EVENTS) {
        await jobs.run(batch);
        batch = newBatch(jobs.nextId());
      }
    }
    await jobs.run(batch);
    await jobs.finish();
  } finally {
    await pool.stop();
  }
  const tail = new LineWriter(write, 4096);
  line(tail, { kind: 'end', tickets, cashTickets: cash, medalTickets: tickets - cash });
  tail.flush();
  opts.onProgress?.(tickets, plan.tickets);
  return summarize(spec, seed, plan, tickets, cash, bytes, startedMs);
}
