// Worker thread of the parallel generator: turns columnar event batches into JSON Lines bytes with
// the same putTicket as the single-thread path. It rebuilds the day's plan from (spec, seed) for
// the race and combination segments; the draws stay on the main thread, so bytes do not depend on
// how many workers there are.
import { parentPort, workerData } from 'node:worker_threads';
import { ascii, putBytes } from './jsonl.ts';
import { buildPlan } from './plan.ts';
import type { ScenarioSpec } from './spec.ts';
import { putTicket, raceSegments, SEG_END, type RaceSegments, type SegmentCache } from './ticket-lines.ts';
import type { EventBatch, SerializedBatch } from './parallel.ts';

const { spec, seed } = workerData as { spec: ScenarioSpec; seed: number };
const plan = buildPlan(spec, seed);
const cache: SegmentCache = new Map();
const segs = plan.races.map((r) => raceSegments(r, cache));
const lineMax = Math.max(...segs.map((s) => s.lineMaxBytes));

function serialize(b: EventBatch): SerializedBatch {
  const texts = b.texts.map((t) => ascii(t));
  const out = new Uint8Array(b.count * lineMax + texts.reduce((a, t) => a + t.length, 0) + SEG_END.length);
  let p = 0;
  let open = false;
  let nextText = 0;
  for (let i = 0; i < b.count; i++) {
    const race = b.race[i] as number;
    if (race === 0xffff) {
      if (open) p = putBytes(out, p, SEG_END);
      open = false;
      p = putBytes(out, p, texts[nextText++] as Uint8Array);
      continue;
    }
    const seg = segs[race] as RaceSegments;
    p = putTicket(out, p, seg, open, b.seq[i] as number, b.user[i] as number, plan.userDigits, b.comboFlat[i] as number, b.medal[i] === 1, b.stake[i] as number, b.placedAtMs[i] as number);
    open = true;
  }
  if (open) p = putBytes(out, p, SEG_END);
  return { id: b.id, bytes: out.buffer as ArrayBuffer, length: p };
}

parentPort?.on('message', (b: EventBatch) => {
  const r = serialize(b);
  parentPort?.postMessage(r, [r.bytes]);
});
