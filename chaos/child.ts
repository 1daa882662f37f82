// One `raceday <command>` child process of a fleet: spawned on this very Node (the pinned one, so
// bin/raceday.mjs does not re-exec it and a signal reaches the process that does the work), in a
// process group of its own (a terminal's Ctrl-C reaches only the parent, which stops its children
// once), with its stdin a pipe from the parent (the child stops when the parent is gone, however
// it died). Its stdout carries JSON lines (readiness, status); its stderr is forwarded, named.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const RACEDAY_BIN = fileURLToPath(new URL('../bin/raceday.mjs', import.meta.url));

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface RacedayChild {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<ChildExit>;
  /** The first stdout line that `isReady` accepts, parsed; rejects when the child exits first or after `timeoutMs`. */
  readonly ready: Promise<Record<string, unknown>>;
  running(): boolean;
}

export interface SpawnOptions {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Names the child in forwarded stderr lines and errors: `settle-2`. */
  readonly label: string;
  readonly isReady: (line: Record<string, unknown>) => boolean;
  readonly readyTimeoutMs: number;
  /** Every JSON object line on stdout (status lines included). */
  readonly onLine?: (line: Record<string, unknown>) => void;
  readonly log: (line: string) => void;
}

function parseLine(l: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(l);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function spawnRaceday(o: SpawnOptions): RacedayChild {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) throw new Error(`a fleet spawns its members on this Node, which is ${process.version}; run raceday through npx so the pinned Node 24 runs it`);
  const proc = spawn(process.execPath, [RACEDAY_BIN, ...o.args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: { ...o.env } });
  // 'close', not 'exit': it comes once stdout is read to its end, so a child's last words (its
  // final counts) are always seen before its exit is handled.
  const exited = once(proc, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  // A child that died has closed its stdin: writing to it later must not throw in the parent.
  proc.stdin?.on('error', () => undefined);
  createInterface({ input: proc.stderr! }).on('line', (l) => o.log(`[${o.label}] ${l}`));
  const lines = createInterface({ input: proc.stdout! });
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${o.label} printed no ready line within ${o.readyTimeoutMs} ms`)), o.readyTimeoutMs);
    lines.on('line', (l) => {
      const parsed = parseLine(l);
      if (parsed === undefined) return o.log(`[${o.label}] stdout: ${l.slice(0, 200)}`);
      o.onLine?.(parsed);
      if (o.isReady(parsed)) {
        clearTimeout(timer);
        resolve(parsed);
      }
    });
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new Error(`${o.label} exited (code ${e.code}, signal ${e.signal}) before it was ready`));
    });
  });
  ready.catch(() => undefined); // observed by the caller; never an unhandled rejection here
  return {
    proc,
    pid: proc.pid ?? -1,
    exited,
    ready,
    running: () => proc.exitCode === null && proc.signalCode === null,
  };
}

/** Sends `signal`, then SIGKILL after `graceMs` if the child still runs; resolves on its exit. */
export async function stopChild(c: RacedayChild, signal: NodeJS.Signals, graceMs: number): Promise<ChildExit> {
  if (!c.running()) return c.exited;
  c.proc.kill(signal);
  const killer = setTimeout(() => {
    if (c.running()) c.proc.kill('SIGKILL');
  }, graceMs);
  const e = await c.exited;
  clearTimeout(killer);
  return e;
}
