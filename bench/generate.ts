// `raceday bench generate`: generation speed to /dev/null (the bytes are built and written, the
// disk is out of the picture). Prints ticketsPerSecond, seconds and rssMbMax (peak RSS of this process).
import { openSync, closeSync } from 'node:fs';
import { parseArgs, UsageError, withUsage } from '../cmdline/args.ts';
import { defaultWorkers, generateJsonlParallel } from '../scenarios/parallel.ts';
import { fdSink } from '../scenarios/sink.ts';
import { loadScenario, ScenarioError } from '../scenarios/spec.ts';

export const usage = `usage: raceday bench generate [--scenario NAME|FILE] [--seed N] [--workers N] [--json]

Generates the scenario (default grand-prix: 20,000,000 tickets) to /dev/null and reports
tickets, seconds, ticketsPerSecond and rssMbMax; --json prints one JSON object. --workers sets
the serializer threads (default: cores - 1, at most 4; 0 = everything on one thread).`;

export async function runBench(argv: readonly string[]): Promise<number> {
  return withUsage(usage, async () => {
    const { flags, positionals } = parseArgs(argv, {
      scenario: { type: 'string' },
      seed: { type: 'int', min: 0, max: 2 ** 32 - 1 },
      json: { type: 'boolean' },
      workers: { type: 'int', min: 0, max: 16 },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    let spec;
    try {
      spec = loadScenario(typeof flags.scenario === 'string' ? flags.scenario : 'grand-prix');
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      process.stderr.write(`raceday bench generate: ${e.message}\n`);
      return 2;
    }
    const fd = openSync('/dev/null', 'w');
    const workers = typeof flags.workers === 'number' ? flags.workers : defaultWorkers();
    const s = await generateJsonlParallel(spec, typeof flags.seed === 'number' ? flags.seed : 1, { sink: fdSink(fd), workers });
    closeSync(fd);
    const result = {
      bench: 'generate',
      scenario: s.scenario,
      seed: s.seed,
      tickets: s.tickets,
      users: s.users,
      bytes: s.bytes,
      seconds: s.seconds,
      ticketsPerSecond: s.ticketsPerSecond,
      rssMbMax: s.rssMbMax,
      workers,
      node: process.version,
    };
    if (flags.json === true) process.stdout.write(`${JSON.stringify(result)}\n`);
    else process.stdout.write(`generate ${s.scenario}: ${s.tickets.toLocaleString('en-US')} tickets in ${s.seconds} s = ${s.ticketsPerSecond.toLocaleString('en-US')} tickets/s, peak RSS ${s.rssMbMax} MB\n`);
    return 0;
  });
}
