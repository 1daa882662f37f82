// Progress of a replay: on a terminal a bar redrawn in place (carriage return, no newline until
// the end), elsewhere a whole line per interval and nothing before the first interval has passed
// (short runs stay quiet), and nothing at all when turned off.
import { describe, expect, it } from 'vitest';
import { buildRaceDay } from './raceday.ts';
import { createTracker } from './replay-metrics.ts';
import { createReplayProgress, type ProgressMode } from './replay-progress.ts';
import { parseScenario } from './spec.ts';

const day = buildRaceDay(parseScenario({ name: 'progress-test', users: 50, tickets: 400, races: [{ raceId: 'r1', venue: 'v', sport: 'keirin', riders: 9, postMinute: 600 }] }), 1);

function harness(mode: ProgressMode) {
  let now = 0;
  const written: string[] = [];
  const trackers = new Map(day.races.map((r) => [r.raceId, createTracker(r)]));
  const p = createReplayProgress({ mode, write: (t) => void written.push(t), lineEveryMs: 5_000 }, day, trackers, () => now);
  return { p, written, at: (ms: number) => (now = ms) };
}

describe('replay progress', () => {
  it('draws a bar in place on a terminal and ends it with a newline', () => {
    const h = harness('bar');
    h.at(300);
    h.p.tick(200);
    h.at(400);
    h.p.tick(300); // within the redraw interval: not drawn
    h.at(700);
    h.p.tick(400);
    h.p.done();
    expect(h.written).toHaveLength(3);
    // Work counted: tickets loaded plus settlements (no user has tickets in this day's trackers yet).
    expect(h.written[0]).toMatch(/^\rreplay progress-test 0 s loading \[#{10} {10}\] 200\/400 \(50\.0%\) 667\/s ETA 0 s tickets 200\/400 /);
    expect(h.written[1]).toMatch(/^\rreplay progress-test 1 s loading \[#{20}\] 400\/400 \(100\.0%\) 571\/s ETA 0 s tickets 400\/400 /);
    expect(h.written[2]).toBe('\n');
  });

  it('prints whole lines every interval off a terminal, and nothing for a short run', () => {
    const h = harness('lines');
    h.at(1_000);
    h.p.tick(100);
    h.p.phase('settling', 100); // a short run: not even the phase change is printed
    expect(h.written).toEqual([]);
    h.at(5_000);
    h.p.tick(400);
    h.at(6_000);
    h.p.tick(400);
    h.at(10_000);
    h.p.phase('checking', 400);
    h.p.done();
    expect(h.written).toEqual([
      // The rate restarts with the phase: 300 more tickets in the 4 s since settling began.
      'replay progress-test 5 s settling: 400/400 (100.0%) 75.0/s ETA 0 s tickets 400/400 results 0/1 races settled 0 settlements 0/0\n',
      'replay progress-test 10 s checking: 400/400 (100.0%) tickets 400/400 results 0/1 races settled 0 settlements 0/0\n',
    ]);
  });

  it('prints nothing when off', () => {
    const h = harness('off');
    h.at(60_000);
    h.p.tick(400);
    h.p.phase('checking', 400);
    h.p.done();
    expect(h.written).toEqual([]);
  });
});
