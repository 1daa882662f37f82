// The parallel generator: the main thread draws the day (the only place randomness is consumed)
// into columnar event batches, worker threads serialize them, and the main thread writes the
// results in batch order. Same bytes as generateJsonl for the same seed, whatever the worker count.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { generateJsonl, raceEventLine, summarize, writeHeader, writeUsers, line, type GenerateOptions, type GenerateSummary } from './generate.ts';
import { LineWriter } from './jsonl.ts';
import { LIMITS } from './limits.ts';
import { buildPlan } from './plan.ts';
import type { ScenarioSpec } from './spec.ts';
import { EVENT_TICKET, openDayStream } from './stream.ts';

/** Events per batch handed to a worker (about 10 MB of output each). */
const BATCH_EVENTS = 32_768;
/** Batches in flight per worker: enough to keep workers busy, bounded to bound memory. */
const IN_FLIGHT_PER_WORKER = 2;

export interface EventBatch {
  readonly id: number;
  count: number;
  /** Race index per event; 0xffff marks a pre-rendered record taken from `texts` in order. */
  readonly race: Uint16Array;
  readonly seq: Uint32Array;
  readonly user: Uint32Array;
  readonly comboFlat: Uint16Array;
  readonly medal: Uint8Array;
  readonly stake: Uint32Array;
  readonly placedAtMs: Uint32Array;
  readonly texts: string[];
}

export interface SerializedBatch {
  readonly id: number;
  readonly bytes: ArrayBuffer;
  readonly length: number;
}

function newBatch(id: number): EventBatch {
  return {
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

function startWorkers(n: number, spec: ScenarioSpec, seed: number) {
  const url = new URL('./serialize-worker.ts', import.meta.url);
  const workers = Array.from({ length: n }, () => new Worker(url, { workerData: { spec, seed } }));
  const waiting = new Map<number, { resolve: (r: SerializedBatch) => void; reject: (e: unknown) => void }>();
  const failed: unknown[] = [];
  for (const w of workers) {
    w.on('message', (r: SerializedBatch) => {
      waiting.get(r.id)?.resolve(r);
      waiting.delete(r.id);
    });
    // A worker that dies fails every batch still out: the output would have a hole.
    w.on('error', (e) => {
      failed.push(e);
      for (const p of waiting.values()) p.reject(e);
      waiting.clear();
    });
  }
  return {
    submit(b: EventBatch): Promise<SerializedBatch> {
      const worker = workers[b.id % workers.length] as Worker;
      const done = new Promise<SerializedBatch>((resolve, reject) => waiting.set(b.id, { resolve, reject }));
      const transfer = [b.race.buffer, b.seq.buffer, b.user.buffer, b.comboFlat.buffer, b.medal.buffer, b.stake.buffer, b.placedAtMs.buffer] as ArrayBuffer[];
      worker.postMessage(b, transfer);
      return done;
    },
    failed: () => failed,
    stop: () => Promise.all(workers.map((w) => w.terminate())),
  };
}

/** Like generateJsonl; with `workers` 0 it is generateJsonl. */
export async function generateJsonlParallel(spec: ScenarioSpec, seed: number, opts: GenerateOptions & { readonly workers?: number }): Promise<GenerateSummary> {
  const n = opts.workers ?? defaultWorkers();
  if (n === 0) return generateJsonl(spec, seed, opts);
  const startedMs = performance.now();
  const plan = buildPlan(spec, seed);
  const pool = startWorkers(n, spec, seed);
  const w = new LineWriter(opts.sink, LIMITS.outputBufferBytes);
  writeHeader(w, plan);
  writeUsers(w, plan);
  w.flush();
  const pending: Promise<SerializedBatch>[] = [];
  let bytes = w.bytesWritten;
  const drainOne = async () => {
    const r = await (pending.shift() as Promise<SerializedBatch>);
    opts.sink(new Uint8Array(r.bytes, 0, r.length));
    bytes += r.length;
  };
  const stream = openDayStream(plan);
  const cur = stream.cursor;
  let tickets = 0;
  let cash = 0;
  let batch = newBatch(0);
  const every = opts.progressEveryTickets ?? 1 << 20;
  const dispatch = async () => {
    pending.push(pool.submit({ ...batch, texts: batch.texts }));
    batch = newBatch(batch.id + 1);
    while (pending.length >= n * IN_FLIGHT_PER_WORKER) await drainOne();
  };
  try {
    while (stream.next()) {
      const i = batch.count++;
      if (cur.kind !== EVENT_TICKET) {
        batch.race[i] = 0xffff;
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
      if (batch.count === BATCH_EVENTS) await dispatch();
    }
    if (batch.count > 0) await dispatch();
    while (pending.length > 0) await drainOne();
  } finally {
    await pool.stop();
  }
  if (pool.failed().length > 0) throw pool.failed()[0];
  const tail = new LineWriter(opts.sink, 4096);
  line(tail, { kind: 'end', tickets, cashTickets: cash, medalTickets: tickets - cash });
  tail.flush();
  opts.onProgress?.(tickets, plan.tickets);
  return summarize(spec, seed, plan, tickets, cash, bytes + tail.bytesWritten, startedMs);
}
