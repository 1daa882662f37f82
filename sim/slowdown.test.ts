// The test knob's accounting: with testSlowdown F the main thread burns F times the CPU time it
// used itself, not counting its own spinning. Checked as a ratio of CPU times (both sides
// measured on the same thread), so a busy machine does not change the answer.
import { describe, expect, it } from 'vitest';
import { startSlowdown } from './slowdown.ts';

const threadCpuMs = (): number => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};

/** About `ms` of CPU work in 1 ms slices, yielding between them so the knob's timer can run. */
async function work(ms: number): Promise<void> {
  const end = threadCpuMs() + ms;
  while (threadCpuMs() < end) {
    const slice = threadCpuMs() + 1;
    let x = 0;
    while (threadCpuMs() < slice) x += Math.sqrt(x + 1);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('testSlowdown', () => {
  it('spins for the given fraction of the thread\'s own CPU time', async () => {
    const start = threadCpuMs();
    const slowdown = startSlowdown(0.5);
    await work(200);
    slowdown.stop();
    const total = threadCpuMs() - start;
    const own = total - slowdown.spentMs();
    expect(slowdown.spentMs() / own).toBeGreaterThan(0.42);
    expect(slowdown.spentMs() / own).toBeLessThan(0.58);
  });

  it('stopping pays for the work done since the last tick (a synchronous stretch at the end)', () => {
    const start = threadCpuMs();
    const slowdown = startSlowdown(0.5);
    const end = threadCpuMs() + 60;
    let x = 0;
    while (threadCpuMs() < end) x += Math.sqrt(x + 1); // no timer can run in here
    slowdown.stop();
    const own = threadCpuMs() - start - slowdown.spentMs();
    expect(slowdown.spentMs() / own).toBeGreaterThan(0.4);
    expect(slowdown.spentMs() / own).toBeLessThan(0.65);
  });

  it('does nothing at 0 and refuses a fraction out of range', async () => {
    const none = startSlowdown(0);
    await work(20);
    none.stop();
    expect(none.spentMs()).toBe(0);
    expect(() => startSlowdown(5)).toThrow(/testSlowdown must be within 0\.\.4/);
    expect(() => startSlowdown(-0.1)).toThrow(RangeError);
  });
});
