// `raceday generate`: writes a seeded synthetic race day as JSON Lines (record kinds are listed
// in scenarios/generate.ts and in the usage text below).
import { dirname } from 'node:path';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import type { CommandModule } from '../main.ts';
import { defaultWorkers, generateJsonlParallel } from '../../scenarios/parallel.ts';
import { openOutput, progressEnabled, progressLine } from '../../scenarios/sink.ts';
import { loadScenario, presetNames, ScenarioError } from '../../scenarios/spec.ts';

const usage = `usage: raceday generate --scenario NAME|FILE [--seed N] --out FILE|- [--workers N] [--json]

Writes a synthetic race day as JSON Lines, the same bytes for the same scenario, seed and version.
  --scenario  a preset (${presetNames().join(', ')}) or a JSON scenario file
  --seed      integer seed (default 1)
  --out       output file, or - for standard output
  --workers   serializer threads (default ${defaultWorkers()}: cores - 1, at most 4; 0 = one thread);
              the bytes are the same for any count
  --json      print a summary {tickets, ticketsPerSecond, rssMbMax, ...} as JSON: to standard
              output, or to standard error when --out - (standard output then carries the data)

Records, one JSON object a line, "kind" first:
  scenario  name, seed, generatorVersion, races, users, tickets, medalShare   (first line)
  race      raceId, venue, sport, riders, opensAtMs, closeAtMs, postAtMs, resultAtMs, tickets
  user      userId, cash, medals                              (opening balances)
  ticket    raceId, ticketId, userId, betType, combination, currency, stake, placedAtMs
  close     raceId, atMs                                      (betting closes)
  result    raceId, atMs, sport, riders, scratched, result, pools[, returnRate]
            (sport..returnRate form one input line of "raceday payout"; pools = cash tickets + outside sales)
  end       tickets, cashTickets, medalTickets                (last line)
Tickets, close and result records are in time order (ms on the scenario clock, 0 = 00:00).
Progress goes to standard error on a terminal (not when CI is set).`;

/** An output that cannot be opened is the caller's to fix: one line naming the file and why, exit 2. */
function openOrRefuse(target: string): ReturnType<typeof openOutput> {
  try {
    return openOutput(target);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === undefined) throw e;
    const why = err.code === 'ENOENT' ? `directory ${dirname(target)} does not exist` : err.code === 'EISDIR' ? 'it is a directory' : err.code === 'EACCES' ? 'permission denied' : err.code;
    throw new UsageError(`cannot write --out ${target}: ${why} (give a writable file, or - for standard output)`);
  }
}

export const command: CommandModule = {
  summary: 'write a seeded synthetic race day (races, users, tickets, results) as JSON Lines',
  usage,
  run: (argv) =>
    withUsage(usage, async () => {
      const { flags, positionals } = parseArgs(argv, {
        scenario: { type: 'string' },
        seed: { type: 'int', min: 0, max: 2 ** 32 - 1 },
        out: { type: 'string' },
        json: { type: 'boolean' },
        workers: { type: 'int', min: 0, max: 16 },
      });
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      if (typeof flags.scenario !== 'string') throw new UsageError('--scenario is required');
      if (typeof flags.out !== 'string') throw new UsageError('--out is required (a file, or - for standard output)');
      const seed = typeof flags.seed === 'number' ? flags.seed : 1;
      let spec;
      try {
        spec = loadScenario(flags.scenario);
      } catch (e) {
        if (!(e instanceof ScenarioError)) throw e;
        process.stderr.write(`raceday generate: ${e.message}\n`);
        return 2;
      }
      const out = openOrRefuse(flags.out);
      const progress = progressEnabled();
      let summary;
      try {
        summary = await generateJsonlParallel(spec, seed, {
          sink: out.sink,
          workers: typeof flags.workers === 'number' ? flags.workers : defaultWorkers(),
          ...(progress ? { onProgress: (done: number, total: number) => progressLine(`generating ${spec.name}`, done, total) } : {}),
        });
      } catch (e) {
        // A reader that closes the pipe early (`| head`) ends the run quietly, as for any Unix filter.
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
        throw e;
      }
      out.close();
      if (progress) process.stderr.write('\n');
      if (flags.json === true) {
        const text = `${JSON.stringify({ ...summary, out: flags.out })}\n`;
        if (flags.out === '-') process.stderr.write(text);
        else process.stdout.write(text);
      }
      return 0;
    }),
};
