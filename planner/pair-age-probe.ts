// Measures how the Spanner emulator ages: the latency of a single-use point read (and of a small
// read-write transaction) on a fresh database, before and after the emulator has served batches of
// other transactions. Why it exists: in every validation the runs' start-path reads (ingest, the
// fan-out's count and page) grew run after run on one emulator pair (ingest 20 ms in the first
// calibration run, 130 ms in the thirtieth), and the held-out runs, made last, met an older pair
// than the calibration (docs/capacity-model.md, "The emulator pair's age"). This shows the cause
// apart from any pipeline run: the emulator's reads slow with every transaction it has served,
// whichever project and database served them.
//
//   npx tsx planner/pair-age-probe.ts [--batches 3] [--per-batch 3000] [--cases U/W/S,...] [--json]
//
// With --cases (users/workers per stage/shards, e.g. 1000/2/4,800/3/4) it also runs those
// validation configurations for real (runCase, as `raceday plan --validate` runs a held-out case,
// after a discarded warm-up), each twice, interleaved, before the ageing and again after it: the
// same pair, only the transactions its Spanner emulator served in between differ.
// It uses the emulator pair recorded under RACEDAY_STATE_DIR (or starts one and stops it at the
// end), in a project of its own; point it at an empty state directory to measure a fresh pair.
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ensureDatabases } from '../backends/google/spanner-admin.ts';
import { createSpannerClient, type SpannerTarget } from '../backends/google/spanner-client.ts';
import { ensureEmulators, type EmulatorHandle } from '../emulators/index.ts';
import { runCase, type ValidationCase } from './real-run.ts';

/** A Spanner database handle, as the backends' client builds it (the Google clients stay in backends/google). */
type Database = ReturnType<ReturnType<ReturnType<typeof createSpannerClient>['instance']>['database']>;

export interface AgingStep {
  /** Transactions (reads and read-write) this probe had served on the emulator before the step. */
  readonly transactionsBefore: number;
  /** Median single-use point read, ms (60 reads, one at a time). */
  readonly readP50Ms: number;
  /** Median read-write transaction of one read and a commit, ms (20, one at a time). */
  readonly readWriteP50Ms: number;
}

const p50 = (xs: number[]): number => Math.round([...xs].sort((a, b) => a - b)[xs.length >> 1]! * 100) / 100;

async function timed(n: number, f: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f(i);
    out.push(performance.now() - t);
  }
  return out;
}

const read = (db: Database, i: number): Promise<unknown> => db.table('Users').read({ keys: [[`u${i}`]], columns: ['UserId'], json: true });
const readWrite = (db: Database, i: number): Promise<unknown> =>
  db.runTransactionAsync(async (tx) => {
    await tx.read('Users', { keys: [[`u${i}`]], columns: ['UserId'], json: true });
    await tx.commit();
  });

/** `batches` rounds of `perBatch` transactions (alternately single-use reads and read-write ones, 20 at a time), measured before and after each. */
export async function probePairAging(target: SpannerTarget, o: { readonly batches: number; readonly perBatch: number }): Promise<AgingStep[]> {
  await ensureDatabases({ ...target, databaseIds: ['probe', 'load'] });
  const spanner = createSpannerClient(target);
  try {
    const probe = spanner.instance(target.instanceId).database('probe');
    const load = spanner.instance(target.instanceId).database('load');
    const steps: AgingStep[] = [];
    let served = 0;
    const measure = async (): Promise<void> => {
      const reads = await timed(60, (i) => read(probe, i));
      const rw = await timed(20, (i) => readWrite(probe, i));
      steps.push({ transactionsBefore: served, readP50Ms: p50(reads), readWriteP50Ms: p50(rw) });
      served += 80;
    };
    await measure();
    for (let b = 0; b < o.batches; b++) {
      let next = 0;
      const op = b % 2 === 0 ? read : readWrite;
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (next < o.perBatch) await op(load, next++);
        }),
      );
      served += o.perBatch;
      await measure();
    }
    return steps;
  } finally {
    spanner.close();
  }
}

export interface CaseRun {
  readonly case: string;
  readonly makespanMs: number;
  readonly ok: boolean;
  readonly loadAverage1m: number;
}

/** Each case twice, interleaved (a, b, a, b), as the validation runs a held-out case. */
async function runCases(cases: readonly ValidationCase[], pair: EmulatorHandle): Promise<CaseRun[]> {
  const out: CaseRun[] = [];
  for (let round = 0; round < 2; round++) {
    for (const c of cases) {
      const m = await runCase('emulators', c, () => undefined, undefined, { pair, spannerPerRun: false });
      out.push({ case: `${c.users}u/${c.workers}w/${c.shards}s`, makespanMs: Math.round(m.makespanMs), ok: m.ok, loadAverage1m: m.loadAverage1m });
    }
  }
  return out;
}

function casesOf(arg: string | undefined): ValidationCase[] {
  if (arg === undefined) return [];
  return arg.split(',').map((x) => {
    const [users, workers, shards] = x.split('/').map(Number);
    if (!(users! > 0 && workers! > 0 && shards! > 0)) throw new Error(`--cases wants users/workers/shards, got ${x}`);
    return { users: users!, workers: workers!, shards: shards!, maxInFlight: 256 };
  });
}

async function main(argv: readonly string[]): Promise<void> {
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i < 0 ? undefined : argv[i + 1];
  };
  const batches = Number(flag('--batches') ?? 3);
  const perBatch = Number(flag('--per-batch') ?? 3_000);
  const cases = casesOf(flag('--cases'));
  const pair = await ensureEmulators({ pubsub: cases.length > 0, spanner: true, log: (l) => process.stderr.write(`${l}\n`) });
  try {
    if (pair.spannerHost === undefined) throw new Error('no Spanner emulator');
    const target: SpannerTarget = { projectId: `probe-${randomUUID().slice(0, 8)}`, instanceId: 'probe', emulator: true, emulatorHost: pair.spannerHost };
    const load1 = loadavg()[0];
    let young: CaseRun[] = [];
    if (cases.length > 0) {
      await runCase('emulators', cases[0] as ValidationCase, () => undefined, undefined, { pair, spannerPerRun: false }); // warm-up, discarded
      young = await runCases(cases, pair);
    }
    const steps = await probePairAging(target, { batches, perBatch });
    const old = cases.length > 0 ? await runCases(cases, pair) : [];
    const out = { reused: pair.reused, batches, perBatch, loadAverage1m: [load1, loadavg()[0]], steps, ...(cases.length > 0 ? { runsBeforeAgeing: young, runsAfterAgeing: old } : {}) };
    if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    else {
      for (const s of steps) process.stdout.write(`after ${s.transactionsBefore} transactions: point read p50 ${s.readP50Ms} ms, read-write p50 ${s.readWriteP50Ms} ms\n`);
      for (const [label, runs] of [['before', young], ['after', old]] as const) for (const r of runs) process.stdout.write(`${label} the ageing: ${r.case} ${r.makespanMs} ms\n`);
    }
  } finally {
    await pair.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
