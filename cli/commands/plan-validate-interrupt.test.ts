// SIGTERM and Ctrl-C during `raceday plan --validate`: the command stops (the emulator pair it
// started is stopped, a reused one left alone), says no table was made and exits 143 / 130. The
// Spanner client's own signal listeners do not exit, which is why the command needs its own.
// process.exit is stubbed: the handler's exit code is read instead of ending the test worker.
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
