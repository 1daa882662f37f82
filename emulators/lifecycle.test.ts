// Proves the emulator lifecycle on the installed emulators: `auto` picks `local` here and says so;
// stopping a handle kills its own processes and nothing else (another handle's emulator and a pid
// that is not ours survive); `raceday emulators start|status|env|stop` leave emulators running in
// the background, recorded in a state file that a later ensureEmulators reuses without owning;
// `external` uses endpoints from the environment; the containers strategy fails with a clear
// message where no Docker runs; and a parent killed by SIGKILL or Ctrl-C (SIGINT) leaves no orphan.
// Every test uses its own state directory, so emulators that other people run are never touched.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import { ensureEmulators, EmulatorsUnavailableError, readState, stopRecorded, type EmulatorHandle } from './index.ts';
import { isAlive } from './processes.ts';
import { probePubSub, probeSpanner } from './readiness.ts';
import { writeState } from './state.ts';
import { describeWithEmulators } from './test-support.ts';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..');
const tmpRoots: string[] = [];
function tmpState(): string {
  const dir = mkdtempSync(join(tmpdir(), 'raceday-emu-'));
  tmpRoots.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the CLI with its own state directory; resolves to exit code and output. */
async function cli(stateDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, RACEDAY_STATE_DIR: stateDir };
  try {
    const { stdout, stderr } = await run(process.execPath, [join(repoRoot, 'bin', 'raceday.mjs'), 'emulators', ...args], { env, cwd: repoRoot });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

function withoutEmulatorEnv<T>(body: () => Promise<T>): Promise<T> {
  const saved = { p: process.env.PUBSUB_EMULATOR_HOST, s: process.env.SPANNER_EMULATOR_HOST };
  delete process.env.PUBSUB_EMULATOR_HOST;
  delete process.env.SPANNER_EMULATOR_HOST;
  return body().finally(() => {
    if (saved.p !== undefined) process.env.PUBSUB_EMULATOR_HOST = saved.p;
    if (saved.s !== undefined) process.env.SPANNER_EMULATOR_HOST = saved.s;
  });
}

describeWithEmulators('emulator lifecycle', () => {
  it.concurrent('auto picks local; stop kills only this handle’s processes; external reuses given endpoints', async () => {
    const lines: string[] = [];
    const [a, b] = await withoutEmulatorEnv(() =>
      Promise.all([
        ensureEmulators({ stateDir: tmpState(), reuse: false, log: (l) => lines.push(l) }),
        ensureEmulators({ strategy: 'local', pubsub: false, stateDir: tmpState(), reuse: false }),
      ]),
    );
    const decoy = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      expect(a.strategy).toBe('local');
      expect(lines.some((l) => l.includes('using local'))).toBe(true);
      expect(a.pids).toHaveLength(2);
      expect(a.env.PUBSUB_EMULATOR_HOST).toBe(a.pubsubHost);
      expect(a.env.GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS_FOR_RW).toBe('false');
      expect(await probePubSub(a.pubsubHost as string, a.projectId)).toBe(true);

      // external: the endpoint a user exported is used as is, and its handle stops nothing.
      process.env.PUBSUB_EMULATOR_HOST = a.pubsubHost;
      const ext = await ensureEmulators({ strategy: 'external', spanner: false, stateDir: tmpState() }).finally(() => delete process.env.PUBSUB_EMULATOR_HOST);
      expect(ext.strategy).toBe('external');
      expect(ext.pubsubHost).toBe(a.pubsubHost);
      await ext.stop();
      expect(await probePubSub(a.pubsubHost as string, a.projectId)).toBe(true);

      await a.stop();
      for (const pid of a.pids) expect(isAlive(pid)).toBe(false);
      expect(isAlive(decoy.pid as number)).toBe(true);
      for (const pid of b.pids) expect(isAlive(pid)).toBe(true);
      expect(await probeSpanner(b.spannerHost as string, b.projectId)).toBe(true);
    } finally {
      decoy.kill('SIGKILL');
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it.concurrent('CLI start/status/env/stop keeps background emulators that later runs reuse', async () => {
    const dir = tmpState();
    const started = await cli(dir, 'start', '--strategy', 'local', '--no-provision');
    expect(started.code, started.stderr).toBe(0);
    let reused: EmulatorHandle | undefined;
    try {
      const status = await cli(dir, 'status');
      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/running \(local/);
      const env = await cli(dir, 'env');
      expect(env.code).toBe(0);
      expect(env.stdout).toMatch(/^export PUBSUB_EMULATOR_HOST=127\.0\.0\.1:\d+$/m);
      expect(env.stdout).toMatch(/^export SPANNER_EMULATOR_HOST=127\.0\.0\.1:\d+$/m);
      expect(env.stdout).toMatch(/^export GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS_PARTITIONED_OPS=false$/m);

      reused = await ensureEmulators({ stateDir: dir }); // the state file comes first, before any strategy
      expect(reused.reused).toBe(true);
      expect(env.stdout).toContain(`PUBSUB_EMULATOR_HOST=${reused.pubsubHost}`);
      await reused.stop(); // not ours to stop
      for (const pid of reused.pids) expect(isAlive(pid)).toBe(true);
    } finally {
      const stopped = await cli(dir, 'stop');
      expect(stopped.stderr).toMatch(/stopped pubsub, spanner|stopped spanner, pubsub/);
    }
    for (const pid of reused?.pids ?? []) expect(isAlive(pid)).toBe(false);
    expect((await cli(dir, 'status')).code).toBe(1);
    expect((await cli(dir, 'env')).code).toBe(1);
  });

  it('stop leaves a recorded pid alone when it no longer runs our emulator', async () => {
    const dir = tmpState();
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const pid = stranger.pid as number;
      writeState(join(dir, 'emulators'), {
        version: 1, strategy: 'local', projectId: 'p', spannerInstance: 'i', processes: [{ name: 'spanner', pid, cmdlineMarker: 'emulator_main', logFile: '/dev/null' }],
        containerIds: [], startedAt: new Date().toISOString(),
      });
      expect(await stopRecorded(dir)).toEqual([]);
      expect(isAlive(pid)).toBe(true);
      expect(readState(join(dir, 'emulators'))).toBeUndefined();
    } finally {
      stranger.kill('SIGKILL');
    }
  });

  it.concurrent.each(['SIGKILL', 'SIGINT'] as const)('an emulator dies with its parent (%s)', async (signal) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'hold-emulators.ts'), tmpState()], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`fixture exited with ${code} before printing pids`)));
    });
    const { pids } = JSON.parse(firstLine) as { pids: number[] };
    expect(pids).toHaveLength(1);
    expect(pids.every(isAlive)).toBe(true);
    child.kill(signal);
    await eventually(`emulator pids ${pids.join(',')} to die after ${signal}`, () => !pids.some(isAlive));
    expect(pids.some(isAlive)).toBe(false);
  });

  it('containers fails with a clear message where no Docker runs (or works where it does)', async () => {
    try {
      const h = await ensureEmulators({ strategy: 'containers', stateDir: tmpState(), reuse: false });
      expect(h.strategy).toBe('containers'); // a machine with Docker: the containers answered
      await h.stop();
    } catch (e) {
      expect(e).toBeInstanceOf(EmulatorsUnavailableError);
      expect((e as Error).message).toMatch(/containers: no Docker engine reachable/);
      expect((e as Error).message).toMatch(/fix: start a Docker engine/);
    }
  });

  it('with nothing available, one message names every strategy tried and its fix', async () => {
    const saved = process.env.RACEDAY_GCLOUD_SDK_ROOT;
    process.env.RACEDAY_GCLOUD_SDK_ROOT = join(tmpState(), 'no-sdk-here');
    try {
      const error = await withoutEmulatorEnv(() => ensureEmulators({ stateDir: tmpState(), reuse: false }).then(() => undefined, (e: unknown) => e));
      expect(error).toBeInstanceOf(EmulatorsUnavailableError);
      const message = (error as Error).message;
      expect(message).toMatch(/tried local, containers, external/);
      for (const fix of [/RACEDAY_GCLOUD_SDK_ROOT/, /Docker engine/, /export PUBSUB_EMULATOR_HOST/]) expect(message).toMatch(fix);
    } finally {
      if (saved === undefined) delete process.env.RACEDAY_GCLOUD_SDK_ROOT;
      else process.env.RACEDAY_GCLOUD_SDK_ROOT = saved;
    }
  });
});
