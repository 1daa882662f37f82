// `raceday bench run`: measures `raceday run --scenario S` exactly as a user runs it, with default
// options: it spawns the real command line (bin/raceday.mjs on this Node), samples the resident
// memory of the child's whole process tree from /proc every few ms (and each process's own
// high-water mark, VmHWM, so a peak between samples is not missed), and prints one JSON object with
// the wall time, the peak RSS, the run's own figures (makespan, check time, invariants) and the
// load average before and after (the machine may be shared).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const usage = `usage: raceday bench run [--scenario S] [--runs N] [--json]

Runs "raceday run --scenario S --json" (default grand-prix) N times (default 1) as a child process
with default options and prints, per run: wallMs, peakRssMb (the process tree, sampled from /proc,
and each process's VmHWM), cpuMs (the tree's CPU time: on a shared machine wall time stretches
while this does not), the run's slowest race makespan (publish -> last settlement), checkMs,
the invariants' verdict, and the 1-minute load average before and after.`;

const SAMPLE_MS = 50;
/** USER_HZ is 100 on Linux: /proc times are in 10 ms ticks. */
const CLOCK_TICK_MS = 10;
const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'raceday.mjs');

/** Reads "Name:   123 kB" fields of /proc/<pid>/status; undefined when the process is gone. */
function statusKb(pid: number, field: string): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** CPU ms used so far by a process (utime + stime of /proc/<pid>/stat, in clock ticks of 10 ms). */
function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * CLOCK_TICK_MS;
  } catch {
    return undefined;
  }
}

/** The pid and all its descendants (by each process's parent in /proc/<pid>/stat). */
function processTree(root: number): number[] {
  const parent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const kids = parent.get(ppid) ?? [];
      kids.push(pid);
      parent.set(ppid, kids);
    } catch {
      // gone between readdir and read
    }
  }
  const out: number[] = [];
  const walk = (pid: number): void => {
    out.push(pid);
    for (const k of parent.get(pid) ?? []) walk(k);
  };
  walk(root);
  return out;
}

interface RunFigures {
  readonly exitCode: number | null;
  readonly wallMs: number;
  readonly peakRssMb: number;
  /** CPU time of the process tree up to the last sample (all threads: JavaScript, GC, workers). */
  readonly cpuMs: number;
  readonly loadAvg1Before: number;
  readonly loadAvg1After: number;
  readonly report: Record<string, unknown> | undefined;
  readonly stderrLines: number;
}

function runOnce(scenario: string): Promise<RunFigures> {
  const loadAvg1Before = loadavg()[0] as number;
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, 'run', '--scenario', scenario, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderrLines = 0;
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderrLines += s.split('\n').length - 1;
    process.stderr.write(s);
  });
  let peakKb = 0;
  const hwm = new Map<number, number>();
  const cpu = new Map<number, number>();
  const sample = (): void => {
    if (child.pid === undefined) return;
    let sum = 0;
    for (const pid of processTree(child.pid)) {
      sum += statusKb(pid, 'VmRSS') ?? 0;
      const h = statusKb(pid, 'VmHWM');
      if (h !== undefined) hwm.set(pid, Math.max(hwm.get(pid) ?? 0, h));
      const c = cpuMsOf(pid);
      if (c !== undefined) cpu.set(pid, Math.max(cpu.get(pid) ?? 0, c));
    }
    peakKb = Math.max(peakKb, sum, ...hwm.values());
  };
  const timer = setInterval(sample, SAMPLE_MS);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      const wallMs = Math.round(performance.now() - started);
      let report: Record<string, unknown> | undefined;
      try {
        report = JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
      } catch {
        report = undefined;
      }
      const cpuMs = [...cpu.values()].reduce((a, b) => a + b, 0);
      resolve({ exitCode: code, wallMs, peakRssMb: Math.round(peakKb / 1024), cpuMs, loadAvg1Before, loadAvg1After: loadavg()[0] as number, report, stderrLines });
    });
  });
}

/** What the run reported about itself, kept short: the slowest race, the check phase, the verdict. */
function digest(report: Record<string, unknown> | undefined): Record<string, unknown> {
  if (report === undefined) return { report: 'missing (the run printed no JSON)' };
  const races = (report['races'] ?? []) as { makespanMs: number | null; users: number }[];
  const invariants = (report['invariants'] ?? []) as { name: string; ok: boolean }[];
  return {
    wallSecondsReported: report['wallSeconds'],
    users: races.reduce((a, r) => a + r.users, 0),
    tickets: report['tickets'],
    slowestRaceMakespanMs: Math.round(Math.max(0, ...races.map((r) => r.makespanMs ?? 0))),
    loadPath: report['loadPath'],
    checkMs: report['checkMs'],
    complete: report['complete'],
    invariantsOk: report['ok'],
    invariantsFailed: invariants.filter((i) => !i.ok).map((i) => i.name),
  };
}

function parse(argv: readonly string[]): { scenario: string; runs: number; json: boolean } | string {
  let scenario = 'grand-prix';
  let runs = 1;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (a === '--scenario' && argv[i + 1] !== undefined && !(argv[i + 1] as string).startsWith('--')) scenario = argv[++i] as string;
    else if (a === '--runs' && /^[1-9]\d?$/.test(argv[i + 1] ?? '')) runs = Number(argv[++i]);
    else return a === '--help' ? '' : `raceday bench run: unexpected argument "${a}" (--runs takes 1-99)`;
  }
  return { scenario, runs, json };
}

export async function runBench(argv: readonly string[]): Promise<number> {
  const p = parse(argv);
  if (typeof p === 'string') {
    process.stderr.write(`${p === '' ? '' : `${p}\n\n`}${usage}\n`);
    return p === '' ? 0 : 2;
  }
  const runs: Record<string, unknown>[] = [];
  for (let i = 0; i < p.runs; i++) {
    const r = await runOnce(p.scenario);
    runs.push({ exitCode: r.exitCode, wallMs: r.wallMs, peakRssMb: r.peakRssMb, cpuMs: r.cpuMs, loadAvg1Before: r.loadAvg1Before, loadAvg1After: r.loadAvg1After, progressLines: r.stderrLines, ...digest(r.report) });
  }
  const out = { bench: 'run', scenario: p.scenario, command: `raceday run --scenario ${p.scenario} --json`, cpus: (await import('node:os')).availableParallelism(), node: process.version, runs };
  process.stdout.write(`${p.json ? JSON.stringify(out) : JSON.stringify(out, null, 2)}\n`);
  return runs.every((r) => r['exitCode'] === 0) ? 0 : 1;
}
