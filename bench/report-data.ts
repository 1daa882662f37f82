// A synthetic run record shaped like a replayed race day, for `raceday bench report` and the
// report's tests: races every few minutes, each a burst of settlements whose backlog rises and
// drains, latencies that climb with the backlog, and (optionally) variants with interleaved
// samples. Deterministic from the seed. The latencies are recorded into real HDR histograms per
// interval, encoded exactly as a run writes them, so rendering does the same decoding work.
import { createRng, type SeededRng } from '../core/rng.ts';
import { createStageHistogram, encodeHistogram, RUN_RECORD_SCHEMA_VERSION, type RunRecord } from '../reports/record/schema.ts';

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

function stageRecords(rng: SeededRng, durationS: number, intervalMs: number, perInterval: number): RunRecord['stages'] {
  return STAGES.map((st) => {
    const intervals: RunRecord['stages'][number]['intervals'] = [];
    for (let i = 0; i * intervalMs < durationS * 1000; i++) {
      const busy = load((i * intervalMs) / 1000);
      const h = createStageHistogram();
      // Quiet intervals still see a trickle (redeliveries, late users) so every interval has data.
      const n = Math.max(3, Math.round(perInterval * (0.2 + busy)));
      for (let k = 0; k < n; k++) {
        const tail = rng.float() < 0.02 ? 6 : 1;
        h.recordValue(Math.round(st.baseUs * (1 + 4 * busy) * (0.5 + rng.float()) * tail));
      }
      intervals.push({ startMs: i * intervalMs, endMs: (i + 1) * intervalMs, histogram: encodeHistogram(h) });
    }
    return { name: st.name, unit: 'us' as const, description: st.description, intervals };
  });
}

function seriesRecords(rng: SeededRng, durationS: number, intervalMs: number): RunRecord['series'] {
  const times: number[] = [];
  for (let t = 0; t < durationS * 1000; t += intervalMs) times.push(t);
  const jitter = (): number => 0.9 + 0.2 * rng.float();
  const out: RunRecord['series'] = [
    { name: 'settled-per-s', kind: 'throughput', unit: 'messages/s', points: times.map((t) => ({ tMs: t, value: Math.round(2_000 * load(t / 1000) * jitter()) })) },
    { name: 'notified-per-s', kind: 'throughput', unit: 'messages/s', points: times.map((t) => ({ tMs: t, value: Math.round(1_800 * load(t / 1000 - 2) * jitter()) })) },
  ];
  SUBSCRIPTIONS.forEach((sub, j) => {
    out.push({ name: `backlog-${sub}`, kind: 'backlog', unit: 'messages', points: times.map((t) => ({ tMs: t, value: Math.round(20_000 * load(t / 1000 - j) ** 2 * jitter()) })) });
  });
  SUBSCRIPTIONS.forEach((sub, j) => {
    out.push({ name: `oldest-unacked-age-${sub}`, kind: 'oldest-unacked-age', unit: 'ms', points: times.map((t) => ({ tMs: t, value: Math.round(8_000 * load(t / 1000 - j) * jitter()) })) });
  });
  return out;
}

function variantRecords(rng: SeededRng, options: SyntheticDayOptions): RunRecord['variants'] {
  const variants = options.variants ?? [];
  const samples = options.samplesPerVariant ?? 8;
  let order = 0;
  const out = variants.map((v) => ({ name: v.name, settings: v.settings, samples: [] as RunRecord['variants'][number]['samples'] }));
  // ABBA: the run order alternates direction each round so drift hits every variant alike.
  for (let r = 0; r < samples; r++) {
    const round = r % 2 === 0 ? out : [...out].reverse();
    for (const v of round) {
      const slow = 1 + (variants.find((x) => x.name === v.name)?.slowdown ?? 0);
      const noise = (): number => 0.97 + 0.06 * rng.float();
      v.samples.push({ repeat: r, order: order++, figures: { makespanMs: Math.round(41_000 * slow * noise()), notifyMakespanMs: Math.round(43_500 * slow * noise()), notifyP99Ms: Math.round(380 * slow * noise()) } });
    }
  }
  return out;
}

export function synthesizeDayRecord(options: SyntheticDayOptions = {}): RunRecord {
  const durationS = options.durationS ?? 3_600;
  const intervalMs = options.intervalMs ?? 1_000;
  const rng = createRng(options.seed ?? 1);
  return {
    schemaVersion: RUN_RECORD_SCHEMA_VERSION,
    runId: options.runId ?? 'synthetic-day',
    command: 'bench report',
    argv: ['--synthetic'],
    scenario: 'synthetic-day',
    backend: 'memory',
    seed: options.seed ?? 1,
    startedAt: '2026-12-01T00:00:00.000Z',
    wallMs: durationS * 1000,
    clock: 'virtual',
    ok: true,
    configuration: { races: Math.ceil(durationS / RACE_EVERY_S), users: 20_000, workers: { settle: 4, notify: 2 }, fanout: 'per-user', notify: 'after-commit' },
    environment: { cpuModel: 'synthetic', cpuCount: 2, totalMemoryBytes: 8e9, node: process.version, os: 'linux', arch: 'x64', ci: false, emulators: {}, loadAverage: { start: [0, 0, 0], end: [0, 0, 0] } },
    intervalMs,
    stages: stageRecords(rng.fork('stages'), durationS, intervalMs, options.latenciesPerInterval ?? 40),
    series: seriesRecords(rng.fork('series'), durationS, intervalMs),
    invariants: [
      { name: 'every ticket settled once', ok: true, violations: [] },
      { name: 'ledger balances', ok: true, violations: [] },
    ],
    counters: { published: 240_000, acked: 240_000, redeliveries: 12 },
    figures: { makespanMs: 41_000, notifyMakespanMs: 43_500, settledTickets: 240_000 },
    variants: variantRecords(rng.fork('variants'), options),
    gates: [],
    errors: [],
  };
}
