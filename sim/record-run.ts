// Feeding a run recorder from what a real-time run already measured (no second measurement): the
// per-user settle, notify and ranking latencies the runner timed, throughput timelines made from
// the same times, and a sampler of each subscription's backlog (and oldest unacked age, where the
// bus knows it) while the run goes.
import type { RunRecorder } from '../reports/record/recorder.ts';
import type { CurrentBacklog } from './open-backend.ts';
import type { RealtimeTimeline } from './realtime.ts';

export const STAGE_DESCRIPTIONS = {
  settle: "result published -> the user's settlement committed",
  notify: "result published -> the user's notification shown by the client",
  ranking: "result published -> the race's ranking broadcast shown",
} as const;

/** Events per second in buckets of `bucketMs`, from event times (ms since the run's start). */
export function ratePoints(timesMs: readonly number[], bucketMs: number): { tMs: number; value: number }[] {
  if (timesMs.length === 0) return [];
  const counts = new Map<number, number>();
  for (const t of timesMs) {
    const b = Math.floor(t / bucketMs);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  const last = Math.max(...counts.keys());
  const first = Math.min(...counts.keys());
  const out: { tMs: number; value: number }[] = [];
  for (let b = first; b <= last; b++) out.push({ tMs: (b + 1) * bucketMs, value: ((counts.get(b) ?? 0) * 1000) / bucketMs });
  return out;
}

/** Latencies of every stage the runner timed, each in the interval where it completed; throughput timelines. */
export function recordRealtime(rec: RunRecorder, t: RealtimeTimeline, bucketMs = 100): void {
  const offset = t.originMs - rec.originMs;
  const stage = (name: keyof typeof STAGE_DESCRIPTIONS, times: readonly number[]): void => {
    if (times.length === 0) return;
    rec.describeStage(name, STAGE_DESCRIPTIONS[name]);
    for (const at of times) rec.recordLatency(name, Math.max(0, at - t.publishedMs), offset + at);
  };
  stage('settle', t.commitsMs);
  stage('notify', t.shownMs);
  stage('ranking', t.rankingsShownMs);
  const rate = (name: string, unit: string, times: readonly number[]): void => {
    rec.defineSeries(name, 'throughput', unit);
    for (const p of ratePoints(times.map((x) => offset + x), bucketMs)) rec.point(name, p.value, p.tMs);
  };
  rate('settled-per-s', 'settlements/s', t.commitsMs);
  rate('shown-per-s', 'notifications/s', t.shownMs);
}

/** Samples every subscription's backlog into `backlog-<subscription>` (and its oldest unacked age) every `everyMs`. */
export function startBacklogSampler(rec: RunRecorder, backlogs: () => readonly CurrentBacklog[], everyMs = 100): { stop(): void } {
  const take = (): void => {
    const at = rec.elapsedMs();
    for (const b of backlogs()) {
      rec.defineSeries(`backlog-${b.subscription}`, 'backlog', 'messages');
      rec.point(`backlog-${b.subscription}`, b.backlog, at);
      if (b.oldestUnackedAgeMs !== undefined) {
        rec.defineSeries(`oldest-unacked-age-${b.subscription}`, 'oldest-unacked-age', 'ms');
        rec.point(`oldest-unacked-age-${b.subscription}`, b.oldestUnackedAgeMs, at);
      }
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      take();
    },
  };
}

/**
 * Where every real-time run reports its timeline while a command records (`raceday bench ...
 * --out DIR`): the benches call runRealtime themselves, so the command listens here instead of
 * each bench passing a recorder down. Undefined when nothing records.
 */
let timelineSink: ((t: RealtimeTimeline) => void) | undefined;

export function setTimelineSink(sink: ((t: RealtimeTimeline) => void) | undefined): void {
  timelineSink = sink;
}

export function reportTimeline(t: RealtimeTimeline): void {
  timelineSink?.(t);
}
