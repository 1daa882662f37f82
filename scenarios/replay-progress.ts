// Progress of a replay on stderr, drawn by the one progress display of the command line
// (cmdline/progress.ts): a bar redrawn in place on a terminal, or, when stderr is a pipe or a CI
// log, one line every few seconds (a grand-prix replay runs for a minute or more, and a run that
// prints nothing looks hung). The work counted is tickets loaded plus settlements committed (the
// bar's first half is loading, its second settling); the detail says results published, races
// settled and settlements, and the phase (checking happens after the last settlement).
import { createProgress, defaultProgressMode, type ProgressMode } from '../cmdline/progress.ts';
import type { RaceDay } from './model.ts';
import type { RaceTracker } from './replay-metrics.ts';
import { REPLAY_LIMITS } from './limits.ts';

export { defaultProgressMode, type ProgressMode };

export interface ProgressOptions {
  readonly mode: ProgressMode;
  /** Where text goes (default: process.stderr). */
  readonly write?: (text: string) => void;
  /** Between two lines in `lines` mode (default REPLAY_LIMITS.progressLineEveryMs). */
  readonly lineEveryMs?: number;
}

export interface ReplayProgress {
  /** Called often; prints when the mode's interval has passed. */
  tick(loaded: number): void;
  /** Names the phase shown from now on (e.g. "checking"), printing at once. */
  phase(name: string, loaded: number): void;
  done(): void;
}

const fmt = (n: number): string => n.toLocaleString('en-US');

export function createReplayProgress(o: ProgressOptions, day: RaceDay, trackers: ReadonlyMap<string, RaceTracker>, wallMs: () => number): ReplayProgress {
  const users = [...trackers.values()].reduce((n, t) => n + t.metrics.users, 0);
  const total = day.ticketCount + users;
  const p = createProgress({
    mode: o.mode,
    label: `replay ${day.name}`,
    nowMs: wallMs,
    barEveryMs: REPLAY_LIMITS.progressEveryMs,
    lineEveryMs: o.lineEveryMs ?? REPLAY_LIMITS.progressLineEveryMs,
    ...(o.write === undefined ? {} : { write: o.write }),
  });
  const measure = (loaded: number): { done: number; detail: string } => {
    let published = 0;
    let racesSettled = 0;
    let settled = 0;
    for (const t of trackers.values()) {
      if (t.metrics.publishedAtWallMs !== null) published++;
      if (t.metrics.complete) racesSettled++;
      settled += t.metrics.settledUsers;
    }
    return { done: loaded + settled, detail: `tickets ${fmt(loaded)}/${fmt(day.ticketCount)} results ${published}/${trackers.size} races settled ${racesSettled} settlements ${fmt(settled)}/${fmt(users)}` };
  };
  p.phase('loading', { total });
  return {
    tick(loaded) {
      const m = measure(loaded);
      p.update(m.done, m.detail);
    },
    phase(name, loaded) {
      const m = measure(loaded);
      p.phase(name, { total, startDone: m.done, detail: m.detail });
    },
    done() {
      p.done();
    },
  };
}
