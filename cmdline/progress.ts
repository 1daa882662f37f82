// Progress of long work on stderr, for every command that runs for more than a few seconds (a
// replay, a run on the emulators, the variants of a comparison): on a terminal a bar redrawn in
// place — phase, done/total, rate, ETA — and, when stderr is a pipe or a CI log (CI=true), one
// plain line every few seconds (a redrawn bar in a log is one endless line; silence looks hung).
// Short work stays quiet: nothing is printed before the first interval has passed.

/** `bar`: redrawn in place (a terminal); `lines`: a line every few seconds; `off`: nothing. */
export type ProgressMode = 'bar' | 'lines' | 'off';

export const PROGRESS_DEFAULTS = {
  /** Between two redraws of the bar. */
  barEveryMs: 250,
  /** Between two lines off a terminal. */
  lineEveryMs: 5_000,
  /** Characters of the bar itself. */
  barWidth: 20,
} as const;

/** A bar on a terminal unless CI is set; lines elsewhere; nothing only when asked. */
export function defaultProgressMode(isTTY: boolean | undefined = process.stderr.isTTY, env: Readonly<Record<string, string | undefined>> = process.env): ProgressMode {
  const ci = env['CI'] !== undefined && env['CI'] !== '' && env['CI'] !== 'false' && env['CI'] !== '0';
  return isTTY === true && !ci ? 'bar' : 'lines';
}

export interface ProgressOptions {
  readonly mode: ProgressMode;
  /** What is in progress, first on every line: "replay typical-day", "variants". */
  readonly label: string;
  /** Where text goes (default: process.stderr). */
  readonly write?: (text: string) => void;
  /** A monotonic clock in ms (default performance.now). */
  readonly nowMs?: () => number;
  /** Between two bar redraws (default 250 ms). */
  readonly barEveryMs?: number;
  /** Between two lines (default 5 s). */
  readonly lineEveryMs?: number;
}

export interface ProgressState {
  readonly label: string;
  readonly phase: string;
  /** Seconds since the progress started. */
  readonly elapsedS: number;
  readonly done: number;
  /** Unknown totals show done and rate only, no bar share or ETA. */
  readonly total: number | undefined;
  /** Units per second over the current phase. */
  readonly ratePerS: number | undefined;
  /** Seconds until done at that rate. */
  readonly etaS: number | undefined;
  /** Free text after the figures (e.g. a replay's results and settlements). */
  readonly detail: string;
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** "42 s", "3 min 5 s", "1 h 02 min". */
export function formatDuration(s: number): string {
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t} s`;
  if (t < 3600) return `${Math.floor(t / 60)} min ${t % 60} s`;
  return `${Math.floor(t / 3600)} h ${String(Math.floor((t % 3600) / 60)).padStart(2, '0')} min`;
}

function rateText(r: number): string {
  return r >= 100 ? count(r) : r >= 1 ? r.toFixed(1) : r.toFixed(2);
}

/** The figures of one state: "1,234/5,000 (24.7%) 812/s ETA 4 s". */
function figures(s: ProgressState): string {
  const parts = [s.total === undefined ? count(s.done) : `${count(s.done)}/${count(s.total)}${s.total > 0 ? ` (${((100 * Math.min(s.done, s.total)) / s.total).toFixed(1)}%)` : ''}`];
  if (s.ratePerS !== undefined) parts.push(`${rateText(s.ratePerS)}/s`);
  if (s.etaS !== undefined) parts.push(`ETA ${formatDuration(s.etaS)}`);
  return parts.join(' ');
}

/** One redraw of the bar: starts with a carriage return, padded to wipe a longer previous line. */
export function formatBar(s: ProgressState, width: number = PROGRESS_DEFAULTS.barWidth): string {
  const share = s.total === undefined || s.total <= 0 ? 0 : Math.min(1, s.done / s.total);
  const filled = Math.round(width * share);
  const bar = s.total === undefined ? '' : ` [${'#'.repeat(filled)}${' '.repeat(width - filled)}]`;
  return `\r${s.label} ${formatDuration(s.elapsedS)} ${s.phase}${bar} ${figures(s)}${s.detail === '' ? '' : ` ${s.detail}`}   `;
}

/** One line for a log. */
export function formatLine(s: ProgressState): string {
  return `${s.label} ${formatDuration(s.elapsedS)} ${s.phase}: ${figures(s)}${s.detail === '' ? '' : ` ${s.detail}`}\n`;
}

export interface PhaseOptions {
  readonly total?: number;
  readonly startDone?: number;
  readonly detail?: string;
}

export interface Progress {
  /**
   * Starts a phase: its name, its total where known, and the count it starts from (default 0;
   * work counted across phases passes what is done so far). The rate and ETA restart with it.
   * Printed at once, once the work has lasted an interval.
   */
  phase(name: string, o?: PhaseOptions): void;
  /** Work done so far in this phase (absolute), with optional detail and total (once known); printed when the interval has passed. */
  update(done: number, detail?: string, total?: number): void;
  /** Ends the bar's line. */
  done(): void;
  /** The state now (what the next print would show). */
  state(): ProgressState;
}

export function createProgress(o: ProgressOptions): Progress {
  const write = o.write ?? ((text: string) => void process.stderr.write(text));
  const now = o.nowMs ?? (() => performance.now());
  const everyMs = o.mode === 'bar' ? (o.barEveryMs ?? PROGRESS_DEFAULTS.barEveryMs) : (o.lineEveryMs ?? PROGRESS_DEFAULTS.lineEveryMs);
  const start = now();
  let phaseName = 'starting';
  let phaseStart = start;
  let total: number | undefined;
  let doneCount = 0;
  let phaseBase = 0;
  let detail = '';
  let lastPrint = start;
  let drawn = false;
  const state = (): ProgressState => {
    const t = now();
    const phaseS = (t - phaseStart) / 1000;
    const ratePerS = phaseS > 0 && doneCount > phaseBase ? (doneCount - phaseBase) / phaseS : undefined;
    const etaS = ratePerS !== undefined && total !== undefined ? Math.max(0, total - doneCount) / ratePerS : undefined;
    return { label: o.label, phase: phaseName, elapsedS: (t - start) / 1000, done: doneCount, total, ratePerS, etaS, detail };
  };
  const print = (): void => {
    lastPrint = now();
    drawn = true;
    write(o.mode === 'bar' ? formatBar(state()) : formatLine(state()));
  };
  return {
    phase(name, p = {}) {
      phaseName = name;
      total = p.total;
      doneCount = p.startDone ?? 0;
      phaseBase = doneCount;
      if (p.detail !== undefined) detail = p.detail;
      phaseStart = now();
      if (o.mode !== 'off' && now() - start >= everyMs) print();
    },
    update(done, text, phaseTotal) {
      doneCount = done;
      if (phaseTotal !== undefined) total = phaseTotal;
      if (text !== undefined) detail = text;
      if (o.mode !== 'off' && now() - lastPrint >= everyMs) print();
    },
    done() {
      if (o.mode === 'bar' && drawn) write('\n');
    },
    state,
  };
}
