// SIGTERM/SIGINT to a chaos run stop everything it started and exit 143/130. Without the handlers
// Node exits at once on SIGTERM and a child in its own process group (every fleet member is one)
// outlives it: the orphan this guards against.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./_fixtures/interrupt-parent.ts', import.meta.url));
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function signalled(signal: 'SIGTERM' | 'SIGINT', mode = 'guarded'): Promise<{ code: number | null; signal: string | null; childAlive: boolean }> {
  const parent = spawn(process.execPath, ['--import', 'tsx', FIXTURE, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(parent, 'exit');
  const [line] = (await once(createInterface({ input: parent.stdout! }), 'line')) as [string];
  const childPid = (JSON.parse(line) as { child: number }).child;
  expect(alive(childPid)).toBe(true);
  parent.kill(signal);
  const [code, sig] = (await exited) as [number | null, string | null];
  await new Promise((r) => setTimeout(r, 300));
  const childAlive = alive(childPid);
  if (childAlive) process.kill(childPid, 'SIGKILL'); // the test's own leftover, never left behind
  return { code, signal: sig, childAlive };
}

describe('interrupting a chaos run', () => {
  it('SIGTERM stops the registered child and exits 143', async () => {
    expect(await signalled('SIGTERM')).toEqual({ code: 143, signal: null, childAlive: false });
  }, 30_000);

  it('SIGINT stops the registered child and exits 130', async () => {
    expect(await signalled('SIGINT')).toEqual({ code: 130, signal: null, childAlive: false });
  }, 30_000);

  it('without the handlers the child outlives its parent (what happened before)', async () => {
    const r = await signalled('SIGTERM', 'unguarded');
    expect(r.signal).toBe('SIGTERM');
    expect(r.childAlive).toBe(true);
  }, 30_000);
});
