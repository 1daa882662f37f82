// Progress of a replay on stderr: a bar redrawn in place on a terminal, or, when stderr is a pipe
// or a CI log, one line every few seconds (a grand-prix replay runs for a minute or more, and a
// run that prints nothing looks hung). What it shows: tickets loaded, results published,
// settlements committed, and the phase (checking happens after the last settlement).
import type { RaceDay } from './model.ts';
import type { RaceTracker } from './replay-metrics.ts';
import { REPLAY_LIMITS } from './limits.ts';

/** `bar`: redrawn in place (a terminal); `lines`: a line every few seconds; `off`: nothing. */
export type ProgressMode = 'bar' | 'lines' | 'off';

export interface ProgressOptions {
  readonly mode: ProgressMode;
  /** Where text goes (default: process.stderr). */
  readonly write?: (text: string) => void;
  /** Between two lines in `lines` mode (default REPLAY_LIMITS.progressLineEveryMs). */
  readonly lineEveryMs?: number;
}

/** A bar on a terminal, lines elsewhere; nothing only when asked. */
export function defaultProgressMode(): ProgressMode {
  return process.stderr.isTTY === true && !process.env['CI'] ? 'bar' : 'lines';
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
  const write = o.write ?? ((text: string) => void process.stderr.write(text));
  const everyMs = o.mode === 'bar' ? REPLAY_LIMITS.progressEveryMs : (o.lineEveryMs ?? REPLAY_LIMITS.progressLineEveryMs);
  let lastMs = 0;
  let phaseName = 'loading';
  let drawn = false;
  const text = (loaded: number): string => {
    let published = 0;
    let racesSettled = 0;
    let settled = 0;
    let users = 0;
    for (const t of trackers.values()) {
      if (t.metrics.publishedAtWallMs !== null) published++;
      if (t.metrics.complete) racesSettled++;
      settled += t.metrics.settledUsers;
      users += t.metrics.users;
    }
    const total = Math.max(1, day.ticketCount);
    const head = `replay ${day.name} ${(wallMs() / 1000).toFixed(0)} s ${phaseName}`;
    const body = `tickets ${fmt(loaded)}/${fmt(day.ticketCount)} results ${published}/${trackers.size} races settled ${racesSettled} settlements ${fmt(settled)}/${fmt(users)}`;
    if (o.mode !== 'bar') return `${head}: ${body}\n`;
    const width = 20;
    // Loading is the first half of the bar, settling the second.
    const share = (loaded / total + (users > 0 ? settled / users : 0)) / 2;
    const filled = Math.min(width, Math.round(width * share));
    return `\r${head} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${body}   `;
  };
  const print = (loaded: number): void => {
    lastMs = wallMs();
    drawn = true;
    write(text(loaded));
  };
  return {
    tick(loaded) {
      if (o.mode === 'off' || wallMs() - lastMs < everyMs) return;
      print(loaded);
    },
    phase(name, loaded) {
      phaseName = name;
      // Short runs stay quiet: the phase is shown at once only once the run has lasted an interval.
      if (o.mode !== 'off' && wallMs() >= everyMs) print(loaded);
    },
    done() {
      if (o.mode === 'bar' && drawn) write('\n');
    },
  };
}
