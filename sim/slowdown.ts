// A TEST KNOB, not a feature: a deliberate, proportional slowdown (variant setting `testSlowdown`,
// docs/gate.md), so the gate's statistics can be shown to catch a regression of known size.
//
// While it is on, the process does `fraction` extra busy work for every millisecond of CPU time it
// spends itself on its main thread: every few milliseconds it reads that thread's CPU time
// (process.threadCpuUsage; the garbage collector's helper threads are not taxed) and spins until
// it has burnt `fraction` of what it used since the last reading (its own spinning not counted).
// Every handler of every stage on the in-process backends runs in this process, so its CPU time
// grows by `fraction` (0.25: 25%) whatever the handlers spend their time on, and so does the wall
// time of a run bound by its CPU; a run that waits on an emulator slows down less.

/** How often the debt is paid: often enough that the extra work is spread through the run. */
const TICK_MS = 2;
export const TEST_SLOWDOWN_MAX = 4;

export interface Slowdown {
  /** Milliseconds spun so far. */
  spentMs(): number;
  stop(): void;
}

const cpuMsNow = (): number => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};

/** Burns at least `ms` of CPU time (not wall time: on a busy machine the spinning is descheduled too). */
function spin(ms: number): void {
  const until = cpuMsNow() + ms;
  while (cpuMsNow() < until) {
    // busy on purpose: this is the extra work
  }
}

export function startSlowdown(fraction: number): Slowdown {
  if (!(fraction >= 0 && fraction <= TEST_SLOWDOWN_MAX)) throw new RangeError(`testSlowdown must be within 0..${TEST_SLOWDOWN_MAX}, got ${fraction}`);
  let spent = 0;
  if (fraction === 0) return { spentMs: () => 0, stop: () => undefined };
  // The thread's CPU clock advances in scheduler ticks (4 ms here), so a spin overshoots what it
  // owed: the work actually spun is measured and the excess is credited against the next debt.
  let debt = 0;
  let last = cpuMsNow();
  const pay = (): void => {
    const before = cpuMsNow();
    debt += Math.max(0, before - last) * fraction;
    if (debt > 0) spin(debt);
    // Read after spinning: the spinning is not work the next tick owes on.
    last = cpuMsNow();
    debt -= last - before;
    spent += last - before;
  };
  const timer = setInterval(pay, TICK_MS);
  return {
    spentMs: () => spent,
    // The work since the last tick is paid too: a long synchronous stretch at the end (the
    // checkers reading the final state) would otherwise go untaxed.
    stop: () => {
      clearInterval(timer);
      pay();
    },
  };
}
