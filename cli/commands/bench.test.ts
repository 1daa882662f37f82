// Proves `raceday bench` offers exactly the benchmark modules as targets (not their helpers in the
// same folder) and that `raceday bench <target> --help` prints that target's own options.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { capture } from '../_fixtures/capture.ts';
import { main } from '../main.ts';
import { BENCH_TARGETS } from './bench.ts';

const benchDir = join(import.meta.dirname, '..', '..', 'bench');

afterEach(() => vi.restoreAllMocks());

describe('raceday bench', () => {
  it('lists as targets exactly the modules that export runBench and their usage', () => {
    const modules = readdirSync(benchDir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .filter((f) => /export (async )?function runBench\(/.test(readFileSync(join(benchDir, f), 'utf8')))
      .map((f) => f.slice(0, -3))
      .sort();
    expect([...BENCH_TARGETS].sort()).toEqual(modules);
    for (const t of BENCH_TARGETS) expect(readFileSync(join(benchDir, `${t}.ts`), 'utf8')).toMatch(/^export const usage = `usage: raceday bench /m);
  });

  it('refuses a helper module as a target with exit 2', async () => {
    const r = await capture(() => main(['bench', 'full-work']));
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown target "full-work"');
  });

  it("prints a target's own options for --help, and the target list without one", async () => {
    for (const t of BENCH_TARGETS) {
      const r = await capture(() => main(['bench', t, '--help']));
      expect(r.code).toBe(0);
      expect(r.out).toContain(`usage: raceday bench ${t} `);
    }
    const all = await capture(() => main(['bench', '--help']));
    expect(all.out).toContain('targets: core, emulators, gate, gateway, generate, memory, outputs, report, run');
  });
});
