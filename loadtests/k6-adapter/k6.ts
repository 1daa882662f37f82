// TEST ADAPTER, not k6: the `k6` module's check, sleep, fail and group.
export const checks = new Map<string, { passes: number; fails: number }>();

export function check<T>(value: T, sets: Record<string, (v: T) => boolean>): boolean {
  let all = true;
  for (const [name, fn] of Object.entries(sets)) {
    let passed: boolean;
    try {
      passed = fn(value) === true;
    } catch {
      passed = false;
    }
    const c = checks.get(name) ?? { passes: 0, fails: 0 };
    if (passed) c.passes++;
    else c.fails++;
    checks.set(name, c);
    all &&= passed;
  }
  return all;
}

/** Blocks the VU like k6's sleep (seconds). */
export function sleep(seconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, seconds * 1000));
}

export function fail(message?: string): never {
  throw new Error(message ?? 'fail() called');
}

export function group<T>(_name: string, fn: () => T): T {
  return fn();
}

export default { check, sleep, fail, group };
