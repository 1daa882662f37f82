// A TEST KNOB, not a feature: a deliberate, proportional slowdown (variant setting `testSlowdown`,
// docs/gate.md), so the gate's statistics can be shown to catch a regression of known size.
//
// While it is on, the process does `fraction` extra busy work on its event loop for every
// millisecond of its own work: it reads how long the loop was busy (event-loop utilisation) and
// spins for `fraction` of that, counting only the work that is not its own spinning. Every
// handler of every stage on the in-process backends runs on this one loop, so a run bound by the
// loop gets about `fraction` longer (0.25: 25%), whatever its handlers spend their time on; a run
// that waits on an emulator slows down less (only its own share of the work is taxed).
import { performance } from 'node:perf_hooks';

/** How often the debt is paid: often enough that the extra work is spread through the run. */
const TICK_MS = 2;
export const TEST_SLOWDOWN_MAX = 4;

export interface Slowdown {
  /** Milliseconds spun so far. */
  spentMs(): number;
  stop(): void;
}

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose: this is the extra work
  }
}

export function startSlowdown(fraction: number): Slowdown {
  if (!(fraction >= 0 && fraction <= TEST_SLOWDOWN_MAX)) throw new RangeError(`testSlowdown must be within 0..${TEST_SLOWDOWN_MAX}, got ${fraction}`);
  let spent = 0;
  if (fraction === 0) return { spentMs: () => 0, stop: () => undefined };
  let last = performance.eventLoopUtilization();
  let spentAtLast = 0;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busyMs = performance.eventLoopUtilization(now, last).active;
    last = now;
    // The loop's busy time includes the spinning done since the last reading: only the rest is owed on.
    const ownWork = Math.max(0, busyMs - (spent - spentAtLast));
    spentAtLast = spent;
    const owed = ownWork * fraction;
    spin(owed);
    spent += owed;
  }, TICK_MS);
  return {
    spentMs: () => spent,
    stop: () => clearInterval(timer),
  };
}
