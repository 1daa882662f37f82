// Child processes of the `local` strategy: free ports, detached process groups with logs in files,
// a watchdog that kills them when their parent dies, and stopping only what we started.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { EMULATOR_LIMITS } from './limits.ts';

/** A process we started: enough to find it again from another process (the state file). */
export interface StartedProcess {
  readonly name: string;
  readonly pid: number;
  /** A substring of /proc/<pid>/cmdline that proves the pid still belongs to our process. */
  readonly cmdlineMarker: string;
  readonly logFile: string;
}

/** Asks the kernel for a free port on 127.0.0.1 (another process may take it before we use it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/**
 * Spawns `command` in its own process group (so Ctrl-C in a terminal reaches only the parent, and
 * stopping kills the whole group), with stdout and stderr appended to `logFile`.
 */
export function spawnLogged(name: string, command: string, args: readonly string[], logFile: string, cmdlineMarker: string): StartedProcess {
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
    child.on('error', () => undefined); // reported through readiness and the log, not as a crash
    child.unref();
    return { name, pid: child.pid, cmdlineMarker, logFile };
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when `pid` is alive and still runs the command we started (guards against pid reuse). */
export function isOurs(p: StartedProcess): boolean {
  if (!isAlive(p.pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return cmdline.includes(p.cmdlineMarker);
  } catch {
    // No /proc (macOS): the pid is alive and we cannot check more; trust the state file.
    return process.platform !== 'linux';
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Stops the process groups we started (SIGTERM, then SIGKILL after a grace period); skips anything not ours. */
export async function stopProcesses(processes: readonly StartedProcess[]): Promise<string[]> {
  const ours = processes.filter(isOurs);
  for (const p of ours) signalGroup(p.pid, 'SIGTERM');
  const deadline = Date.now() + EMULATOR_LIMITS.stopGraceMs;
  while (ours.some((p) => isAlive(p.pid)) && Date.now() < deadline) await sleep(50);
  for (const p of ours) if (isAlive(p.pid)) signalGroup(p.pid, 'SIGKILL');
  while (ours.some((p) => isAlive(p.pid)) && Date.now() < deadline + 2_000) await sleep(50);
  return ours.map((p) => p.name);
}

/** Synchronous last resort for process 'exit': SIGKILL the groups without waiting. */
export function killProcessesNow(processes: readonly StartedProcess[]): void {
  for (const p of processes) if (isOurs(p)) signalGroup(p.pid, 'SIGKILL');
}

// The watchdog is a tiny separate Node process in its own group: when the parent pid disappears
// (crash, SIGKILL, Ctrl-C) it kills the emulator groups; when they are gone it exits by itself.
const WATCHDOG_SOURCE = `
const [parent, pollMs, graceMs, ...groups] = process.argv.slice(1).map(Number);
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
const kill = (sig) => { for (const g of groups) { try { process.kill(-g, sig); } catch {} } };
const timer = setInterval(() => {
  if (!groups.some((g) => alive(-g))) process.exit(0);
  if (alive(parent)) return;
  clearInterval(timer);
  kill('SIGTERM');
  setTimeout(() => { kill('SIGKILL'); process.exit(0); }, graceMs);
}, pollMs);
`;

/** Starts a watchdog that kills `processes` when this process dies; returns its pid. */
export function startWatchdog(processes: readonly StartedProcess[]): number {
  const args = ['-e', WATCHDOG_SOURCE, String(process.pid), String(EMULATOR_LIMITS.watchdogPollMs), String(EMULATOR_LIMITS.stopGraceMs)];
  const child = spawn(process.execPath, [...args, ...processes.map((p) => String(p.pid))], { detached: true, stdio: 'ignore' });
  child.unref();
  if (child.pid === undefined) throw new Error('could not start the emulator watchdog');
  return child.pid;
}

/** Last lines of a log file, for error messages. */
export function logTail(logFile: string, lines = 15): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
