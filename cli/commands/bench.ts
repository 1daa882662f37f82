// `raceday bench <target>`: each target is a module bench/<target>.ts exporting `runBench(argv)`
// that prints one JSON object (with --json) and returns the exit code.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from '../main.ts';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench');

function targets(): string[] {
  if (!existsSync(benchDir)) return [];
  return readdirSync(benchDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.startsWith('_'))
    .map((f) => f.slice(0, -3))
    .sort();
}

const usage = () => `usage: raceday bench <target> [options] [--json]

targets: ${targets().join(', ') || '(none)'}
Each target prints one JSON object with --json; run "raceday bench <target> --help" for its options.`;

export const command: CommandModule = {
  summary: 'measure throughput and latency (core, memory, emulators, generate, ...) as JSON',
  get usage() {
    return usage();
  },
  async run(argv) {
    const [target, ...rest] = argv;
    if (target === undefined || !targets().includes(target)) {
      const what = target === undefined ? 'missing target' : `unknown target "${target}"`;
      process.stderr.write(`raceday bench: ${what} (one of ${targets().join(', ')}; raceday help bench lists them)\n`);
      return 2;
    }
    const mod = (await import(join(benchDir, `${target}.ts`))) as { runBench(argv: readonly string[]): Promise<number> };
    return mod.runBench(rest);
  },
};
