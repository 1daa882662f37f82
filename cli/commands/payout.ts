// `raceday payout`: the payout contract of docs/rules.md. JSON Lines in (one race a line), one JSON line out per
// race, computed by the pure core. Input is streamed line by line and output is written in chunks
// that respect back-pressure, so files of any size run in constant memory.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { canonicalJson, payoutContractOutput } from '../../core/payout-json.ts';
import { computePayoutTable } from '../../core/payout.ts';
import { parsePayoutRequest } from '../../core/pools-input.ts';
import type { DomainError } from '../../core/result.ts';
import { parseArgs, UsageError, withUsage } from '../args.ts';
import { boundedLines, LineTooLongError } from '../bounded-lines.ts';
import type { CommandModule } from '../main.ts';

/** One race line larger than this is rejected rather than parsed (a full 9-rider pool is ~15 KB). */
const LINE_CHARS_MAX = 4 * 1024 * 1024;
/** Output is gathered into chunks of about this size before writing to stdout. */
const OUTPUT_CHUNK_CHARS = 64 * 1024;

const usage = `usage: raceday payout [--file F]

Reads races as JSON Lines from F (or stdin) and prints, for each race, one line with the payout
of every bet type named in its pools (keys sorted, compact JSON), e.g.
  in:  {"sport":"keirin","riders":9,"scratched":[7],"result":{"status":"official","order":[[3],[1,5],[2]]},
        "pools":{"trifecta":{"3-1-5":12000,"3-5-1":8000,"7-3-1":3000},"wide":{"2=4":5000}},"returnRate":{"trifecta":"0.75"}}
  out: {"trifecta":{"kind":"paid","winners":{"3-1-5":...,"3-5-1":...}},"wide":{"kind":"special","per100":70}}
kind is paid (winners: combination -> yen per 100, staked winners only), special (per100),
refunded, or no_sales.

Blank (whitespace-only) lines are skipped and print nothing, so output line n answers the n-th
non-blank input line. Pool amounts are non-negative integers of yen (any amount, not only
multiples of 100); scratched and returnRate (decimal strings per bet type) are optional.

Output streams: races before an invalid line have already been printed when it is met. On the
first invalid line raceday stops, prints "line N: <field path>: <reason> [<code>]" on stderr and
exits 2. Exit 0 when every line was valid.`;

function describe(lineNumber: number, e: DomainError): string {
  const where = e.path === undefined || e.path === '' ? '' : `${e.path}: `;
  return `line ${lineNumber}: ${where}${e.message} [${e.code}]`;
}

/** The output line for one input line, or the error that stops the run. */
export function payoutLine(line: string, lineNumber: number): { ok: true; text: string } | { ok: false; message: string } {
  if (line.length > LINE_CHARS_MAX) return { ok: false, message: `line ${lineNumber}: longer than ${LINE_CHARS_MAX} characters [INPUT.INVALID]` };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return { ok: false, message: `line ${lineNumber}: not valid JSON: ${(e as Error).message} [INPUT.INVALID]` };
  }
  const request = parsePayoutRequest(value);
  if (!request.ok) return { ok: false, message: describe(lineNumber, request.error) };
  const table = computePayoutTable(request.value);
  return { ok: true, text: canonicalJson(payoutContractOutput(table, request.value.betTypesInInput)) };
}

// A reader that closes the pipe early (`| head`) ends the run quietly, as for any Unix filter.
let stdoutClosed = false;

async function write(chunk: string): Promise<void> {
  if (chunk === '' || stdoutClosed) return;
  if (process.stdout.write(chunk)) return;
  await new Promise<void>((resolve) => {
    const done = (): void => {
      process.stdout.off('drain', done);
      process.stdout.off('error', done);
      resolve();
    };
    process.stdout.once('drain', done);
    process.stdout.once('error', done);
  });
}

async function runPayout(input: Readable): Promise<number> {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    stdoutClosed = true;
  });
  const lines = boundedLines(input, LINE_CHARS_MAX);
  let pending: string[] = [];
  let pendingChars = 0;
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      if (stdoutClosed) break;
      lineNumber++;
      if (line.trim() === '') continue;
      const out = payoutLine(line, lineNumber);
      if (!out.ok) {
        await write(pending.join(''));
        process.stderr.write(`raceday payout: ${out.message}\n`);
        return 2;
      }
      pending.push(out.text, '\n');
      pendingChars += out.text.length + 1;
      if (pendingChars >= OUTPUT_CHUNK_CHARS) {
        const chunk = pending.join('');
        pending = [];
        pendingChars = 0;
        await write(chunk);
      }
    }
  } catch (e) {
    await write(pending.join(''));
    if (e instanceof LineTooLongError) process.stderr.write(`raceday payout: ${e.message} [INPUT.INVALID]\n`);
    else process.stderr.write(`raceday payout: cannot read input: ${(e as Error).message}\n`);
    return 2;
  } finally {
    await lines.return(undefined);
    input.destroy();
  }
  await write(pending.join(''));
  return 0;
}

export const command: CommandModule = {
  summary: 'compute official payouts (per 100 yen) for races given as JSON Lines',
  usage,
  run: (argv) =>
    withUsage(usage, async () => {
      const { flags, positionals } = parseArgs(argv, { file: { type: 'string' } });
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const file = flags['file'];
      const input = typeof file === 'string' ? createReadStream(file) : process.stdin;
      return runPayout(input);
    }),
};
