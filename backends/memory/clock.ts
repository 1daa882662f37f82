// Clocks for the memory backend. The virtual clock runs a program in simulated time: sleeps and
// timers wait in a heap ordered by (due time, registration order), and `runUntilIdle` lets every
// pending promise chain run before it jumps to the next timer, so one seed replays one trace.
// The real clock is a thin wrapper over setTimeout/setImmediate with the same scheduling API.
import type { Clock } from '../../core/ports.ts';

/** A clock that can also schedule cancellable callbacks (the bus arms ack-deadline timers with it). */
export interface SchedulingClock extends Clock {
  /** Calls `fn` after `delayMs`; the returned function cancels it (a no-op once it fired). */
  schedule(delayMs: number, fn: () => void): () => void;
}

export interface RunUntilIdleOptions {
  /** Stop after firing this many timers (a guard against programs that never go idle). */
  readonly maxSteps?: number;
  /** Stop before firing a timer due later than start + this. */
  readonly maxVirtualMs?: number;
}

export interface RunUntilIdleResult {
  /** True when nothing was pending at the end (no timer left). */
  readonly idle: boolean;
  readonly steps: number;
  readonly nowMs: number;
}

export interface VirtualClock extends SchedulingClock {
  runUntilIdle(options?: RunUntilIdleOptions): Promise<RunUntilIdleResult>;
  /** Timers registered and not yet fired or cancelled. */
  pendingTimers(): number;
}

const DEFAULT_MAX_STEPS = 10_000_000;
/** setImmediate turns per drain before giving up on quiescence (a program that keeps yielding). */
const MAX_DRAIN_TURNS = 1_000;

interface Timer {
  readonly atMs: number;
  readonly seq: number;
  fn: (() => void) | undefined;
}

function earlier(a: Timer, b: Timer): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}

/** A binary min-heap of timers; cancelled timers stay in it with `fn` cleared and are skipped. */
class TimerHeap {
  private readonly items: Timer[] = [];

  get size(): number {
    return this.items.length;
  }

  push(t: Timer): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!earlier(a[i] as Timer, a[p] as Timer)) break;
      [a[i], a[p]] = [a[p] as Timer, a[i] as Timer];
      i = p;
    }
  }

  peek(): Timer | undefined {
    return this.items[0];
  }

  pop(): Timer | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && earlier(a[l] as Timer, a[m] as Timer)) m = l;
        if (r < a.length && earlier(a[r] as Timer, a[m] as Timer)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m] as Timer, a[i] as Timer];
        i = m;
      }
    }
    return top;
  }
}

function checkDelay(delayMs: number): number {
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new Error(`invariant violated: delayMs must be a finite number >= 0, got ${delayMs}`);
  return delayMs;
}

/**
 * A clock in virtual time. Nothing advances by itself: `runUntilIdle` drains the promise and
 * setImmediate queues, then fires the earliest timer (equal times fire in registration order),
 * and repeats until no timer is left. The program under test must not wait on real I/O.
 */
export function createVirtualClock(startMs = 0): VirtualClock {
  let now = startMs;
  let seq = 0;
  let live = 0;
  const heap = new TimerHeap();

  const schedule = (delayMs: number, fn: () => void): (() => void) => {
    const timer: Timer = { atMs: now + checkDelay(delayMs), seq: seq++, fn };
    heap.push(timer);
    live++;
    return () => {
      if (timer.fn !== undefined) {
        timer.fn = undefined;
        live--;
      }
    };
  };

  /** Lets every runnable continuation run: loops setImmediate turns until a turn registers no timer. */
  const drain = async (): Promise<void> => {
    for (let turn = 0; turn < MAX_DRAIN_TURNS; turn++) {
      const before = seq;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (seq === before) return;
    }
  };

  const nextLive = (): Timer | undefined => {
    for (let t = heap.peek(); t !== undefined; t = heap.peek()) {
      if (t.fn !== undefined) return t;
      heap.pop();
    }
    return undefined;
  };

  return {
    nowMs: () => now,
    sleep: (ms) => new Promise<void>((resolve) => schedule(ms, resolve)),
    schedule,
    pendingTimers: () => live,
    async runUntilIdle(options = {}) {
      const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
      const untilMs = options.maxVirtualMs === undefined ? Infinity : now + options.maxVirtualMs;
      let steps = 0;
      for (;;) {
        await drain();
        const t = nextLive();
        if (t === undefined) return { idle: true, steps, nowMs: now };
        if (steps >= maxSteps || t.atMs > untilMs) return { idle: false, steps, nowMs: now };
        heap.pop();
        const fn = t.fn as () => void;
        t.fn = undefined;
        live--;
        now = Math.max(now, t.atMs);
        steps++;
        fn();
      }
    },
  };
}

/** Wall-clock time (Date.now) with real timers. */
export function createRealClock(): SchedulingClock {
  const schedule = (delayMs: number, fn: () => void): (() => void) => {
    if (checkDelay(delayMs) === 0) {
      const h = setImmediate(fn);
      return () => clearImmediate(h);
    }
    const h = setTimeout(fn, delayMs);
    return () => clearTimeout(h);
  };
  return {
    nowMs: () => Date.now(),
    sleep: (ms) => new Promise<void>((resolve) => schedule(ms, resolve)),
    schedule,
  };
}

/** Uses the clock's own scheduler when it has one, else sleep with a cancelled flag. */
export function schedulerOf(clock: Clock): SchedulingClock['schedule'] {
  const maybe = clock as Partial<SchedulingClock>;
  if (typeof maybe.schedule === 'function') return maybe.schedule.bind(clock);
  return (delayMs, fn) => {
    let cancelled = false;
    void clock.sleep(delayMs).then(() => {
      if (!cancelled) fn();
    });
    return () => {
      cancelled = true;
    };
  };
}
