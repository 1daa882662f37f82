// `raceday gate --compare REF`: a pull request gated against its base on the same machine. REF is
// checked out as a git worktree in a temporary folder (sharing this checkout's node_modules when
// both package-lock.json files are identical, else `npm ci` there); then `raceday run --scenario
// smoke --json` runs alternately from that checkout (A) and from this tree (B), A B B A ..., each
// sample its own process, so neither side runs warm while the other runs cold. While a
// statistical rule stays inconclusive another A B B A round runs, up to the cap.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sampleUntilDecided } from '../reports/gate/adaptive.ts';
import type { GateResult } from '../reports/gate/result.ts';
import type { Rules } from '../reports/gate/rules.ts';
import { RunRecorder } from '../reports/record/recorder.ts';
import type { RunRecord } from '../reports/record/schema.ts';
import { UsageError } from './args.ts';

export const COMPARE_DEFAULTS = { users: 2_000, maxRepeat: 24 } as const;

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface CompareOptions {
  readonly ref: string;
  readonly rules: Rules;
  readonly users: number;
  readonly seed: number;
  /** Samples a side to start with. */
  readonly repeat: number;
  /** Samples a side at most. */
  readonly maxRepeat: number;
  readonly log: (line: string) => void;
}

function git(args: readonly string[]): { ok: boolean; out: string; err: string } {
  // A package-lock.json is megabytes: well past spawnSync's default 1 MB of output.
  const r = spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { ok: r.status === 0, out: (r.stdout ?? '').trim(), err: (r.stderr ?? '').trim() };
}

/** Flattens `raceday run --json` into figures: times in ms, counts, counters and backlog peaks by name. */
export function figuresOfRunSummary(s: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (name: string, v: unknown) => {
    if (typeof v === 'number' && Number.isFinite(v)) out[name] = v;
  };
  for (const k of ['makespanMs', 'notifyMakespanMs', 'rankingMakespanMs', 'ingestMs', 'users', 'tickets', 'ticketsLoaded', 'settledUsers', 'settledTickets', 'transactionsCommitted', 'transactionsAborted', 'redeliveries']) put(k, s[k]);
  put('runWallMs', s['wallMs']);
  const lat = s['settleLatencyMs'] as Record<string, unknown> | undefined;
  put('settleP50Ms', lat?.['p50']);
  put('settleP99Ms', lat?.['p99']);
  for (const [k, v] of Object.entries((s['counters'] as Record<string, unknown> | undefined) ?? {})) put(k, v);
  for (const [k, v] of Object.entries((s['backlogMax'] as Record<string, unknown> | undefined) ?? {})) put(`backlogPeak.${k}`, v);
  const invariants = (s['invariants'] as { ok: boolean }[] | undefined) ?? [];
  put('invariantsFailed', invariants.filter((i) => !i.ok).length);
  return out;
}

interface Side {
  readonly name: 'A' | 'B';
  readonly root: string;
  readonly label: string;
}

async function runSide(side: Side, o: CompareOptions): Promise<{ figures: Record<string, number>; invariants: { name: string; ok: boolean; violations: string[] }[] }> {
  const args = [join(side.root, 'bin', 'raceday.mjs'), 'run', '--scenario', 'smoke', '--backend', 'memory', '--users', String(o.users), '--seed', String(o.seed), '--json'];
  const child = spawn(process.execPath, args, { cwd: side.root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const line = stdout.trim().split('\n').pop() ?? '';
  let summary: Record<string, unknown>;
  try {
    summary = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`raceday run of side ${side.name} (${side.label}) exited ${code} without a JSON summary: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return { figures: figuresOfRunSummary(summary), invariants: (summary['invariants'] as { name: string; ok: boolean; violations: string[] }[] | undefined) ?? [] };
}

/** Checks REF out in a temporary folder, ready to run. */
async function checkout(ref: string, log: (line: string) => void): Promise<{ dir: string; sha: string; remove: () => Promise<void> }> {
  const sha = git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  if (!sha.ok) throw new UsageError(`--compare ${ref}: not a commit in this repository`);
  const dir = await mkdtemp(join(tmpdir(), 'raceday-gate-'));
  const add = git(['worktree', 'add', '--detach', dir, sha.out]);
  if (!add.ok) throw new Error(`git worktree add ${dir} ${sha.out} failed: ${add.err}`);
  const remove = async () => {
    git(['worktree', 'remove', '--force', dir]);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const theirs = git(['show', `${sha.out}:package-lock.json`]);
    const ours = await readFile(join(repoRoot, 'package-lock.json'), 'utf8').catch(() => '');
    if (theirs.ok && theirs.out === ours.trim()) {
      await symlink(await realpath(join(repoRoot, 'node_modules')), join(dir, 'node_modules'), 'dir');
      log(`raceday gate: A is ${ref} (${sha.out.slice(0, 12)}) in ${dir}, sharing node_modules (package-lock.json is the same)`);
    } else {
      log(`raceday gate: A is ${ref} (${sha.out.slice(0, 12)}) in ${dir}; package-lock.json differs, running npm ci there`);
      const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
      if (npm.status !== 0) throw new Error(`npm ci in the checkout of ${ref} failed (exit ${npm.status})`);
    }
  } catch (e) {
    await remove();
    throw e;
  }
  return { dir, sha: sha.out, remove };
}

export async function runCompare(o: CompareOptions): Promise<{ record: RunRecord; results: GateResult[] }> {
  if (o.maxRepeat < o.repeat) throw new UsageError(`--max-repeat ${o.maxRepeat} is below the samples to start with (${o.repeat})`);
  const co = await checkout(o.ref, o.log);
  try {
    const sides: readonly Side[] = [
      { name: 'A', root: co.dir, label: `${o.ref} ${co.sha.slice(0, 12)}` },
      { name: 'B', root: repoRoot, label: 'this tree' },
    ];
    const argv = ['--compare', o.ref, '--users', String(o.users), '--seed', String(o.seed)];
    const recorder = new RunRecorder({ command: 'gate --compare', argv, scenario: 'smoke', backend: 'memory', seed: o.seed, configuration: { ref: o.ref, refCommit: co.sha, users: o.users } }).start();
    const held = { A: new Map<string, boolean>(), B: new Map<string, boolean>() };
    const record = (): RunRecord => {
      const invariants = (['A', 'B'] as const).flatMap((n) => [...held[n]].map(([name, ok]) => ({ name: `${name} (${n})`, ok, violations: ok ? [] : [`failed in at least one sample of side ${n}`] })));
      return { ...recorder.stop(true), invariants, ok: invariants.every((i) => i.ok) };
    };
    const outcome = await sampleUntilDecided({
      rules: o.rules,
      sides: 2,
      repeat: o.repeat,
      maxRepeat: o.maxRepeat,
      log: o.log,
      record,
      runStep: async (step, order) => {
        const side = sides[step.variant] as Side;
        const s = await runSide(side, o);
        for (const inv of s.invariants) held[side.name].set(inv.name, (held[side.name].get(inv.name) ?? true) && inv.ok);
        recorder.sample(side.name, { checkout: side.label }, { repeat: step.repeat, order, figures: s.figures });
        o.log(`raceday gate: sample ${order + 1} (${side.name}, ${side.label}): makespan ${s.figures['makespanMs'] ?? '?'} ms`);
      },
    });
    return { record: outcome.record, results: outcome.results };
  } finally {
    await co.remove();
  }
}
