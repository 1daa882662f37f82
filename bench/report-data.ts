// A synthetic run record shaped like a replayed race day, for `raceday bench report` and the
// report's tests: races every few minutes, each a burst of settlements whose backlog rises and
// drains, latencies that climb with the backlog, and (optionally) variants with interleaved
// samples. Deterministic from the seed (but for the run id and start time). It is built with the
// RunRecorder every command uses, on a virtual clock, so the record holds real per-interval HDR
// histograms and timelines exactly as a run writes them, and rendering does the same work.
import { createRng, type SeededRng } from '../core/rng.ts';
import { RunRecorder } from '../reports/record/recorder.ts';
import type { RunRecord } from '../reports/record/schema.ts';

export interface SyntheticDayOptions {
  /** Length of the day in seconds (default one hour). */
  readonly durationS?: number;
  /** Latency interval and timeline sampling period, ms (default 1,000). */
  readonly intervalMs?: number;
  /** Latencies recorded per stage per busy interval (default 40). */
  readonly latenciesPerInterval?: number;
  /** Variants with this many interleaved samples each (default none). */
  readonly variants?: readonly { readonly name: string; readonly settings: Record<string, string | number | boolean>; readonly slowdown: number }[];
  readonly samplesPerVariant?: number;
  readonly seed?: number;
  readonly runId?: string;
}

/** 3 stages × (p50, p90, p99, max) + 8 timelines = the 20 series of the report target. */
const STAGES = [
  { name: 'settle', description: 'race result published → the user\'s settlement committed', baseUs: 40_000 },
  { name: 'notify', description: 'race result published → the user\'s notification published', baseUs: 55_000 },
  { name: 'e2e', description: 'race result published → the race ranked', baseUs: 90_000 },
];
const SUBSCRIPTIONS = ['settle', 'post-settle', 'notify'];
const RACE_EVERY_S = 300;

/** How busy the pipeline is at second t: a burst after each race result, draining over ~40 s. */
function load(t: number): number {
  const since = t % RACE_EVERY_S;
  return since < 40 ? 1 - since / 40 : 0;
}

/** Latencies of each stage, interval by interval: a trickle when quiet, a burst after each race. */
function recordLatencies(rec: RunRecorder, rng: SeededRng, durationS: number, intervalMs: number, perInterval: number): void {
  for (const st of STAGES) rec.describeStage(st.name, st.description);
  for (let i = 0; i * intervalMs < durationS * 1000; i++) {
    const busy = load((i * intervalMs) / 1000);
    // Quiet intervals still see a trickle (redeliveries, late users) so every interval has data.
    const n = Math.max(3, Math.round(perInterval * (0.2 + busy)));
    for (const st of STAGES) {
      for (let k = 0; k < n; k++) {
        const tail = rng.float() < 0.02 ? 6 : 1;
        const latencyMs = (st.baseUs * (1 + 4 * busy) * (0.5 + rng.float()) * tail) / 1000;
        rec.recordLatency(st.name, latencyMs, i * intervalMs + (k * intervalMs) / n);
      }
    }
  }
}

/** 2 throughput, 3 backlog and 3 oldest-unacked-age timelines, one point per interval. */
function recordTimelines(rec: RunRecorder, rng: SeededRng, durationS: number, intervalMs: number): void {
  const jitter = (): number => 0.9 + 0.2 * rng.float();
  rec.defineSeries('settled-per-s', 'throughput', 'messages/s');
  rec.defineSeries('notified-per-s', 'throughput', 'messages/s');
  for (const sub of SUBSCRIPTIONS) rec.defineSeries(`backlog-${sub}`, 'backlog', 'messages');
  for (const sub of SUBSCRIPTIONS) rec.defineSeries(`oldest-unacked-age-${sub}`, 'oldest-unacked-age', 'ms');
  for (let t = 0; t < durationS * 1000; t += intervalMs) {
    const s = t / 1000;
    rec.point('settled-per-s', Math.round(2_000 * load(s) * jitter()), t);
    rec.point('notified-per-s', Math.round(1_800 * load(s - 2) * jitter()), t);
    SUBSCRIPTIONS.forEach((sub, j) => rec.point(`backlog-${sub}`, Math.round(20_000 * load(s - j) ** 2 * jitter()), t));
    SUBSCRIPTIONS.forEach((sub, j) => rec.point(`oldest-unacked-age-${sub}`, Math.round(8_000 * load(s - j) * jitter()), t));
  }
}

/** Variant samples in ABBA order: the direction alternates each round so drift hits every variant alike. */
function recordVariants(rec: RunRecorder, rng: SeededRng, options: SyntheticDayOptions): void {
  const variants = options.variants ?? [];
  for (let r = 0; r < (options.samplesPerVariant ?? 8); r++) {
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      const slow = 1 + v.slowdown;
      const noise = (): number => 0.97 + 0.06 * rng.float();
      rec.sample(v.name, v.settings, { repeat: r, figures: { makespanMs: Math.round(41_000 * slow * noise()), notifyMakespanMs: Math.round(43_500 * slow * noise()), notifyP99Ms: Math.round(380 * slow * noise()) } });
    }
  }
}

export function synthesizeDayRecord(options: SyntheticDayOptions = {}): RunRecord {
  const durationS = options.durationS ?? 3_600;
  const intervalMs = options.intervalMs ?? 1_000;
  const seed = options.seed ?? 1;
  const rng = createRng(seed);
  let virtualMs = 0;
  const rec = new RunRecorder({ command: 'bench report', argv: ['--synthetic'], scenario: 'synthetic-day', backend: 'memory', seed, clock: 'virtual', intervalMs, now: () => virtualMs });
  rec.start();
  rec.configure({ races: Math.ceil(durationS / RACE_EVERY_S), users: 20_000, workers: { settle: 4, notify: 2 }, fanout: 'per-user', notify: 'after-commit' });
  recordLatencies(rec, rng.fork('stages'), durationS, intervalMs, options.latenciesPerInterval ?? 40);
  recordTimelines(rec, rng.fork('series'), durationS, intervalMs);
  recordVariants(rec, rng.fork('variants'), options);
  rec.invariant({ name: 'every ticket settled once', ok: true, violations: [] });
  rec.invariant({ name: 'ledger balances', ok: true, violations: [] });
  rec.counters({ published: 240_000, acked: 240_000, redeliveries: 12 });
  rec.figures({ makespanMs: 41_000, notifyMakespanMs: 43_500, settledTickets: 240_000 });
  virtualMs = durationS * 1000;
  const record = rec.stop(true);
  return options.runId === undefined ? record : { ...record, runId: options.runId };
}
