// SIGTERM and Ctrl-C during `raceday plan --validate`: the command stops (the emulator pair it
// started is stopped, a reused one left alone), says no table was made and exits 143 / 130. The
// Spanner client's own signal listeners do not exit, which is why the command needs its own.
// process.exit is stubbed: the handler's exit code is read instead of ending the test worker.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EmulatorHandle } from '../../emulators/index.ts';
import { stopOnInterrupt } from '../plan-interrupt.ts';
import { planValidateDeps, validateCommand } from './plan-validate.ts';

function fakePair(reused: boolean): EmulatorHandle & { stops: number } {
  const pair = { strategy: 'local', projectId: 'p', spannerInstance: 'i', env: {}, pids: [], reused, startupMs: {}, stops: 0, stop: async () => void pair.stops++ };
  return pair as unknown as EmulatorHandle & { stops: number };
}

/** Stubs process.exit; resolves with the first code it is called with. */
function exitCode(): Promise<number> {
  return new Promise((resolve) => {
    vi.spyOn(process, 'exit').mockImplementation(((code?: number) => void resolve(code ?? 0)) as typeof process.exit);
  });
}

afterEach(() => vi.restoreAllMocks());

describe('stopOnInterrupt', () => {
  it('on SIGTERM stops the pair the validation started, says why, exits 143; uninstalled, it is gone', async () => {
    const before = process.listenerCount('SIGTERM');
    const pair = fakePair(false);
    const lines: string[] = [];
    const exited = exitCode();
    const uninstall = stopOnInterrupt(pair, (l) => void lines.push(l));
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    process.emit('SIGTERM', 'SIGTERM');
    expect(await exited).toBe(143);
    expect(pair.stops).toBe(1);
    expect(lines.join('\n')).toMatch(/plan --validate: interrupted before its table was complete: no table, no record; stopping the emulator pair it started/);
    uninstall();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('on Ctrl-C leaves a reused pair running and exits 130', async () => {
    const pair = fakePair(true);
    const lines: string[] = [];
    const exited = exitCode();
    const uninstall = stopOnInterrupt(pair, (l) => void lines.push(l));
    process.emit('SIGINT', 'SIGINT');
    expect(await exited).toBe(130);
    uninstall();
    expect(lines.join('\n')).toContain('the emulator pair it reused keeps running');
  });
});

describe('raceday plan --validate under SIGTERM', () => {
  it('exits 143 with the message while a run is in progress, and removes its handler when it ends', async () => {
    const before = process.listenerCount('SIGTERM');
    const real = await planValidateDeps();
    let release: (e: Error) => void = () => undefined;
    let calibrating: () => void = () => undefined;
    const entered = new Promise<void>((r) => (calibrating = r));
    // The calibration "runs" until the test lets it fail: the signal arrives in the middle of it.
    const deps = { ...real, calibrate: () => new Promise<never>((_, reject) => ((release = reject), calibrating())) };
    const exited = exitCode();
    let err = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
    const run = validateCommand(['--validate', '--small', '--backend', 'memory'], deps);
    await entered;
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    process.emit('SIGTERM', 'SIGTERM');
    expect(await exited).toBe(143);
    release(new Error('stopped by the test'));
    await expect(run).rejects.toThrow('stopped by the test');
    expect(err).toMatch(/raceday: SIGTERM, stopping what this run started/);
    expect(err).toMatch(/plan --validate: interrupted before its table was complete: no table, no record/);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});

/**
 * A `node` on PATH older than the pinned 24 (bin/raceday.mjs then re-runs itself on the pinned one,
 * the path a user's `npx raceday` takes on such a machine), else this Node. PATH is searched entry
 * by entry: under npm the first `node` is the pinned one.
 */
function launcher(): { node: string; reexec: boolean } {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const node = join(dir, 'node');
    if (dir === '' || !existsSync(node)) continue;
    try {
      const major = Number(/^v(\d+)/.exec(execFileSync(node, ['--version'], { encoding: 'utf8' }).trim())?.[1]);
      if (major < 24) return { node, reexec: true };
    } catch {
      // Not runnable: the next one.
    }
  }
  return { node: process.execPath, reexec: false };
}

describe('the raceday command under SIGTERM', () => {
  it('stops a validation in progress through bin/raceday.mjs (re-run on the pinned Node or not): 143, the message, no table', async () => {
    const { node, reexec } = launcher();
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'raceday.mjs');
    const child = spawn(node, [bin, 'plan', '--validate', '--backend', 'memory'], { cwd: join(import.meta.dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => void (out += String(c)));
    const calibrating = new Promise<void>((resolve) => child.stderr.on('data', (c: Buffer) => ((err += String(c)), /validate: calibration 1\//.test(err) ? resolve() : undefined)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await calibrating;
    child.kill('SIGTERM'); // to the process the user started: the wrapper when it re-runs itself
    expect(await exited).toBe(143);
    expect(err).toMatch(/plan --validate: interrupted before its table was complete: no table, no record/);
    expect(out).toBe('');
    // Re-run on the pinned Node, the wrapper answers only once the process doing the work has ended.
    if (reexec) expect(err).not.toMatch(/validate: held-out/);
  }, 120_000);
});
