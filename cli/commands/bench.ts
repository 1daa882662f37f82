// `raceday bench <target>`: each target is a module bench/<target>.ts exporting `runBench(argv)`
// that prints one JSON object (with --json) and returns the exit code.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from '../main.ts';
import { runBenchRecorded, takeOutOption } from '../run-record.ts';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench');

/** The targets: modules bench/<target>.ts exporting runBench and usage (the folder also holds their helpers). */
export const BENCH_TARGETS = ['core', 'emulators', 'gate', 'gateway', 'generate', 'memory', 'outputs', 'report', 'run'] as const;

interface BenchModule {
  readonly usage: string;
  runBench(argv: readonly string[]): Promise<number>;
}

function targets(): readonly string[] {
  return BENCH_TARGETS;
}

async function loadTarget(target: string): Promise<BenchModule> {
  return (await import(join(benchDir, `${target}.ts`))) as BenchModule;
}

const usage = () => `usage: raceday bench <target> [options] [--json]

targets: ${targets().join(', ') || '(none)'}
Each target prints one JSON object with --json; run "raceday bench <target> --help" for its options.
--out DIR (any target) also writes the run record DIR/metrics.json (the printed numbers as figures,
the latencies of its real-time runs per interval) and every output made from it.`;

export const command: CommandModule = {
  summary: 'measure throughput and latency (core, memory, emulators, generate, ...) as JSON',
  get usage() {
    return usage();
  },
  async helpFor(argv) {
    const [target] = argv;
    return target !== undefined && targets().includes(target) ? (await loadTarget(target)).usage : undefined;
  },
  async run(argv) {
    const [target, ...rest] = argv;
    if (target === undefined || !targets().includes(target)) {
      const what = target === undefined ? 'missing target' : `unknown target "${target}"`;
      process.stderr.write(`raceday bench: ${what} (one of ${targets().join(', ')}; raceday help bench lists them)\n`);
      return 2;
    }
    const { argv: targetArgv, out, error } = takeOutOption(rest);
    if (error !== undefined) {
      process.stderr.write(`raceday bench ${target}: ${error} (raceday help bench lists the options)\n`);
      return 2;
    }
    const bench = await loadTarget(target);
    return out === undefined ? bench.runBench(targetArgv) : runBenchRecorded(target, targetArgv, out, (a) => bench.runBench(a));
  },
};
