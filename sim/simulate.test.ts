// Proves the pipeline keeps every invariant under faults: 200 seeded worlds (duplicate delivery,
// reordering, lost acks, late delivery, crashes, restarts, aborts, poison) each end with zero
// checker violations, and a seed replays to the same trace hash while another seed does not.
import { describe, expect, it } from 'vitest';
import { replayCommand, simulate } from './simulate.ts';

const SEEDS = 200;

describe('deterministic simulation of the smoke race day', () => {
  it(`finds no violation in ${SEEDS} seeds with faults on`, async () => {
    const failures: string[] = [];
    const variants = new Set<string>();
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await simulate({ seed });
      variants.add(r.variants);
      if (r.violations.length > 0) failures.push(`${replayCommand({ seed })}: ${r.violations.map((v) => `[${v.checker}] ${v.message}`).join('; ')}`);
    }
    expect(failures).toEqual([]);
    // The seeds cover every design variant, not just the reference one.
    for (const v of ['per-user/after-commit/objects', 'per-user/outbox/objects', 'per-user/after-commit/columns', 'single-worker/after-commit/objects']) expect(variants).toContain(v);
    expect([...variants].some((v) => v.startsWith('user-batch:'))).toBe(true);
  });

  it('replays a seed byte for byte and tells seeds apart', async () => {
    const a = await simulate({ seed: 42, keepTrace: true });
    const b = await simulate({ seed: 42, keepTrace: true });
    const c = await simulate({ seed: 43 });
    expect(b.trace).toEqual(a.trace);
    expect(b.traceHash).toBe(a.traceHash);
    expect(c.traceHash).not.toBe(a.traceHash);
    expect(a.events).toBeGreaterThan(100);
  });

  it('runs every variant without faults as a baseline', async () => {
    for (const fanout of [{ kind: 'per-user' }, { kind: 'user-batch', usersPerMessage: 7 }, { kind: 'single-worker' }] as const) {
      for (const notify of ['after-commit', 'outbox'] as const) {
        for (const settlePath of ['objects', 'columns'] as const) {
          const r = await simulate({ seed: 7, faults: false, fanout, notify, settlePath });
          expect(r.violations, `${fanout.kind}/${notify}/${settlePath}`).toEqual([]);
        }
      }
    }
  });
});

describe('work that crashes on every delivery attempt (the doom fault)', () => {
  it('is dead-lettered by the bus itself, its users end terminal, and a seed with it is clean; without the intake marking them it is caught', async () => {
    let found: Awaited<ReturnType<typeof simulate>> | undefined;
    for (let seed = 1; seed <= 40 && found === undefined; seed++) {
      const r = await simulate({ seed });
      // Both kinds: a user never settled (left out) and a settled one whose post-settle ran out.
      if (r.exhaustedLeftOut > 0 && r.exhaustedUsers > r.exhaustedLeftOut) found = r;
    }
    expect(found, 'no seed in 40 doomed both a settle request and a settled message').toBeDefined();
    const r = found as NonNullable<typeof found>;
    expect(r.violations).toEqual([]);
    const broken = await simulate({ seed: r.seed, broken: 'dead-letters-not-terminal' });
    expect(broken.violations.map((v) => v.checker)).toContain('terminal');
    expect(broken.violations.some((v) => /ranking of \S+ was never (published|shown)/.test(v.message))).toBe(true);
  });
});
